package org.dnssec2mqtt.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo end to end on free ports with a 300 ms interval: a subscriber sees the whole KSK
 * rollover (stand-by KSK, activation, RFC 5011 revocation, removal) as events and retained topics,
 * and a clean stop leaves the bridge's state at offline.
 */
@Timeout(60)
class DemoIT {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String EVENTS = "dnssec/demo.example/events";

    @TempDir
    Path dir;

    @Test
    void keysRollAndEverySubscriberSeesIt() throws Exception {
        int mqttPort = FreePorts.tcp();
        Path config = dir.resolve("demo.properties");
        // the demo's own defaults (ports 5300, 1883) would collide with other builds: free ports here
        Files.writeString(config, """
                notify.listen = 127.0.0.1:0
                mqtt.embedded.listen = 127.0.0.1:%d
                """.formatted(mqttPort));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

        Demo demo = Demo.open(config, Map.of(), Duration.ofMillis(300), out);
        MqttRecorder mqtt = null;
        try {
            assertEquals("mosquitto_sub -h 127.0.0.1 -p " + mqttPort + " -v -t 'dnssec/#'", demo.watchCommand());
            mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#");
            demo.start();

            JsonObject added = event(mqtt, "zone_added");
            assertEquals(2, added.getAsJsonArray("keytags").size());

            JsonObject standby = event(mqtt, "key_added");
            assertEquals("KSK", standby.get("role").getAsString());
            assertEquals("standby", standby.get("state").getAsString());
            int newKsk = standby.get("keytag").getAsInt();

            MqttRecorder.Received activated = mqtt.await(m -> m.topic().equals(EVENTS)
                    && m.payload().contains("\"event\":\"key_changed\"") && m.payload().contains("\"keytag\":" + newKsk + ","), WAIT);
            JsonObject changed = json(activated.payload());
            assertEquals("standby", changed.get("previous_state").getAsString());
            assertEquals("active", changed.get("state").getAsString());

            JsonObject revoked = event(mqtt, "key_revoked");
            int revokedTag = revoked.get("keytag").getAsInt();
            int originalTag = revoked.get("original_keytag").getAsInt();
            assertNotEquals(originalTag, revokedTag);
            assertEquals(1, revoked.get("priority").getAsInt());
            // RFC 5011 §2.1: a new tag; the old topic is cleared, the key lives on under the new one
            mqtt.await(m -> m.topic().equals("dnssec/demo.example/keys/" + originalTag) && m.payload().isEmpty(), WAIT);
            assertEquals("revoked", json(mqtt.await("dnssec/demo.example/keys/" + revokedTag, WAIT).payload())
                    .get("state").getAsString());

            JsonObject removed = event(mqtt, "key_removed");
            assertEquals(revokedTag, removed.get("keytag").getAsInt());
            mqtt.await(m -> m.topic().equals("dnssec/demo.example/keys/" + revokedTag) && m.payload().isEmpty(), WAIT);

            String said = printed.toString(StandardCharsets.UTF_8);
            assertTrue(said.contains("demo: revoked KSK " + originalTag + " (now " + revokedTag + ")"), said);
            assertTrue(said.contains("demo: removed revoked KSK " + revokedTag), said);
        } finally {
            demo.close();
        }
        // the bridge published offline on the way out (a retained last will alone is not stored)
        mqtt.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().equals("{\"state\":\"offline\"}"), WAIT);
        mqtt.close();
        assertFalse(Files.exists(dir.resolve("data")), "the demo keeps its state in a temporary directory");
    }

    @Test
    void intervalAcceptsMillisecondsAndConfigDurations() {
        assertEquals(Duration.ofMillis(300), Demo.interval("300ms"));
        assertEquals(Duration.ofSeconds(5), Demo.interval("5s"));
        assertEquals(Duration.ofMinutes(1), Demo.interval("1m"));
        IllegalArgumentException zero = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Demo.interval("0"));
        assertEquals("must be more than 0; got '0'", zero.getMessage());
    }

    @Test
    void demoDefaultsGiveWayToTheFileAndTheEnvironmentButNotTheQueryPort() throws Exception {
        Path config = dir.resolve("user.properties");
        Files.writeString(config, "notify.listen = 127.0.0.1:0\ndns.query-port = 53\n");
        Map<String, String> env = Demo.overlay(config, Map.of("DNSSEC2MQTT_DATA_DIR", "/srv/x"),
                Map.of("notify.listen", "127.0.0.1:5300", "data.dir", "/tmp/demo", "mqtt.embedded.listen", "127.0.0.1:1883"),
                40053);
        assertFalse(env.containsKey("DNSSEC2MQTT_NOTIFY_LISTEN"), "the file sets it");
        assertEquals("/srv/x", env.get("DNSSEC2MQTT_DATA_DIR"));
        assertEquals("127.0.0.1:1883", env.get("DNSSEC2MQTT_MQTT_EMBEDDED_LISTEN"));
        assertEquals("40053", env.get("DNSSEC2MQTT_DNS_QUERY_PORT"));
    }

    static JsonObject event(MqttRecorder mqtt, String type) {
        return json(mqtt.await(m -> m.topic().equals(EVENTS) && m.payload().contains("\"event\":\"" + type + "\""), WAIT).payload());
    }

    static JsonObject json(String payload) {
        return JsonParser.parseString(payload).getAsJsonObject();
    }
}
