package org.dnssec2mqtt.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import io.moquette.broker.config.FileResourceLoader;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.ResourceLoaderConfig;
import org.dnssec2mqtt.support.AuthoritativeServer;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.Peers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves broker-config/ as shipped: a real mosquitto runs with broker-config/mosquitto.conf and
 * broker-config/acl, and real Paho clients show that each ACL line grants what it should and
 * nothing more. moquette.conf is parsed with Moquette's own parser.
 *
 * <p>Only what cannot work on a test machine is rewritten in mosquitto.conf, each in place (same
 * line, same option): the listener's port (a free one), the three paths (password file, ACL file,
 * persistence location: into the test's directory) and {@code user} (mosquitto started as root
 * would switch to "mosquitto", who cannot read a private temp directory). The password file is
 * made with the real {@code mosquitto_passwd}, as passwords.example says.
 *
 * <p>mosquitto drops an unauthorized publish silently under MQTT 3.1.1 (the client still gets its
 * PUBACK). So "denied" is shown as "not delivered": the denied publishes come first, then a
 * control message that is allowed; once the control message has arrived, a denied one would
 * have arrived before it, and a further 1 s window catches stragglers.
 */
@Timeout(60)
class BrokerConfigIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration QUIET = Duration.ofSeconds(1);
    private static final List<String> USERS = List.of("dnssec2mqtt", "reader", "operator", "homeassistant");
    private static final Map<String, String> PASSWORDS = new HashMap<>();
    private static final AtomicInteger CONTROL = new AtomicInteger();

    private static MosquittoBroker broker;

    /** Any failure also shows the broker's log (refused logins and denied publishes are logged there). */
    @RegisterExtension
    static final TestExecutionExceptionHandler WITH_BROKER_LOG = (context, failure) -> {
        throw new AssertionError(failure.getMessage() + "\n" + (broker == null ? "" : broker.log()), failure);
    };

    @BeforeAll
    static void startBroker(@TempDir Path tmp) throws IOException {
        Path passwd = Peers.require("mosquitto_passwd");
        Path config = brokerConfig();
        Path passwords = tmp.resolve("passwords");
        for (String user : USERS) {
            PASSWORDS.put(user, AuthoritativeServer.randomSecret());
            List<String> command = new ArrayList<>(List.of(passwd.toString()));
            if (user.equals(USERS.get(0))) {
                command.add("-c"); // creates the file, as in passwords.example
            }
            command.addAll(List.of("-b", passwords.toString(), user, PASSWORDS.get(user)));
            run(command);
        }
        String conf = rewrite(Files.readString(config.resolve("mosquitto.conf"), StandardCharsets.UTF_8));
        broker = MosquittoBroker.startLocalExact(conf, Map.of(
                "passwords", Files.readString(passwords, StandardCharsets.UTF_8),
                "acl", Files.readString(config.resolve("acl"), StandardCharsets.UTF_8)));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void anonymousAndWrongPasswordsAreRefused() {
        assertThrows(IllegalStateException.class, () -> new MqttRecorder(broker.url(), "dnssec/#").close());
        assertThrows(IllegalStateException.class,
                () -> new MqttRecorder(broker.url(), "dnssec/#", "reader", "wrong").close());
        assertThrows(IllegalStateException.class,
                () -> new MqttRecorder(broker.url(), "dnssec/#", "nobody", "x").close());
    }

    @Test
    void bridgePublishesEachOfItsTopicsAndReadersSeeThem() {
        try (MqttRecorder reader = client("reader", "dnssec/#");
                MqttRecorder homeassistant = client("homeassistant", "homeassistant/#");
                MqttRecorder bridge = client("dnssec2mqtt", "dnssec/_bridge/request/#")) {
            for (String topic : List.of(
                    "dnssec/example.test/keys/12345",       // dnssec/+/keys/#
                    "dnssec/example.test/state",            // dnssec/+/state
                    "dnssec/example.test/events",           // dnssec/+/events
                    "dnssec/example.test/servers/127.0.0.1:53", // dnssec/+/servers/#
                    "dnssec/_bridge/state",                 // dnssec/_bridge/state
                    "dnssec/_bridge/response/recheck")) {   // dnssec/_bridge/response/#
                String payload = "{\"from\":\"bridge\",\"n\":" + CONTROL.incrementAndGet() + "}";
                bridge.publish(topic, payload, false);
                reader.await(m -> m.topic().equals(topic) && m.payload().equals(payload), WAIT);
            }
            // homeassistant/#: discovery configs reach Home Assistant
            String discovery = "homeassistant/sensor/dnssec2mqtt/example_test_state/config";
            bridge.publish(discovery, "{\"name\":\"example.test\"}", false);
            homeassistant.await(discovery, WAIT);
        }
    }

    @Test
    void bridgeCannotPublishRequestsNorOutsideItsTopics() {
        try (MqttRecorder operator = client("operator", "dnssec/#");
                MqttRecorder bridge = client("dnssec2mqtt", "dnssec/_bridge/request/#")) {
            List<String> denied = List.of(
                    "dnssec/_bridge/request/recheck",   // only the operator asks for work
                    "dnssec/_bridge/request",
                    "dnssec/example.test/other",
                    "dnssec/example.test",
                    "dnssec/_bridge/other");
            denied.forEach(topic -> bridge.publish(topic, "denied", false));
            String control = control();
            bridge.publish("dnssec/_bridge/state", control, false);
            operator.await(m -> m.payload().equals(control), WAIT);
            operator.expectNone(m -> m.payload().equals("denied"), QUIET);
            // not even to itself: it may read requests, but did not manage to write one
            bridge.expectNone(m -> m.payload().equals("denied"), Duration.ZERO);
        }
    }

    @Test
    void readerCannotPublishAnything() {
        try (MqttRecorder operator = client("operator", "dnssec/#");
                MqttRecorder homeassistant = client("homeassistant", "homeassistant/#");
                MqttRecorder reader = client("reader", "dnssec/#")) {
            for (String topic : List.of("dnssec/example.test/state", "dnssec/example.test/keys/12345",
                    "dnssec/example.test/events", "dnssec/_bridge/state", "dnssec/_bridge/request/recheck",
                    "dnssec/_bridge/response/recheck", "homeassistant/status")) {
                reader.publish(topic, "from-reader", false);
            }
            // controls through the same broker after the denied publishes
            String control = control();
            try (MqttRecorder bridge = client("dnssec2mqtt", "homeassistant/status")) {
                bridge.publish("dnssec/_bridge/state", control, false);
                operator.await(m -> m.payload().equals(control), WAIT);
                homeassistant.publish("homeassistant/status", control, false);
                homeassistant.await(m -> m.payload().equals(control), WAIT);
            }
            operator.expectNone(m -> m.payload().equals("from-reader"), QUIET);
            homeassistant.expectNone(m -> m.payload().equals("from-reader"), Duration.ZERO);
            reader.expectNone(m -> m.payload().equals("from-reader"), Duration.ZERO);
        }
    }

    @Test
    void operatorPublishesRequestsThatReachTheBridgeAndNothingElse() {
        try (MqttRecorder bridge = client("dnssec2mqtt", "dnssec/_bridge/request/#");
                MqttRecorder reader = client("reader", "dnssec/#");
                MqttRecorder operator = client("operator", "dnssec/_bridge/response/#")) {
            operator.publish("dnssec/_bridge/request/recheck", "{\"zone\":\"example.test\",\"transaction\":\"t1\"}", false);
            MqttRecorder.Received request = bridge.await("dnssec/_bridge/request/recheck", WAIT);
            assertEquals("{\"zone\":\"example.test\",\"transaction\":\"t1\"}", request.payload());

            // the bridge answers on response/#, which the operator reads
            bridge.publish("dnssec/_bridge/response/recheck", "{\"status\":\"ok\",\"transaction\":\"t1\"}", false);
            operator.await("dnssec/_bridge/response/recheck", WAIT);

            // the operator cannot pose as the bridge
            for (String topic : List.of("dnssec/example.test/state", "dnssec/example.test/keys/12345",
                    "dnssec/_bridge/state", "dnssec/_bridge/response/recheck", "homeassistant/status")) {
                operator.publish(topic, "from-operator", false);
            }
            String control = control();
            operator.publish("dnssec/_bridge/request/recheck", control, false);
            reader.await(m -> m.payload().equals(control), WAIT);
            reader.expectNone(m -> m.payload().equals("from-operator"), QUIET);
            operator.expectNone(m -> m.payload().equals("from-operator"), Duration.ZERO);
        }
    }

    @Test
    void homeAssistantBirthReachesTheBridge() {
        try (MqttRecorder bridge = client("dnssec2mqtt", "homeassistant/status");
                MqttRecorder homeassistant = client("homeassistant", "dnssec/#")) {
            homeassistant.publish("homeassistant/status", "online", false);
            assertEquals("online", bridge.await("homeassistant/status", WAIT).payload());
        }
    }

    @Test
    void bridgeReadsBackItsOwnRetainedTopicsButNotTheEvents() {
        // after each connect the bridge reads its retained topics back to publish only differences
        try (MqttRecorder own = client("dnssec2mqtt", "dnssec/+/state");
                MqttRecorder operator = client("operator", "dnssec/#")) {
            own.publish("dnssec/example.test/state", "own-state", false);
            own.await(m -> m.topic().equals("dnssec/example.test/state") && m.payload().equals("own-state"), WAIT);
        }
        // mosquitto 2 either refuses the subscription or delivers nothing from it: both are "no read"
        MqttRecorder events;
        try {
            events = client("dnssec2mqtt", "dnssec/+/events");
        } catch (IllegalStateException refused) {
            return;
        }
        try (events; MqttRecorder operator = client("operator", "dnssec/#")) {
            events.publish("dnssec/example.test/events", "own-event", false);
            String control = control();
            events.publish("dnssec/example.test/events", control, false);
            operator.await(m -> m.payload().equals(control), WAIT);
            events.expectNone(m -> m.topic().equals("dnssec/example.test/events"), QUIET);
        }
    }

    @Test
    void moquetteConfParsesWithMoquettesParser() throws IOException {
        Path file = brokerConfig().resolve("moquette.conf");
        IConfig config = new ResourceLoaderConfig(new FileResourceLoader(file.toFile()));
        Properties expected = new Properties();
        expected.putAll(Map.of("host", "127.0.0.1", "port", "1883", "telemetry_enabled", "false",
                "persistence_enabled", "true", "allow_anonymous", "true", "websocket_port", "disabled",
                "allow_zero_byte_client_id", "true", "session_queue_size", "65536",
                "netty.mqtt.message_size", "1048576"));
        for (String key : expected.stringPropertyNames()) {
            assertEquals(expected.getProperty(key), config.getProperty(key), "moquette.conf " + key);
        }
        // every non-comment line is "key value" (Moquette reads a trailing "# ..." as part of the value)
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                assertTrue(line.matches("[a-z_.]+ [^ #]+"), "expected 'key value'; got: " + line);
            }
        }
    }

    private static MqttRecorder client(String user, String filter) {
        return new MqttRecorder(broker.url(), filter, user, PASSWORDS.get(user));
    }

    private static String control() {
        return "control-" + CONTROL.incrementAndGet() + "-" + UUID.randomUUID();
    }

    /** mosquitto.conf with port, paths and user made to work here; fails if an expected line is missing. */
    static String rewrite(String conf) {
        Map<String, String> replacements = Map.of(
                "listener 1883 127.0.0.1", "listener ${port} 127.0.0.1",
                "password_file /etc/mosquitto/dnssec2mqtt/passwords", "password_file ${dir}/passwords",
                "acl_file /etc/mosquitto/dnssec2mqtt/acl", "acl_file ${dir}/acl",
                "persistence_location /var/lib/mosquitto/", "persistence_location ${dir}/",
                "user mosquitto", "user " + System.getProperty("user.name"));
        String result = conf;
        for (Map.Entry<String, String> replacement : replacements.entrySet()) {
            String line = "\n" + replacement.getKey() + "\n";
            if (!result.contains(line)) {
                throw new AssertionError("expected the line '" + replacement.getKey() + "' in broker-config/mosquitto.conf");
            }
            result = result.replace(line, "\n" + replacement.getValue() + "\n");
        }
        return result;
    }

    /** broker-config/ at the top of the repository (tests run in bridge/). */
    static Path brokerConfig() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("broker-config/mosquitto.conf"))) {
                return dir.resolve("broker-config");
            }
        }
        throw new AssertionError("no broker-config/mosquitto.conf above " + Path.of("").toAbsolutePath());
    }

    private static void run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new AssertionError("expected exit 0 from " + command + "; got " + process.exitValue() + "\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
