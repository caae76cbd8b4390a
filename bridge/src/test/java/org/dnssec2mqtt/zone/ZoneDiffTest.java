package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.DNSKEYRecord;

class ZoneDiffTest {
    static final Instant T0 = Instant.parse("2026-11-22T06:30:00Z");
    static final Instant T1 = T0.plusSeconds(60);
    static List<DNSKEYRecord> all;
    static DNSKEYRecord ksk;
    static DNSKEYRecord ksk2;
    static DNSKEYRecord zsk;

    @BeforeAll
    static void load() throws IOException {
        all = Fixtures.keys("d1.aa.dnskey");
        ksk = Fixtures.key(all, 20179);
        ksk2 = Fixtures.key(all, 41542);
        zsk = Fixtures.key(all, 8510);
    }

    static DNSKEYRecord revoked(DNSKEYRecord k) {
        return new DNSKEYRecord(k.getName(), k.getDClass(), k.getTTL(), k.getFlags() | DNSKEYRecord.Flags.REVOKE,
                k.getProtocol(), k.getAlgorithm(), k.getKey());
    }

    static DNSKEYRecord withTtl(DNSKEYRecord k, long ttl) {
        return new DNSKEYRecord(k.getName(), k.getDClass(), ttl, k.getFlags(), k.getProtocol(), k.getAlgorithm(), k.getKey());
    }

    /** Keys, which of them sign the key set (by index), which sign the SOA. */
    static ZoneSnapshot snap(List<DNSKEYRecord> keys, List<DNSKEYRecord> signKeys, List<DNSKEYRecord> signSoa) {
        return Fixtures.snapshot(keys, signKeys, signSoa);
    }

    static Stream<Arguments> transitions() {
        DNSKEYRecord rksk = revoked(ksk);
        return Stream.of(
                Arguments.of("no change", snap(List.of(ksk, zsk), List.of(ksk), List.of(zsk)),
                        snap(List.of(zsk, ksk), List.of(ksk), List.of(zsk)), List.of()),
                Arguments.of("TTL only: no event", snap(List.of(ksk, zsk), List.of(ksk), List.of(zsk)),
                        snap(List.of(withTtl(ksk, 60), zsk), List.of(ksk), List.of(zsk)), List.of()),
                Arguments.of("stand-by KSK added", snap(List.of(ksk, zsk), List.of(ksk), List.of(zsk)),
                        snap(List.of(ksk, ksk2, zsk), List.of(ksk), List.of(zsk)), List.of("key_added:41542")),
                Arguments.of("KSK revoked: one event, new tag", snap(List.of(ksk, ksk2, zsk), List.of(ksk), List.of(zsk)),
                        snap(List.of(rksk, ksk2, zsk), List.of(rksk, ksk2), List.of(zsk)),
                        List.of("key_revoked:" + rksk.getFootprint(), "key_changed:41542")),
                Arguments.of("revoked key removed", snap(List.of(rksk, ksk2, zsk), List.of(rksk, ksk2), List.of(zsk)),
                        snap(List.of(ksk2, zsk), List.of(ksk2), List.of(zsk)), List.of("key_removed:" + rksk.getFootprint())),
                Arguments.of("ZSK swapped for a new one", snap(List.of(ksk, zsk), List.of(ksk), List.of(zsk)),
                        snap(List.of(ksk, ksk2), List.of(ksk), List.of()),
                        List.of("key_removed:8510", "key_added:41542")),
                Arguments.of("stand-by becomes active", snap(List.of(ksk, ksk2, zsk), List.of(ksk), List.of(zsk)),
                        snap(List.of(ksk, ksk2, zsk), List.of(ksk, ksk2), List.of(zsk)), List.of("key_changed:41542")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transitions")
    void transitions(String name, ZoneSnapshot before, ZoneSnapshot after, List<String> expected) {
        List<KeyInfo> k0 = KeyAnalyzer.analyze(before, List.of(), T0);
        List<KeyInfo> k1 = KeyAnalyzer.analyze(after, k0, T1);
        List<Event> events = ZoneDiff.compare("d1.aa", k0, k1, T1);
        assertEquals(expected, events.stream().map(e -> e.type() + ":" + e.get("keytag")).toList());
        for (Event e : events) {
            assertEquals("d1.aa", e.zone());
            assertEquals(T1, e.get("at"));
            assertTrue(((String) e.get("message")).contains("d1.aa"), e.toString());
        }
    }

    @Test
    void revocationCarriesBothTagsAtHighPriority() {
        DNSKEYRecord rksk = revoked(ksk);
        List<KeyInfo> k0 = KeyAnalyzer.analyze(snap(List.of(ksk, zsk), List.of(ksk), List.of(zsk)), List.of(), T0);
        List<KeyInfo> k1 = KeyAnalyzer.analyze(snap(List.of(rksk, zsk), List.of(rksk), List.of(zsk)), k0, T1);
        List<Event> events = ZoneDiff.compare("d1.aa", k0, k1, T1);
        assertEquals(1, events.size());
        Event e = events.get(0);
        assertEquals("key_revoked", e.type());
        assertEquals(rksk.getFootprint(), e.get("keytag"));
        assertEquals(20179, e.get("original_keytag"));
        assertEquals(385, e.get("flags"));
        assertEquals(Event.HIGH, e.priority());
        assertEquals("DNSKEY revoked in d1.aa", e.get("title"));
        assertEquals("KSK 20179 of d1.aa was revoked (RFC 5011); it now has key tag " + rksk.getFootprint(), e.get("message"));
        // the revoked key keeps the first_seen of the key it was
        assertEquals(T0, k1.stream().filter(KeyInfo::revoked).findFirst().orElseThrow().firstSeen());
    }

    @Test
    void firstSightIsOneZoneAddedListingTheKeys() {
        List<KeyInfo> k = KeyAnalyzer.analyze(snap(List.of(ksk, zsk, ksk2), List.of(ksk), List.of(zsk)), List.of(), T0);
        List<Event> events = ZoneDiff.compare("d1.aa", null, k, T0);
        assertEquals(1, events.size());
        assertEquals("zone_added", events.get(0).type());
        assertEquals(List.of(8510, 20179, 41542), events.get(0).get("keytags"));
        assertEquals("d1.aa is now watched with 3 keys: ZSK 8510, KSK 20179, KSK 41542 (standby)", events.get(0).get("message"));
        assertEquals(Event.NORMAL, events.get(0).priority());
    }

    @Test
    void eventsAlwaysCarryTheContractFields() {
        List<KeyInfo> k0 = KeyAnalyzer.analyze(snap(List.of(ksk, zsk), List.of(ksk), List.of(zsk)), List.of(), T0);
        List<KeyInfo> k1 = KeyAnalyzer.analyze(snap(List.of(ksk), List.of(ksk), List.of()), k0, T1);
        for (Event e : ZoneDiff.compare("d1.aa", k0, k1, T1)) {
            assertTrue(e.fields().keySet().containsAll(Arrays.asList("event", "zone", "at", "title", "message", "priority")));
            assertEquals(Event.HIGH, e.priority()); // a removal
        }
    }
}
