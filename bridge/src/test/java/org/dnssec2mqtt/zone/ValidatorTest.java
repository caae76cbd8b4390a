package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DNSKEYRecord;

/** Validation on answers really signed with ECDSAP256SHA256, checked at chosen instants. */
class ValidatorTest {
    /** The JCA provider these tests run under; {@link ValidatorAccpTest} runs them all again under ACCP. */
    CryptoProvider.Mode provider() {
        return CryptoProvider.Mode.JDK;
    }

    @BeforeEach
    void installProvider() {
        Signed.install(provider());
    }

    static final Instant NOW = Signed.SIGNED_AT.plus(Duration.ofHours(1));

    static ZoneSnapshot signedAnswer() {
        DemoZone z = Signed.zone();
        z.addKey(true, true);
        z.addKey(false, true);
        return Signed.snapshot(z);
    }

    @Test
    void validAnswerIsSecure() {
        Validator.Result r = Validator.validate(signedAnswer(), NOW);
        assertEquals("secure", r.result(), r.problem());
        assertEquals(Signed.SIGNED_AT.plus(Duration.ofDays(30)), r.earliestExpiry());
    }

    @Test
    void expiredSignaturesAreBogusForTimeOnly() {
        Validator.Result r = Validator.validate(signedAnswer(), Signed.SIGNED_AT.plus(Duration.ofDays(31)));
        assertEquals("bogus", r.result());
        assertTrue(r.expiredOnly());
        assertTrue(r.problem().contains("expired"), r.problem());
    }

    @Test
    void notYetValidSignaturesAreBogus() {
        Validator.Result r = Validator.validate(signedAnswer(), Signed.SIGNED_AT.minus(Duration.ofDays(1)));
        assertEquals("bogus", r.result());
        assertTrue(r.problem().contains("not valid before"), r.problem());
    }

    @Test
    void tamperedKeyRdataIsBogus() {
        ZoneSnapshot a = signedAnswer();
        List<DNSKEYRecord> keys = new ArrayList<>();
        for (DNSKEYRecord k : a.keys()) {
            byte[] key = k.getKey().clone();
            key[10] ^= 1; // one bit of the public key
            keys.add(new DNSKEYRecord(k.getName(), k.getDClass(), k.getTTL(), k.getFlags(), k.getProtocol(),
                    k.getAlgorithm(), key));
        }
        Validator.Result r = Validator.validate(Signed.withKeys(a, keys), NOW);
        assertEquals("bogus", r.result());
        assertFalse(r.expiredOnly());
        assertUserTerms(r.problem());
    }

    /** Fault 8: the problem in DNSSEC terms, not dnsjava's or the JCA's exception text. */
    @Test
    void tamperedSignatureIsBogusInPlainWords() {
        ZoneSnapshot a = signedAnswer();
        List<org.xbill.DNS.RRSIGRecord> sigs = new ArrayList<>();
        for (org.xbill.DNS.RRSIGRecord sig : a.dnskeySigs()) {
            byte[] b = sig.getSignature().clone();
            b[5] ^= 1;
            sigs.add(new org.xbill.DNS.RRSIGRecord(sig.getName(), sig.getDClass(), sig.getTTL(), sig.getTypeCovered(),
                    sig.getAlgorithm(), sig.getOrigTTL(), sig.getExpire(), sig.getTimeSigned(), sig.getFootprint(),
                    sig.getSigner(), b));
        }
        Validator.Result r = Validator.validate(Signed.withSigs(a, sigs, a.soaSigs()), NOW);
        assertEquals("bogus", r.result());
        assertUserTerms(r.problem());
        assertTrue(r.problem().endsWith(": signature does not verify (wrong key, or the RRset changed after signing)"),
                r.problem());
    }

    static void assertUserTerms(String problem) {
        assertFalse(problem.contains("java.") || problem.contains("Exception") || problem.contains("null"), problem);
    }

    @Test
    void signaturesByAKeyOutsideTheSetAreBogus() {
        ZoneSnapshot a = signedAnswer();
        DemoZone other = Signed.zone();
        other.addKey(true, true);
        other.addKey(false, true);
        ZoneSnapshot b = Signed.snapshot(other);
        // keys of one zone, signatures of another: the wrong key
        Validator.Result r = Validator.validate(Signed.withSigs(a, b.dnskeySigs(), b.soaSigs()), NOW);
        assertEquals("bogus", r.result());
        assertTrue(r.problem().contains("no RRSIG by a key in the DNSKEY RRset"), r.problem());
    }

    @Test
    void missingSignaturesAreBogusAndNoKeysIsUnsigned() {
        ZoneSnapshot a = signedAnswer();
        assertEquals("bogus", Validator.validate(Signed.withSigs(a, List.of(), a.soaSigs()), NOW).result());
        assertEquals("unsigned", Validator.validate(Signed.withKeys(Signed.withSigs(a, List.of(), List.of()), List.of()), NOW).result());
    }

    @Test
    void aRevokedKeyAloneVouchesForNothing() {
        DemoZone z = Signed.zone();
        DemoZone.Key ksk = z.addKey(true, true);
        z.addKey(false, true);
        z.revoke(ksk);
        Validator.Result r = Validator.validate(Signed.snapshot(z), NOW);
        assertEquals("bogus", r.result(), "only the revoked key signs the DNSKEY RRset");
    }

    @Test
    void theSignatureAZoneVerifiedBeforeIsNotVerifiedAgainButStillExpires() {
        ZoneSnapshot a = signedAnswer();
        Validator first = new Validator();
        Validator.Result r = first.check(a, NOW, null);
        assertEquals("secure", r.result());
        assertEquals(1, first.verifications());
        assertEquals(44, r.verified().length(), "a SHA-256 in Base64: " + r.verified());

        // a fresh validator, as after a restart, given what the zone's state kept
        Validator again = new Validator();
        Validator.Result r2 = again.check(a, NOW.plus(Duration.ofDays(1)), r.verified());
        assertEquals("secure", r2.result());
        assertEquals(r.verified(), r2.verified());
        assertEquals(0, again.verifications(), "verified before: no public-key operation");

        Validator.Result late = again.check(a, Signed.SIGNED_AT.plus(Duration.ofDays(31)), r.verified());
        assertEquals("bogus", late.result(), "remembering a signature never extends its validity");
        assertTrue(late.expiredOnly());

        // a tampered key set is not mistaken for the one verified before
        List<DNSKEYRecord> keys = new ArrayList<>();
        for (DNSKEYRecord k : a.keys()) {
            byte[] key = k.getKey().clone();
            key[5] ^= 1;
            keys.add(new DNSKEYRecord(k.getName(), k.getDClass(), k.getTTL(), k.getFlags(), k.getProtocol(), k.getAlgorithm(), key));
        }
        Validator.Result tampered = again.check(Signed.withKeys(a, keys), NOW, r.verified());
        assertEquals("bogus", tampered.result());
        assertEquals(null, tampered.verified());
        assertTrue(again.verifications() > 0, "the tampered set was verified, not taken from before");
    }

    @Test
    void anotherZonesVerifiedSignatureIsNoShortcut() {
        ZoneSnapshot a = signedAnswer();
        ZoneSnapshot b = signedAnswer(); // other keys, other signatures
        String idOfA = new Validator().check(a, NOW, null).verified();
        Validator v = new Validator();
        Validator.Result r = v.check(b, NOW, idOfA);
        assertEquals("secure", r.result());
        assertEquals(1, v.verifications());
        assertFalse(idOfA.equals(r.verified()));
    }
}
