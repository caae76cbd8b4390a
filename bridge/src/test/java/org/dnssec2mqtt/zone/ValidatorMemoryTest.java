package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dnssec2mqtt.demo.DemoZone;
import org.xbill.DNS.DNSKEYRecord;
import org.junit.jupiter.api.Test;

/** What a zone's state keeps of a verified signature is tied to the exact RRset it covered. */
class ValidatorMemoryTest {
    static final Instant NOW = Signed.SIGNED_AT.plus(Duration.ofHours(1));

    @Test
    void aKeyAddedToARememberedSetIsNotCoveredByItsSignature() {
        ZoneSnapshot a = twoKeys();
        Validator v = new Validator();
        Validator.Result first = v.check(a, NOW, null);
        assertEquals("secure", first.result());
        // the same signature and key, over a set with one more key (not signed again)
        DemoZone other = Signed.zone();
        DNSKEYRecord extra = other.addKey(false, true).record();
        List<DNSKEYRecord> keys = new ArrayList<>(a.keys());
        keys.add(extra);
        assertEquals("bogus", v.check(Signed.withKeys(a, keys), NOW, first.verified()).result());
        assertEquals(2, v.verifications(), "the larger set was verified, not taken as the one verified before");
        assertEquals("secure", v.check(a, NOW, first.verified()).result(), "the signed set still is");
        assertEquals(2, v.verifications());
    }

    /** A KSK and a ZSK, signed. */
    static ZoneSnapshot twoKeys() {
        DemoZone z = Signed.zone();
        z.addKey(true, true);
        z.addKey(false, true);
        return Signed.snapshot(z);
    }

    @Test
    void aRememberedCheckTakesADigestNotTheWireForm() {
        ZoneSnapshot a = twoKeys();
        org.xbill.DNS.RRset set = new org.xbill.DNS.RRset();
        a.keys().forEach(set::addRR);
        DNSKEYRecord signer = a.keys().stream().filter(k -> k.getFootprint() == a.dnskeySigs().get(0).getFootprint())
                .findFirst().orElseThrow();
        String id = Validator.id(a.dnskeySigs().get(0), signer, set);
        // the wire form of this RRSIG, key and two-key set is ~400 bytes, kept in every zone's state
        assertEquals(44, id.length(), "a SHA-256 in Base64, whatever the size of the set");
        org.xbill.DNS.RRset fewer = new org.xbill.DNS.RRset(signer);
        assertNotEquals(id, Validator.id(a.dnskeySigs().get(0), signer, fewer), "another set, another id");
        assertEquals(id, Validator.id(a.dnskeySigs().get(0), signer, set), "the same triple, the same id");
    }
}
