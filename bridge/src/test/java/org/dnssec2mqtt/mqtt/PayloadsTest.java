package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.zone.Fixtures;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DNSKEYRecord;

class PayloadsTest {
    static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");

    @Test
    void keyPayloadIsFlatAndHoldsOnlyTheContractFields() throws Exception {
        List<DNSKEYRecord> keys = Fixtures.keys("d1.aa.dnskey");
        List<KeyInfo> infos = KeyAnalyzer.analyze(Fixtures.snapshot(keys, List.of(Fixtures.key(keys, 20179)), List.of()), List.of(), NOW);
        KeyInfo ksk = infos.stream().filter(k -> k.keytag() == 20179).findFirst().orElseThrow();
        JsonObject o = JsonParser.parseString(Json.object(Payloads.key(ksk))).getAsJsonObject();
        assertEquals(List.of("zone", "keytag", "flags", "role", "state", "revoked", "algorithm", "algorithm_name",
                "bits", "ttl", "ds_sha256", "ds_sha384", "first_seen", "cds", "add_holddown_until"), List.copyOf(o.keySet()));
        assertEquals("2026-12-22T06:30:00Z", o.get("add_holddown_until").getAsString()); // RFC 5011: +30 days
        assertEquals("d1.aa", o.get("zone").getAsString());
        assertEquals(20179, o.get("keytag").getAsInt());
        assertEquals("active", o.get("state").getAsString());
        assertFalse(o.get("revoked").getAsBoolean());
        assertEquals("2026-11-22T06:30:00Z", o.get("first_seen").getAsString());
        assertTrue(o.get("ds_sha256").getAsString().startsWith("20179 8 2 "));
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            assertTrue(e.getValue().isJsonPrimitive(), e.getKey() + " is not flat");
        }
        KeyInfo revoked = infos.stream().filter(KeyInfo::revoked).findFirst().orElseThrow();
        JsonObject r = JsonParser.parseString(Json.object(Payloads.key(revoked))).getAsJsonObject();
        assertEquals(826, r.get("original_keytag").getAsInt());
        assertEquals("2026-11-22T06:30:00Z", r.get("revoked_at").getAsString());
        assertEquals("2026-12-22T06:30:00Z", r.get("remove_holddown_until").getAsString());
        assertFalse(r.has("ds_sha256"));
    }

    @Test
    void base64AndEqualsSignsAreNotHtmlEscaped() {
        assertEquals("{\"a\":\"x=<>&\"}", Json.object(Map.of("a", "x=<>&")));
    }

    @Test
    void zoneStateListsTagsByRole() throws Exception {
        List<DNSKEYRecord> keys = Fixtures.keys("d1.aa.dnskey");
        List<KeyInfo> infos = KeyAnalyzer.analyze(Fixtures.snapshot(keys,
                List.of(Fixtures.key(keys, 20179)), List.of(Fixtures.key(keys, 8510))), List.of(), NOW);
        ZoneState s = Fixtures.state("d1.aa", 7, infos, NOW);
        JsonObject o = JsonParser.parseString(Json.object(Payloads.zoneState(s))).getAsJsonObject();
        assertEquals("ok", o.get("status").getAsString());
        assertEquals("", o.get("problem").getAsString());
        assertEquals(5, o.get("keys").getAsInt());
        assertEquals("[20179,41542,64898]", o.get("ksk_keytags").toString());
        assertEquals("[8510]", o.get("zsk_keytags").toString());
        assertEquals("[954]", o.get("revoked_keytags").toString());
        assertEquals("[41542,64898]", o.get("standby_keytags").toString());
        assertEquals("error", s.unreachable(NOW, "timeout", List.of()).status());
        assertEquals("secure", o.get("validation").getAsString());
    }

    @Test
    void theOnlineMessageCarriesOtherPartsFieldsAfterItsOwn() {
        String online = Payloads.online(java.time.Instant.parse("2026-11-22T06:30:00.123456Z"),
                java.util.Map.of("knot_dbus", "connected"));
        assertEquals("{\"state\":\"online\",\"version\":\"" + org.dnssec2mqtt.Version.VERSION
                + "\",\"since\":\"2026-11-22T06:30:00.123Z\",\"knot_dbus\":\"connected\"}", online);
    }
}
