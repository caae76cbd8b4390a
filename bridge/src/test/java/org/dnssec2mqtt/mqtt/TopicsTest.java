package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.dnssec2mqtt.zone.Zones;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicsTest {
    final Topics t = new Topics("dnssec");

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "example.com.                | example.com",
        "EXAMPLE.Com                 | example.com",
        ".                           | .",
        "0/25.2.0.192.in-addr.arpa.  | 0%2F25.2.0.192.in-addr.arpa",
        "a+b.example.                | a%2Bb.example",
        "a#b.example.                | a%23b.example",
        "100%.example.               | 100%25.example",
        "_bridge.                    | %5Fbridge",
        "_bridge.example.            | _bridge.example",
    })
    void escapesZonesIntoOneTopicLevel(String zone, String level) throws Exception {
        assertEquals(level, Topics.escape(Zones.display(Zones.parse(zone))));
    }

    @Test
    void buildsEveryTopic() {
        assertEquals("dnssec/example.com/keys/12345", t.key("example.com", "12345"));
        assertEquals("dnssec/0%2F25.2.0.192.in-addr.arpa/state", t.zoneState("0/25.2.0.192.in-addr.arpa"));
        assertEquals("dnssec/./events", t.events("."));
        assertEquals("dnssec/_bridge/state", t.bridgeState());
        assertEquals("dnssec/_bridge/request/recheck", t.request(Topics.RECHECK));
        assertEquals("dnssec/_bridge/request/+", t.requestFilter());
        assertEquals("dnssec/_bridge/response/recheck", t.response(Topics.RECHECK));
        assertEquals("recheck", t.commandOf("dnssec/_bridge/request/recheck"));
        assertNull(t.commandOf("dnssec/example.com/state"));
        assertEquals("home/dns/_bridge/state", new Topics("home/dns").bridgeState());
    }

    @Test
    void ownRetainedTopicsAreToldApartFromEverythingElse() {
        Topics t = new Topics("home/dnssec");
        assertEquals("example.com", t.zoneLevelOf("home/dnssec/example.com/keys/12345"));
        assertEquals("0%2F25.2.0.192.in-addr.arpa", t.zoneLevelOf("home/dnssec/0%2F25.2.0.192.in-addr.arpa/state"));
        assertEquals("example.com", t.zoneLevelOf("home/dnssec/example.com/servers/127.0.0.1:53"));
        assertEquals(null, t.zoneLevelOf("home/dnssec/example.com/events"));
        assertEquals(null, t.zoneLevelOf("home/dnssec/_bridge/state"));
        assertEquals(null, t.zoneLevelOf("dnssec/example.com/state"));
        assertEquals(true, t.isKey("home/dnssec/example.com/keys/12345-2"));
        assertEquals(false, t.isKey("home/dnssec/example.com/state"));
        assertEquals("homeassistant/sensor/dnssec2mqtt/example_com_keys/config",
                Topics.homeAssistantConfig("homeassistant", "sensor", "dnssec2mqtt", "example_com_keys"));
        assertEquals(List.of("sensor", "dnssec2mqtt", "example_com_keys"), List.of(
                Topics.homeAssistantConfigParts("homeassistant", "homeassistant/sensor/dnssec2mqtt/example_com_keys/config")));
        assertEquals(null, Topics.homeAssistantConfigParts("homeassistant", "homeassistant/status"));
    }

    @Test
    void clusterTopicsAndTheirOwners() {
        Topics t = new Topics("dnssec");
        assertEquals("dnssec/_bridge/nodes/a", t.node("a"));
        assertEquals("a", t.nodeOf("dnssec/_bridge/nodes/a"));
        assertNull(t.nodeOf("dnssec/_bridge/nodes/a/x"));
        assertNull(t.nodeOf("dnssec/_bridge/nodes/"));
        assertEquals("dnssec/_bridge/replica/0%2F25.2.0.192.in-addr.arpa", t.replica("0/25.2.0.192.in-addr.arpa"));
        // a zone's replica belongs to the zone (a reconcile groups them), the bridge's other topics to none
        assertEquals("example.com", t.zoneLevelOf(t.replica("example.com")));
        assertNull(t.zoneLevelOf(t.node("a")));
        assertNull(t.zoneLevelOf(t.bridgeState()));
    }
}
