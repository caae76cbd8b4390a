package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HomeAssistantTest {
    final HomeAssistant ha = new HomeAssistant("homeassistant", new Topics("dnssec"), "0.1.0");

    static final String AVAILABILITY = "\"availability\":[{\"topic\":\"dnssec/_bridge/state\","
            + "\"value_template\":\"{{ value_json.state }}\",\"payload_available\":\"online\",\"payload_not_available\":\"offline\"}]";

    static String device(String id, String zone) {
        return "\"device\":{\"identifiers\":[\"dnssec2mqtt_" + id + "\"],\"name\":\"DNSSEC " + zone
                + "\",\"manufacturer\":\"dnssec2mqtt\",\"model\":\"dnssec2mqtt\",\"sw_version\":\"0.1.0\"}";
    }

    @Test
    void discoveryTopicsAndJsonForAZone() {
        String tail = AVAILABILITY + "," + device("example_com", "example.com") + "}";
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("homeassistant/sensor/dnssec2mqtt/example_com_keys/config",
                "{\"name\":\"Keys\",\"unique_id\":\"dnssec2mqtt_example_com_keys\",\"state_topic\":\"dnssec/example.com/state\","
                        + "\"value_template\":\"{{ value_json['keys'] }}\",\"state_class\":\"measurement\","
                        + "\"entity_category\":\"diagnostic\",\"icon\":\"mdi:key-chain\"," + tail);
        expected.put("homeassistant/sensor/dnssec2mqtt/example_com_ksk_keytags/config",
                "{\"name\":\"KSK key tags\",\"unique_id\":\"dnssec2mqtt_example_com_ksk_keytags\",\"state_topic\":\"dnssec/example.com/state\","
                        + "\"value_template\":\"{{ ((value_json.ksk_keytags + value_json.csk_keytags) | join(', ')) or 'none' }}\","
                        + "\"icon\":\"mdi:key\"," + tail);
        expected.put("homeassistant/sensor/dnssec2mqtt/example_com_rrsig_days_left/config",
                "{\"name\":\"Signature days left\",\"unique_id\":\"dnssec2mqtt_example_com_rrsig_days_left\",\"state_topic\":\"dnssec/example.com/state\","
                        + "\"value_template\":\"{{ value_json.rrsig_days_left | default(None) }}\",\"device_class\":\"duration\","
                        + "\"unit_of_measurement\":\"d\",\"state_class\":\"measurement\",\"icon\":\"mdi:calendar-clock\"," + tail);
        expected.put("homeassistant/sensor/dnssec2mqtt/example_com_changed_at/config",
                "{\"name\":\"Key set changed\",\"unique_id\":\"dnssec2mqtt_example_com_changed_at\",\"state_topic\":\"dnssec/example.com/state\","
                        + "\"value_template\":\"{{ value_json.changed_at }}\",\"device_class\":\"timestamp\"," + tail);
        expected.put("homeassistant/binary_sensor/dnssec2mqtt/example_com_problem/config",
                "{\"name\":\"Problem\",\"unique_id\":\"dnssec2mqtt_example_com_problem\",\"state_topic\":\"dnssec/example.com/state\","
                        + "\"value_template\":\"{{ 'OFF' if value_json.status == 'ok' else 'ON' }}\",\"payload_on\":\"ON\","
                        + "\"payload_off\":\"OFF\",\"device_class\":\"problem\",\"json_attributes_topic\":\"dnssec/example.com/state\","
                        + tail);
        Map<String, String> configs = ha.configs("example.com");
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(configs.keySet()));
        expected.forEach((topic, json) -> assertEquals(json, configs.get(topic), topic));
    }

    @Test
    void rfc2317ZoneKeepsItsEscapedStateTopicAndGetsAnUnambiguousObjectId() {
        Map<String, String> configs = ha.configs("0/25.2.0.192.in-addr.arpa");
        assertEquals(List.of(
                "homeassistant/sensor/dnssec2mqtt/0__2f25_2_0_192_in__2daddr_arpa_keys/config",
                "homeassistant/sensor/dnssec2mqtt/0__2f25_2_0_192_in__2daddr_arpa_ksk_keytags/config",
                "homeassistant/sensor/dnssec2mqtt/0__2f25_2_0_192_in__2daddr_arpa_rrsig_days_left/config",
                "homeassistant/sensor/dnssec2mqtt/0__2f25_2_0_192_in__2daddr_arpa_changed_at/config",
                "homeassistant/binary_sensor/dnssec2mqtt/0__2f25_2_0_192_in__2daddr_arpa_problem/config"),
                List.copyOf(configs.keySet()));
        assertEquals("{\"name\":\"Problem\",\"unique_id\":\"dnssec2mqtt_0__2f25_2_0_192_in__2daddr_arpa_problem\","
                + "\"state_topic\":\"dnssec/0%2F25.2.0.192.in-addr.arpa/state\","
                + "\"value_template\":\"{{ 'OFF' if value_json.status == 'ok' else 'ON' }}\",\"payload_on\":\"ON\","
                + "\"payload_off\":\"OFF\",\"device_class\":\"problem\","
                + "\"json_attributes_topic\":\"dnssec/0%2F25.2.0.192.in-addr.arpa/state\"," + AVAILABILITY + ","
                + device("0__2f25_2_0_192_in__2daddr_arpa", "0/25.2.0.192.in-addr.arpa") + "}",
                configs.get("homeassistant/binary_sensor/dnssec2mqtt/0__2f25_2_0_192_in__2daddr_arpa_problem/config"));
    }

    @Test
    void rootZone() {
        Map<String, String> configs = ha.configs(".");
        assertEquals(List.of(
                "homeassistant/sensor/dnssec2mqtt/root_keys/config",
                "homeassistant/sensor/dnssec2mqtt/root_ksk_keytags/config",
                "homeassistant/sensor/dnssec2mqtt/root_rrsig_days_left/config",
                "homeassistant/sensor/dnssec2mqtt/root_changed_at/config",
                "homeassistant/binary_sensor/dnssec2mqtt/root_problem/config"),
                List.copyOf(configs.keySet()));
        assertEquals("{\"name\":\"Key set changed\",\"unique_id\":\"dnssec2mqtt_root_changed_at\",\"state_topic\":\"dnssec/./state\","
                + "\"value_template\":\"{{ value_json.changed_at }}\",\"device_class\":\"timestamp\"," + AVAILABILITY + ","
                + device("root", ".") + "}", configs.get("homeassistant/sensor/dnssec2mqtt/root_changed_at/config"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            .                          | root
            root                       | __72oot
            example.com                | example_com
            Example.COM.               | example_com
            my-site.example            | my__2dsite_example
            _tcp.example               | __5ftcp_example
            a_b.example                | a__5fb_example
            a.b_example                | a_b__5fexample
            a\\.b.example              | a__2eb_example
            0/25.2.0.192.in-addr.arpa  | 0__2f25_2_0_192_in__2daddr_arpa
            xn--bcher-kva.example      | xn__2d__2dbcher__2dkva_example
            """)
    void objectIdRule(String zone, String id) {
        assertEquals(id, HomeAssistant.objectId(zone));
        assertTrue(id.matches("[a-z0-9_]+"), id);
    }

    /** Names that a lossy rule (every special character to '_') would merge stay apart. */
    @Test
    void objectIdsNeverCollide() {
        List<String> zones = List.of(".", "root", "a.b", "a_b", "a-b", "a/b", "a\\.b", "a._b", "a.-b", "a__5fb",
                "a.__5fb", "a_.b", "ab", "a.b.c", "a_b.c", "a.b_c", "a-.b", "a.-.b", "_.a");
        Map<String, String> seen = new HashMap<>();
        for (String z : zones) {
            String before = seen.put(HomeAssistant.objectId(z), z);
            assertEquals(null, before, z + " and " + before + " share " + HomeAssistant.objectId(z));
        }
    }

    @Test
    void birthMessageIsOnlineOnTheStatusTopic() {
        assertEquals("homeassistant/status", ha.statusTopic());
        assertTrue(ha.isBirth("homeassistant/status", "online".getBytes(StandardCharsets.UTF_8)));
        assertTrue(ha.isBirth("homeassistant/status", "online\n".getBytes(StandardCharsets.UTF_8)));
        assertFalse(ha.isBirth("homeassistant/status", "offline".getBytes(StandardCharsets.UTF_8)));
        assertFalse(ha.isBirth("dnssec/_bridge/request/status", "online".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void otherPrefixes() {
        HomeAssistant other = new HomeAssistant("ha", new Topics("dns/sec"), "0.1.0");
        assertEquals("ha/status", other.statusTopic());
        String json = other.configs("example.com").get("ha/binary_sensor/dnssec2mqtt/example_com_problem/config");
        assertTrue(json.contains("\"state_topic\":\"dns/sec/example.com/state\""), json);
        assertTrue(json.contains("\"topic\":\"dns/sec/_bridge/state\""), json);
    }

    @Test
    void badZoneNameIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> HomeAssistant.objectId("a..b"));
    }

    @Test
    void inAClusterEntitiesAreAvailableWhileAnyNodeIsOnline() {
        Topics topics = new Topics("dnssec");
        HomeAssistant ha = new HomeAssistant("homeassistant", topics, "test", () -> List.of("a", "b"));
        String config = ha.configs("example.com").values().iterator().next();
        com.google.gson.JsonObject c = com.google.gson.JsonParser.parseString(config).getAsJsonObject();
        assertEquals("any", c.get("availability_mode").getAsString());
        assertEquals(List.of("dnssec/_bridge/nodes/a", "dnssec/_bridge/nodes/b"),
                c.getAsJsonArray("availability").asList().stream()
                        .map(e -> e.getAsJsonObject().get("topic").getAsString()).toList());
        String single = new HomeAssistant("homeassistant", topics, "test").configs("example.com").values().iterator().next();
        assertFalse(single.contains("availability_mode"));
        assertTrue(single.contains("\"topic\":\"dnssec/_bridge/state\""), single);
    }
}
