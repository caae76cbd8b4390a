package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.flow.AdoptedKey;
import org.junit.jupiter.api.Test;

class RetainedCopyTest {
    private final Topics topics = new Topics("dnssec");
    private final RetainedCopy copy = new RetainedCopy(topics::zoneLevelOf, topics::isKey);

    private void put(String topic, String payload) {
        copy.put(topic, payload.getBytes(StandardCharsets.UTF_8));
    }

    private static final String KEY = "{\"zone\":\"example.com\",\"keytag\":12345,\"flags\":257,\"role\":\"KSK\","
            + "\"algorithm\":13,\"algorithm_name\":\"ECDSAP256SHA256\",\"ttl\":3600,"
            + "\"first_seen\":\"2026-11-01T10:00:00Z\",\"cds\":false}";
    private static final String STATE = "{\"zone\":\"example.com\",\"status\":\"ok\",\"problem\":\"\",\"serial\":7,"
            + "\"server\":\"192.0.2.1:53\",\"keys\":1,\"checked_at\":\"2026-12-01T08:00:00Z\"}";

    @Test
    void keepsADigestOfEachTopicAndWhatAZoneToAdoptNeeds() {
        put("dnssec/example.com/keys/12345", KEY);
        put("dnssec/example.com/state", STATE);
        put("dnssec/example.com/servers/192.0.2.1:53", "{\"server\":\"192.0.2.1:53\",\"reachable\":true}");

        assertEquals(3, copy.size());
        assertTrue(copy.holds("dnssec/example.com/state", STATE));
        assertFalse(copy.holds("dnssec/example.com/state", STATE.replace("ok", "error")));
        RetainedCopy.Group g = copy.groups().get("example.com");
        assertEquals("example.com", g.zone);
        assertEquals("192.0.2.1:53", g.server); // from the state, not the server topic
        assertEquals("2026-12-01T08:00:00Z", g.checkedAt);
        assertEquals(List.of(new AdoptedKey(12345, 13, Instant.parse("2026-11-01T10:00:00Z"))), g.keys);
    }

    @Test
    void aTopicSentAgainOrClearedIsCountedOnce() {
        put("dnssec/example.com/keys/12345", KEY);
        put("dnssec/example.com/keys/12345", KEY.replace("\"cds\":false", "\"cds\":true"));
        assertEquals(1, copy.size());
        assertEquals(1, copy.groups().get("example.com").keys.size());
        assertTrue(copy.holds("dnssec/example.com/keys/12345", KEY.replace("\"cds\":false", "\"cds\":true")));

        put("dnssec/example.com/keys/12345", "");
        assertEquals(0, copy.size());
        assertFalse(copy.holds("dnssec/example.com/keys/12345", KEY));
    }

    @Test
    void aPayloadThatIsNotOursAddsNothingToAdopt() {
        put("dnssec/example.com/state", "not json {");
        put("dnssec/example.com/keys/1", "{\"zone\":\"other.org\",\"keytag\":\"x\"}");
        put("elsewhere/example.com/state", STATE); // no owner: not kept
        put("dnssec/_bridge/state", "{\"state\":\"online\"}");

        assertEquals(2, copy.size());
        RetainedCopy.Group g = copy.groups().get("example.com");
        assertNull(g.zone); // a zone named in another zone's level is not taken
        assertEquals(List.of(), g.keys);
    }

    @Test
    void aCopyGivenAsTopicToPayloadHoldsTheSame() {
        RetainedCopy of = RetainedCopy.of(topics::zoneLevelOf, topics::isKey, Map.of("dnssec/example.com/state", STATE));
        assertEquals(1, of.size());
        assertTrue(of.holds("dnssec/example.com/state", STATE));
        of.clear();
        assertEquals(0, of.size());
    }
}
