package org.dnssec2mqtt.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import javax.crypto.Mac;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;

/** Both modes of {@code crypto.provider}, and every DNSSEC algorithm under each. */
class CryptoProviderTest {
    static final Name ZONE = Name.fromConstantString("crypto.test.");
    static final Instant NOW = Instant.parse("2026-11-22T06:00:00Z");

    @AfterAll
    static void backToTheJdk() {
        CryptoProvider.install(CryptoProvider.Mode.JDK);
    }

    @Test
    void autoInstallsTheNativeProviderAndJdkRemovesIt() throws Exception {
        // CI builds the x86-64 (or, on ARM, the aarch64) jar: the native provider must load there
        assertEquals("ACCP 2.5.0", CryptoProvider.install(CryptoProvider.Mode.AUTO));
        assertEquals("AmazonCorrettoCryptoProvider", Signature.getInstance("SHA256withECDSA").getProvider().getName());
        assertEquals("AmazonCorrettoCryptoProvider", Mac.getInstance("HmacSHA256").getProvider().getName());
        assertEquals("ACCP 2.5.0", CryptoProvider.install(CryptoProvider.Mode.AUTO), "installing twice is harmless");

        assertEquals("JDK SunEC", CryptoProvider.install(CryptoProvider.Mode.JDK));
        assertEquals("SunEC", Signature.getInstance("SHA256withECDSA").getProvider().getName());
    }

    /** ACCP has no Ed448: the JDK's provider behind it must still sign and verify it through dnsjava. */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
        "AUTO, ECDSAP256SHA256, EC,      256",
        "AUTO, ECDSAP384SHA384, EC,      384",
        "AUTO, RSASHA256,       RSA,     2048",
        "AUTO, RSASHA512,       RSA,     2048",
        "AUTO, ED25519,         Ed25519, 0",
        "AUTO, ED448,           Ed448,   0",
        "JDK,  ECDSAP256SHA256, EC,      256",
        "JDK,  ED25519,         Ed25519, 0",
        "JDK,  ED448,           Ed448,   0",
    })
    void everyAlgorithmSignsAndVerifies(CryptoProvider.Mode mode, String algorithm, String keyType, int bits)
            throws Exception {
        CryptoProvider.install(mode);
        int alg = DNSSEC.Algorithm.value(algorithm);
        KeyPairGenerator g = KeyPairGenerator.getInstance(keyType);
        if (bits > 0) {
            g.initialize(bits);
        }
        KeyPair pair = g.generateKeyPair();
        DNSKEYRecord key = new DNSKEYRecord(ZONE, DClass.IN, 300, 257, DNSKEYRecord.Protocol.DNSSEC, alg, pair.getPublic());
        RRset set = new RRset(key);
        RRSIGRecord sig = DNSSEC.sign(set, key, pair.getPrivate(), NOW.minusSeconds(3600), NOW.plusSeconds(86400));
        DNSSEC.verify(set, sig, key, NOW);

        byte[] tampered = sig.getSignature().clone();
        tampered[tampered.length / 2] ^= 1;
        RRSIGRecord bad = new RRSIGRecord(ZONE, DClass.IN, 300, sig.getTypeCovered(), alg, sig.getOrigTTL(),
                sig.getExpire(), sig.getTimeSigned(), sig.getFootprint(), sig.getSigner(), tampered);
        assertThrows(DNSSEC.DNSSECException.class, () -> DNSSEC.verify(set, bad, key, NOW));
    }

    @ParameterizedTest
    @EnumSource(CryptoProvider.Mode.class)
    void modesParseInAnyCase(CryptoProvider.Mode mode) {
        assertEquals(mode, CryptoProvider.Mode.parse(mode.name().toLowerCase()));
        assertEquals(mode, CryptoProvider.Mode.parse(mode.name()));
    }
}
