package org.dnssec2mqtt.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One node against a real mosquitto (the in-JVM broker does not mark retained copies as such, and
 * cluster mode needs an external broker anyway), with the other node played by plain MQTT clients: what a
 * standby does when the other node's cluster connection is gone but its bridge connection says
 * online on the bridge state topic (seen in the cluster test: after two broker restarts in a row
 * the active node's cluster connection hung in its reconnect for 12 s while its bridge connection
 * was back and publishing; the standby took the role too).
 */
@Timeout(60)
class MembershipIT {
    static final Topics TOPICS = new Topics("dnssec");
    static final Duration WAIT = Duration.ofSeconds(20);

    MosquittoBroker broker;
    MqttRecorder watcher;

    @BeforeEach
    void broker() {
        broker = MosquittoBroker.start();
        watcher = new MqttRecorder(broker.url(), "dnssec/_bridge/#");
    }

    @AfterEach
    void stop() {
        watcher.close();
        broker.close();
    }

    /** The listener of node b: counts its role changes. */
    static final class Roles implements Membership.Listener {
        final CountDownLatch active = new CountDownLatch(1);

        @Override
        public void becomeActive() {
            active.countDown();
        }

        @Override
        public void becomeStandby() {}

        @Override
        public void replica(String zoneLevel, String payload) {}

        @Override
        public void bridgeStateElsewhere() {}

        @Override
        public void nodesChanged(List<String> nodes) {}
    }

    Membership node(String name, Roles roles, int keepalive) throws Exception {
        MqttLink.Settings settings = new MqttLink.Settings(broker.url(), "membership-test-" + name, null, null, null,
                keepalive);
        return new Membership(name, TOPICS, settings, roles, Clock.systemUTC());
    }

    /** Node a's bridge connection: online on the bridge state topic, its last will offline. */
    MqttAsyncClient bridgeConnectionOfA() throws Exception {
        MqttAsyncClient a = new MqttAsyncClient(broker.url(), "membership-test-a-bridge", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setWill(TOPICS.bridgeState(), Payloads.offline().getBytes(StandardCharsets.UTF_8), 1, true);
        a.connect(o).waitForCompletion(10_000);
        a.publish(TOPICS.bridgeState(), Payloads.online(Instant.now(), Map.of("node", "a"))
                .getBytes(StandardCharsets.UTF_8), 1, true).waitForCompletion(10_000);
        return a;
    }

    @Test
    void aStandbyDoesNotTakeOverWhileTheOtherNodesBridgeConnectionSaysOnline() throws Exception {
        Roles roles = new Roles();
        try (Membership b = node("b", roles, 30)) {
            b.start();
            watcher.await(m -> m.topic().equals(TOPICS.node("b")) && m.payload().contains("\"online\""), WAIT);
            MqttAsyncClient a = bridgeConnectionOfA(); // heard live by b; a's own node topic never comes
            try {
                // b settles 1.5 s after its echo and would take the role 0.3 s after a second echo
                long window = Membership.SETTLE_MS + Membership.CONFIRM_MS + 2_000;
                assertFalse(roles.active.await(window, TimeUnit.MILLISECONDS),
                        "b took the role while node a's bridge connection said online");
            } finally {
                a.disconnectForcibly(0, 0, false); // no DISCONNECT: the broker sends a's will (offline)
                a.close(true);
            }
            assertTrue(roles.active.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                    "b did not take the role once a's bridge connection was gone");
        }
    }

    @Test
    void anOldRetainedOnlineOfAnotherNodeIsTakenForStaleAfterTheWait() throws Exception {
        // a's bridge connection said online, then went without its will (a clean disconnect,
        // as when it stands by again): a retained copy that nobody will correct
        MqttAsyncClient a = bridgeConnectionOfA();
        a.disconnect().waitForCompletion(10_000);
        a.close();
        assertTrue(watcher.retained(TOPICS.bridgeState()).orElseThrow().contains("\"node\":\"a\""));
        Roles roles = new Roles();
        int keepalive = 1; // the stale wait: settle + 2 x keepalive + 5 s
        try (Membership b = node("b", roles, keepalive)) {
            long started = System.nanoTime();
            b.start();
            long stale = Membership.RESETTLE_MS + 2_000L * keepalive;
            assertTrue(roles.active.await(stale + Membership.SETTLE_MS + 10_000, TimeUnit.MILLISECONDS),
                    "b never took the role from a stale online copy");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(ms >= stale, "b took the role after " + ms + " ms, before the stale wait of " + stale + " ms");
        }
    }
}
