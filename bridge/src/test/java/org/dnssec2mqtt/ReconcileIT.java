package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/**
 * Issue 10's "exactly one publish per change", seen by a subscriber with a persistent session on a
 * real mosquitto (with persistence): each key topic arrives once per content change across a
 * bridge restart, a broker restart, a NOTIFY during start-up, and a restart that lost its state
 * files (the zone is adopted from the broker's retained copy, never wiped).
 */
@Timeout(120)
class ReconcileIT {
    static final Duration WAIT = Duration.ofSeconds(15);
    static final Name ZONE = Name.fromConstantString("example.test.");

    @TempDir
    Path dir;

    Main.Running start(MosquittoBroker broker, AuthServer auth) {
        try {
            return Main.start(TestConfig.load(dir, """
                    notify.listen = 127.0.0.1:0
                    dns.query-port = %d
                    dns.timeout = 2s
                    mqtt.url = %s
                    data.dir = %s
                    """.formatted(auth.port(), broker.url(), dir.resolve("data"))), Clock.systemUTC());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void notify(AuthServer auth, Main.Running bridge) throws Exception {
        assertEquals(Rcode.NOERROR, auth.notify(ZONE, bridge.listener.udpAddresses().get(0), 3));
    }

    static long count(MqttRecorder r, String topic) {
        return r.messages().stream().filter(m -> m.topic().equals(topic)).count();
    }

    /** Waits until the bridge reconciled {@code n} connects (it publishes the differences during it). */
    static void awaitReconciled(Main.Running bridge, int n) throws InterruptedException {
        awaitCount(bridge.mqtt::reconciles, n, "connects reconciled");
    }

    /** Waits until {@code n} checks ended since the bridge started (the start-up check). */
    static void awaitChecks(Main.Running bridge, int n) throws InterruptedException {
        awaitCount(bridge.bridge::completedChecks, n, "checks ended");
    }

    /** Polls one of the bridge's counters until it reaches {@code n}; fails after {@link #WAIT}. */
    static void awaitCount(java.util.function.LongSupplier counter, int n, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (counter.getAsLong() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": " + counter.getAsLong() + ", expected " + n);
            }
            Thread.sleep(10); // polling a counter: nothing to wait on
        }
    }

    @Test
    void eachKeyTopicArrivesOncePerChangeAcrossRestarts() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.start(
                "allow_anonymous true\npersistence true\npersistence_location ${dir}/\n", Map.of());
                AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start()) {
            Assumptions.assumeFalse(broker.inContainer(), "restarting on the same port needs the local mosquitto");
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            auth.add(zone);
            DemoZone.Key ksk = zone.addKey(true, true);
            DemoZone.Key zsk = zone.addKey(false, true);
            String kskTopic = "dnssec/example.test/keys/" + ksk.tag();
            String zskTopic = "dnssec/example.test/keys/" + zsk.tag();
            MqttRecorder sub = MqttRecorder.persistent(broker.url(), "dnssec/#", "reconcile-it");
            try {
                // 1. first sight
                Main.Running bridge = start(broker, auth);
                awaitReconciled(bridge, 1);
                notify(auth, bridge);
                sub.await(m -> m.topic().equals("dnssec/example.test/events") && m.payload().contains("zone_added"), WAIT);
                sub.await(zskTopic, WAIT);
                sub.await(kskTopic, WAIT);
                // 2. a bridge restart: the start-up check finds nothing new; nothing is sent again
                bridge.close();
                bridge = start(broker, auth);
                awaitReconciled(bridge, 1);
                awaitChecks(bridge, 1);
                // 3. a broker restart with persistence: the reconcile finds everything in place
                broker.stop();
                broker.restart();
                awaitReconciled(bridge, 2);
                // 4. a NOTIFY during start-up, for a change made while the bridge was down
                bridge.close();
                DemoZone.Key standby = zone.addKey(true, false);
                bridge = start(broker, auth);
                notify(auth, bridge);
                String standbyTopic = "dnssec/example.test/keys/" + standby.tag();
                sub.await(standbyTopic, WAIT);
                awaitReconciled(bridge, 1);
                // 5. a restart that lost its state files: the zone is adopted, its keys are not wiped
                bridge.close();
                try (Stream<Path> files = Files.list(dir.resolve("data/zones"))) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
                bridge = start(broker, auth);
                awaitReconciled(bridge, 1);
                awaitChecks(bridge, 1);
                sub.await(m -> m.topic().equals("dnssec/example.test/state") && m.payload().contains("\"keys\":3"), WAIT);
                bridge.close();

                for (String t : List.of(kskTopic, zskTopic, standbyTopic)) {
                    assertEquals(1, count(sub, t), t + " must arrive exactly once:\n" + sub.dump());
                }
                assertEquals(1, sub.messages().stream().filter(m -> m.payload().contains("\"event\":\"zone_added\"")).count(),
                        "one zone_added in all, the adoption raises none:\n" + sub.dump());
                assertEquals(1, sub.messages().stream().filter(m -> m.payload().contains("\"event\":\"key_added\"")).count(),
                        sub.dump());
            } finally {
                sub.close();
            }
        }
    }
}
