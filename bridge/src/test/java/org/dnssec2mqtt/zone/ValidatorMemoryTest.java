package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dnssec2mqtt.demo.DemoZone;
import org.xbill.DNS.DNSKEYRecord;
import org.junit.jupiter.api.Test;

/** What the validator remembers of a verified signature is tied to the exact RRset it covered. */
class ValidatorMemoryTest {
    static final Instant NOW = Signed.SIGNED_AT.plus(Duration.ofHours(1));

    @Test
    void aKeyAddedToARememberedSetIsNotCoveredByItsSignature() {
        DemoZone z = Signed.zone();
        z.addKey(true, true);
        z.addKey(false, true);
        ZoneSnapshot a = Signed.snapshot(z);
        Validator v = new Validator();
        assertEquals("secure", v.check(a, NOW).result());
        // the same signature and key, over a set with one more key (not signed again)
        DemoZone other = Signed.zone();
        DNSKEYRecord extra = other.addKey(false, true).record();
        List<DNSKEYRecord> keys = new ArrayList<>(a.keys());
        keys.add(extra);
        assertEquals("bogus", v.check(Signed.withKeys(a, keys), NOW).result());
        assertEquals("secure", v.check(a, NOW).result(), "the signed set still is");
    }
}
