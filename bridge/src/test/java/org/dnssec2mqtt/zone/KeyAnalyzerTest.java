package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Record;

class KeyAnalyzerTest {
    /** The JCA provider these tests run under; {@link KeyAnalyzerAccpTest} runs them all again under ACCP. */
    CryptoProvider.Mode provider() {
        return CryptoProvider.Mode.JDK;
    }

    @BeforeEach
    void installProvider() {
        Signed.install(provider());
    }

    static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");
    static List<DNSKEYRecord> keys;
    /** keytag → "alg digest HEX" lines exactly as dnssec-dsfromkey printed them. */
    static Map<String, String> dsfromkey = new HashMap<>();

    @BeforeAll
    static void load() throws IOException {
        keys = Fixtures.keys("d1.aa.dnskey");
        for (Record r : Fixtures.records("d1.aa.ds")) {
            String rdata = r.rdataToString();
            String[] f = rdata.split(" ");
            dsfromkey.put(f[0] + "/" + f[2], rdata);
        }
    }

    private static KeyInfo analyzed(int tag) {
        DNSKEYRecord ksk8 = Fixtures.key(keys, 20179);
        DNSKEYRecord zsk = Fixtures.key(keys, 8510);
        DNSKEYRecord revoked = Fixtures.key(keys, 954);
        // 20179 and the revoked key sign the DNSKEY RRset (RFC 5011 §2.1: a revoked key self-signs),
        // 8510 signs the SOA; 41542 and 64898 sign nothing (stand-by).
        ZoneSnapshot snap = Fixtures.snapshot(keys, List.of(ksk8, revoked), List.of(zsk));
        return KeyAnalyzer.analyze(snap, List.of(), NOW).stream()
                .filter(k -> k.keytag() == tag).findFirst().orElseThrow();
    }

    @ParameterizedTest(name = "key {0}: flags {1} {2} {3}, alg {4} {5}, {6} bits")
    @CsvSource({
        // tag,  flags, role, state,   alg, name,            bits
        "20179, 257,   KSK,  ACTIVE,  8,   RSASHA256,       2048",
        "8510,  256,   ZSK,  ACTIVE,  13,  ECDSAP256SHA256, 256",
        "41542, 257,   KSK,  STANDBY, 15,  ED25519,         256",
        "64898, 257,   KSK,  STANDBY, 14,  ECDSAP384SHA384, 384",
        "954,   385,   KSK,  REVOKED, 13,  ECDSAP256SHA256, 256",
    })
    void analysesEachKey(int tag, int flags, KeyInfo.Role role, KeyInfo.KeyState state, int alg, String name, int bits) {
        KeyInfo k = analyzed(tag);
        assertEquals(flags, k.flags());
        assertEquals(role, k.role());
        assertEquals(state, k.state());
        assertEquals(alg, k.algorithm());
        assertEquals(name, k.algorithmName());
        assertEquals(bits, k.bits());
        assertEquals("d1.aa", k.zone());
        assertEquals(300, k.ttl());
        assertEquals(NOW, k.firstSeen());
    }

    /**
     * A key's text is dnsjava's {@code toString()} to the letter, made without printing the record
     * (issue 11: ~8 % of a re-check's CPU): for every fixture key, an owner name as the server
     * wrote it (case kept) and TTLs short and long.
     */
    @Test
    void aKeysTextIsWhatDnsjavaPrintsForTheRecord() throws Exception {
        for (DNSKEYRecord fixture : Fixtures.keys("d1.aa.dnskey")) {
            for (String owner : List.of("d1.aa.", "D1.Aa.", "x.")) {
                for (long ttl : new long[] {0, 300, 86400, 2147483647L}) {
                    DNSKEYRecord r = new DNSKEYRecord(org.xbill.DNS.Name.fromString(owner), org.xbill.DNS.DClass.IN, ttl,
                            fixture.getFlags(), fixture.getProtocol(), fixture.getAlgorithm(), fixture.getKey());
                    assertEquals(r.toString(), KeyAnalyzer.text(r, KeyAnalyzer.identity(r)), owner + " " + ttl);
                }
            }
        }
        KeyInfo k = analyzed(8510);
        DNSKEYRecord r = Fixtures.keys("d1.aa.dnskey").stream().filter(x -> x.getFootprint() == 8510).findFirst().orElseThrow();
        assertEquals(r.toString(), k.dnskey());
    }

    @ParameterizedTest(name = "DS of {0} equals dnssec-dsfromkey")
    @CsvSource({"20179", "41542", "64898"})
    void dsDigestsMatchDnssecDsfromkey(int tag) {
        KeyInfo k = analyzed(tag);
        assertEquals(dsfromkey.get(tag + "/2"), k.dsSha256());
        assertEquals(dsfromkey.get(tag + "/4"), k.dsSha384());
    }

    @Test
    void zskAndRevokedKeysHaveNoDs() {
        assertNull(analyzed(8510).dsSha256());
        assertNull(analyzed(954).dsSha256());
        assertNull(analyzed(954).dsSha384());
    }

    @Test
    void revokedKeyKnowsItsTagBeforeRevocation() {
        KeyInfo k = analyzed(954);
        assertTrue(k.revoked());
        // dnssec-revoke printed Kd1.aa.+013+00826 before it wrote +00954
        assertEquals(826, k.originalKeytag());
        assertNull(analyzed(20179).originalKeytag());
    }

    @Test
    void revokeKeepsIdentityButChangesTag() {
        DNSKEYRecord rev = Fixtures.key(keys, 954);
        DNSKEYRecord unrevoked = new DNSKEYRecord(rev.getName(), rev.getDClass(), rev.getTTL(), 257,
                rev.getProtocol(), rev.getAlgorithm(), rev.getKey());
        assertEquals(826, unrevoked.getFootprint());
        assertEquals(KeyAnalyzer.identity(rev), KeyAnalyzer.identity(unrevoked));
    }

    @Test
    void sepKeyThatAlsoSignsTheSoaIsACsk() {
        DNSKEYRecord k = Fixtures.key(keys, 41542);
        ZoneSnapshot snap = Fixtures.snapshot(List.of(k), List.of(k), List.of(k));
        KeyInfo info = KeyAnalyzer.analyze(snap, List.of(), NOW).get(0);
        assertEquals(KeyInfo.Role.CSK, info.role());
        assertEquals(KeyInfo.KeyState.ACTIVE, info.state());
    }

    @Test
    void zskThatSignsOnlyTheKeySetIsStandby() {
        DNSKEYRecord zsk = Fixtures.key(keys, 8510);
        ZoneSnapshot snap = Fixtures.snapshot(List.of(zsk), List.of(zsk), List.of());
        assertEquals(KeyInfo.KeyState.STANDBY, KeyAnalyzer.analyze(snap, List.of(), NOW).get(0).state());
    }

    @Test
    void knownKeysKeepFirstSeenAndTopic() {
        ZoneSnapshot snap = Fixtures.snapshot(keys, List.of(), List.of());
        List<KeyInfo> first = KeyAnalyzer.analyze(snap, List.of(), NOW);
        List<KeyInfo> again = KeyAnalyzer.analyze(snap, first, NOW.plusSeconds(3600));
        assertEquals(first.stream().map(KeyInfo::firstSeen).toList(), again.stream().map(KeyInfo::firstSeen).toList());
        assertEquals(first, again);
    }

    @Test
    void twoKeysSharingATagBothGetATopic() {
        DNSKEYRecord a = Fixtures.key(keys, 8510);
        // Same tag, different key: the tag is a 16-bit checksum, so find a key that collides.
        DNSKEYRecord b = collidingKey(a);
        ZoneSnapshot snap = Fixtures.snapshot(List.of(a, b), List.of(), List.of());
        List<KeyInfo> out = KeyAnalyzer.analyze(snap, List.of(), NOW);
        assertEquals(2, out.size());
        assertEquals(List.of("8510", "8510-2"), out.stream().map(KeyInfo::topicId).sorted().toList());
        // A known key keeps its topic even when the colliding newcomer comes first in the RRset.
        KeyInfo aInfo = out.stream().filter(k -> k.identity().equals(KeyAnalyzer.identity(a))).findFirst().orElseThrow();
        List<KeyInfo> later = KeyAnalyzer.analyze(Fixtures.snapshot(List.of(b, a), List.of(), List.of()), out, NOW);
        assertEquals(aInfo.topicId(), later.stream().filter(k -> k.identity().equals(aInfo.identity()))
                .findFirst().orElseThrow().topicId());
    }

    /**
     * RFC 4034 Appendix B sums the RDATA as 16-bit words, so swapping two different bytes that
     * sit at the same parity leaves the tag unchanged while the key differs.
     */
    static DNSKEYRecord collidingKey(DNSKEYRecord a) {
        byte[] key = a.getKey().clone();
        for (int i = 2; i < key.length; i++) {
            if (key[i] != key[0] && i % 2 == 0) {
                byte t = key[0];
                key[0] = key[i];
                key[i] = t;
                DNSKEYRecord b = new DNSKEYRecord(a.getName(), a.getDClass(), a.getTTL(), a.getFlags(),
                        a.getProtocol(), a.getAlgorithm(), key);
                assertEquals(a.getFootprint(), b.getFootprint());
                return b;
            }
        }
        throw new AssertionError("no colliding key found");
    }

    @Test
    void rsaBitsReadTheModulusLength() {
        assertEquals(2048, KeyAnalyzer.bits(8, Fixtures.key(keys, 20179).getKey()));
        assertNull(KeyAnalyzer.bits(8, new byte[] {1}));
        assertNull(KeyAnalyzer.bits(253, new byte[] {1, 2, 3}));
        assertFalse(analyzed(20179).revoked());
    }
}
