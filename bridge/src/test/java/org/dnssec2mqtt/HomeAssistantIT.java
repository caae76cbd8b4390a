package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/**
 * Home Assistant discovery end to end: an in-process authoritative server NOTIFYs the bridge on
 * its embedded broker, and real Paho clients play Home Assistant (reading the retained discovery
 * configs, announcing its start on {@code homeassistant/status}).
 */
@Timeout(60)
class HomeAssistantIT {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final Name ZONE = Name.fromConstantString("example.test.");
    static final List<String> CONFIGS = List.of(
            "homeassistant/sensor/dnssec2mqtt/example_test_keys/config",
            "homeassistant/sensor/dnssec2mqtt/example_test_ksk_keytags/config",
            "homeassistant/sensor/dnssec2mqtt/example_test_rrsig_days_left/config",
            "homeassistant/sensor/dnssec2mqtt/example_test_changed_at/config",
            "homeassistant/binary_sensor/dnssec2mqtt/example_test_problem/config");
    static final Predicate<MqttRecorder.Received> DISCOVERY =
            m -> m.topic().startsWith("homeassistant/") && m.topic().endsWith("/config");

    @TempDir
    Path dir;
    AuthServer auth;
    Main.Running bridge;
    MqttRecorder mqtt;
    int mqttPort;
    InetSocketAddress notifyAt;

    @BeforeEach
    void setUp() throws Exception {
        DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
        zone.addKey(true, true);
        zone.addKey(false, true);
        auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
        auth.add(zone);
        mqttPort = FreePorts.tcp();
    }

    void start(boolean enabled) {
        Config config = TestConfig.load(dir, """
                notify.listen = 127.0.0.1:0
                dns.query-port = %d
                dns.timeout = 2s
                mqtt.embedded.listen = 127.0.0.1:%d
                data.dir = %s
                homeassistant.enabled = %s
                """.formatted(auth.port(), mqttPort, dir.resolve("data"), enabled));
        try {
            bridge = Main.start(config, Clock.systemUTC());
        } catch (Exception e) {
            throw new AssertionError("bridge did not start", e);
        }
        notifyAt = bridge.listener.udpAddresses().get(0);
        mqtt = recorder();
        mqtt.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("\"state\":\"online\""), WAIT);
    }

    MqttRecorder recorder() {
        return new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "#");
    }

    @AfterEach
    void tearDown() {
        if (mqtt != null) {
            mqtt.close();
        }
        if (bridge != null) {
            bridge.close();
        }
        auth.close();
    }

    void notifyBridge() throws Exception {
        assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
    }

    void awaitAllConfigs(MqttRecorder r) {
        for (String topic : CONFIGS) {
            r.await(m -> m.topic().equals(topic) && !m.payload().isEmpty(), WAIT);
        }
    }

    @Test
    void discoveryIsRetainedAndRepublishedWhenHomeAssistantStarts() throws Exception {
        start(true);
        notifyBridge();
        mqtt.await("dnssec/example.test/state", WAIT);
        awaitAllConfigs(mqtt);
        JsonObject problem = JsonParser.parseString(mqtt.retained(CONFIGS.get(4)).orElseThrow()).getAsJsonObject();
        assertEquals("dnssec/example.test/state", problem.get("state_topic").getAsString());
        assertEquals("dnssec/example.test/state", problem.get("json_attributes_topic").getAsString());
        assertEquals("dnssec/_bridge/state",
                problem.getAsJsonArray("availability").get(0).getAsJsonObject().get("topic").getAsString());
        assertEquals("DNSSEC example.test", problem.getAsJsonObject("device").get("name").getAsString());

        // retained: a client that subscribes later (Home Assistant starting) still gets every config
        try (MqttRecorder late = recorder()) {
            awaitAllConfigs(late);
        }

        // the next check publishes the state again, not the discovery configs
        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/recheck", "example.test", false);
        mqtt.await("dnssec/_bridge/response/recheck", WAIT);
        mqtt.expectNone(DISCOVERY, Duration.ofMillis(300));

        // Home Assistant's birth message: every config again; "offline" (its last will) asks for nothing
        mqtt.publish("homeassistant/status", "offline", false);
        mqtt.expectNone(DISCOVERY, Duration.ofMillis(300));
        mqtt.publish("homeassistant/status", "online", false);
        awaitAllConfigs(mqtt);
        assertEquals(CONFIGS.size(), mqtt.messages().stream().filter(DISCOVERY).count(), mqtt.dump());
    }

    @Test
    void noDiscoveryWhenDisabled() throws Exception {
        start(false);
        notifyBridge();
        mqtt.await("dnssec/example.test/state", WAIT);
        mqtt.publish("homeassistant/status", "online", false);
        mqtt.expectNone(DISCOVERY, Duration.ofMillis(500));
    }
}
