package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.dnssec2mqtt.mqtt.Json;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DNSKEYRecord;

/** A key's presentation text is made again from its fields where it can be, and reads the same everywhere. */
class KeyInfoTest {
    static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");

    static List<KeyInfo> analyzed() throws Exception {
        List<DNSKEYRecord> records = Fixtures.keys("d1.aa.dnskey");
        return KeyAnalyzer.analyze(Fixtures.snapshot(records, records.subList(0, 1), List.of()), List.of(), NOW);
    }

    /** The text the record holds, not what {@link KeyInfo#dnskey()} answers. */
    static String held(KeyInfo k) throws Exception {
        return held(k, "dnskey");
    }

    static String held(KeyInfo k, String component) throws Exception {
        java.lang.reflect.Field f = KeyInfo.class.getDeclaredField(component);
        f.setAccessible(true);
        return (String) f.get(k);
    }

    @Test
    void theTextIsNotKeptWhereTheKeysFieldsGiveIt() throws Exception {
        List<DNSKEYRecord> records = Fixtures.keys("d1.aa.dnskey");
        for (KeyInfo k : analyzed()) {
            DNSKEYRecord r = records.stream().filter(x -> x.getFootprint() == k.keytag()).findFirst().orElseThrow();
            assertEquals(r.toString(), k.dnskey(), "what the key log writes");
            // issue 11: ~170 bytes a key, a third of what 100,000 zones keep
            assertEquals("", held(k), "the record keeps no copy of the text");
            assertEquals(String.valueOf(k.keytag()), k.topicId());
            assertEquals("", held(k, "topicId"), "nor of the plain tag");
        }
        KeyInfo k = analyzed().get(0);
        KeyInfo suffixed = k.withTopicId(k.keytag() + "-2");
        assertEquals(k.keytag() + "-2", suffixed.topicId(), "a shared tag's suffix is kept");
        assertNotEquals(k, suffixed);
        assertEquals(k, suffixed.withTopicId(String.valueOf(k.keytag())));
    }

    /** The text made without dnsjava is dnsjava's, for names short and long (its tab padding differs). */
    @Test
    void theTextMadeAgainIsWhatDnsjavaPrints() throws Exception {
        DNSKEYRecord fixture = Fixtures.keys("d1.aa.dnskey").get(0);
        for (String zone : List.of(".", "a.", "abcdef.", "abcdefg.", "abcdefgh.", "abcdefghijklmn.", "abcdefghijklmno.",
                "xn--bcher-kva.example.", "a-very-long-zone-name.with.several.labels.example.")) {
            for (int flags : new int[] {256, 257, 385}) {
                DNSKEYRecord r = new DNSKEYRecord(org.xbill.DNS.Name.fromString(zone), org.xbill.DNS.DClass.IN, 86400,
                        flags, DNSKEYRecord.Protocol.DNSSEC, fixture.getAlgorithm(), fixture.getKey());
                String display = zone.equals(".") ? "." : zone.substring(0, zone.length() - 1);
                assertEquals(r.toString(), KeyInfo.presentation(display, 86400, flags, fixture.getAlgorithm(),
                        KeyAnalyzer.identity(r)), zone + " " + flags);
            }
        }
    }

    @Test
    void aTextTheFieldsDoNotGiveIsKeptAsGiven() throws Exception {
        KeyInfo k = analyzed().get(0);
        String upper = k.dnskey().replaceFirst("^d1\\.aa\\.", "D1.aa.");
        KeyInfo other = new KeyInfo(k.identity(), k.topicId(), upper, k.zone(), k.keytag(), k.flags(), k.role(),
                k.state(), k.revoked(), k.originalKeytag(), k.algorithm(), k.algorithmName(), k.bits(), k.ttl(),
                k.dsSha256(), k.dsSha384(), k.firstSeen(), k.cds(), k.dsAtParent(), k.addHolddownUntil(),
                k.revokedAt(), k.removeHolddownUntil());
        assertTrue(upper.startsWith("D1.aa."), upper);
        assertEquals(upper, other.dnskey());
        assertNotEquals(k, other, "another text, another key record");
    }

    @Test
    void theStateFileAndTheReplicaStillCarryTheText() throws Exception {
        for (KeyInfo k : analyzed()) {
            String json = Json.GSON.toJson(k);
            assertTrue(json.contains("\"dnskey\":" + Json.GSON.toJson(k.dnskey())), json);
            assertTrue(json.contains("\"topicId\":\"" + k.keytag() + "\""), json);
            KeyInfo back = Json.GSON.fromJson(json, KeyInfo.class);
            assertEquals(k, back, "read back, equal to the key it was");
            assertEquals("", held(back));
        }
    }

    /** issue 11: the two DS texts were ~270 bytes of a SEP key, kept for each of 100,000 zones. */
    @Test
    void theDsTextsAreNotKeptButMadeAgainAsBindPrintsThem() throws Exception {
        java.util.Map<String, String> bind = new java.util.HashMap<>();
        for (org.xbill.DNS.Record r : Fixtures.records("d1.aa.ds")) {
            org.xbill.DNS.DSRecord ds = (org.xbill.DNS.DSRecord) r;
            bind.put(ds.getFootprint() + "/" + ds.getDigestID(), ds.rdataToString());
        }
        int seps = 0;
        for (KeyInfo k : analyzed()) {
            if (!k.sep() || k.revoked()) {
                assertEquals(null, k.dsSha256());
                continue;
            }
            seps++;
            assertEquals(bind.get(k.keytag() + "/2"), k.dsSha256(), "dnssec-dsfromkey -2 for " + k.keytag());
            assertEquals(bind.get(k.keytag() + "/4"), k.dsSha384(), "dnssec-dsfromkey -a SHA-384 for " + k.keytag());
            assertEquals("", held(k, "dsSha256"), "no copy of the SHA-256 DS text");
            assertEquals("", held(k, "dsSha384"), "no copy of the SHA-384 DS text");
            KeyInfo back = Json.GSON.fromJson(Json.GSON.toJson(k), KeyInfo.class);
            assertEquals(k, back, "from a state file, the same key");
            assertEquals("", held(back, "dsSha256"), "nor when read from a state file");
        }
        assertEquals(3, seps, "the fixture's unrevoked SEP keys");
    }

    /** The digest made without dnsjava is dnsjava's, for the root, upper-case owners and both digest types. */
    @Test
    void theDsMadeAgainIsDnsjavasForAnyOwner() throws Exception {
        for (DNSKEYRecord fixture : Fixtures.keys("d1.aa.dnskey")) {
            for (String zone : List.of(".", "D1.AA.", "xn--bcher-kva.example.", "a\\.b.example.")) {
                DNSKEYRecord r = new DNSKEYRecord(org.xbill.DNS.Name.fromString(zone), org.xbill.DNS.DClass.IN, 3600,
                        fixture.getFlags(), DNSKEYRecord.Protocol.DNSSEC, fixture.getAlgorithm(), fixture.getKey());
                String display = zone.equals(".") ? "." : zone.substring(0, zone.length() - 1);
                for (int digest : new int[] {2, 4}) {
                    assertEquals(KeyAnalyzer.ds(r, digest), KeyInfo.ds(display, r.getFootprint(), r.getFlags(),
                            r.getAlgorithm(), KeyAnalyzer.identity(r), digest), zone + " " + r.getFootprint() + " " + digest);
                }
            }
        }
    }

    @Test
    void aDsTextTheKeyDoesNotGiveIsKeptAsGiven() throws Exception {
        KeyInfo k = analyzed().stream().filter(x -> x.sep() && !x.revoked()).findFirst().orElseThrow();
        String lower = k.dsSha256().toLowerCase(java.util.Locale.ROOT);
        KeyInfo other = new KeyInfo(k.identity(), k.topicId(), k.dnskey(), k.zone(), k.keytag(), k.flags(), k.role(),
                k.state(), k.revoked(), k.originalKeytag(), k.algorithm(), k.algorithmName(), k.bits(), k.ttl(),
                lower, k.dsSha384(), k.firstSeen(), k.cds(), k.dsAtParent(), k.addHolddownUntil(),
                k.revokedAt(), k.removeHolddownUntil());
        assertEquals(lower, other.dsSha256());
        assertEquals(k.dsSha384(), other.dsSha384());
        assertEquals("", held(other, "dsSha384"));
        assertNotEquals(k, other, "another text, another key record");
    }
}
