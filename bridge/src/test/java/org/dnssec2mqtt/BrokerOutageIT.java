package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.LogCapture;
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
 * A real mosquitto (with persistence, so stale retained messages survive its restart) goes away
 * for {@code -Doutage.seconds} (5 s in CI; 60 s for the documented longer run) while keys are
 * added, removed and revoked. After it comes back on the same port: every retained key topic
 * equals the zone's keys (removed keys' topics cleared), every event was delivered (QoS 1, at
 * least once), and the bridge logged a WARN saying how long the broker was away.
 */
@Timeout(240)
class BrokerOutageIT {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final long OUTAGE_SECONDS = Long.getLong("outage.seconds", 5);
    static final Name ZONE = Name.fromConstantString("example.test.");

    @TempDir
    Path dir;

    @Test
    void retainedTopicsEqualTheTruthAndNoEventIsLostAfterAnOutage() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.start(
                "allow_anonymous true\npersistence true\npersistence_location ${dir}/\n", Map.of());
                AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
                LogCapture log = LogCapture.start()) {
            Assumptions.assumeFalse(broker.inContainer(), "restarting on the same port needs the local mosquitto");
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            auth.add(zone);
            DemoZone.Key ksk = zone.addKey(true, true);
            DemoZone.Key zsk = zone.addKey(false, true);
            // A persistent session: the broker keeps our subscription and queues what the bridge
            // sends after the restart even if the bridge is back before we are.
            MqttRecorder events = MqttRecorder.persistent(broker.url(), "dnssec/+/events", "outage-events");
            Main.Running bridge = Main.start(TestConfig.load(dir, """
                    notify.listen = 127.0.0.1:0
                    dns.query-port = %d
                    dns.timeout = 2s
                    poll.full-interval = 0
                    mqtt.url = %s
                    data.dir = %s
                    """.formatted(auth.port(), broker.url(), dir.resolve("data"))), Clock.systemUTC());
            try {
                var notifyAt = bridge.listener.udpAddresses().get(0);
                try (MqttRecorder all = new MqttRecorder(broker.url(), "dnssec/#")) {
                    all.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("online"), WAIT);
                    assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
                    events.await(m -> m.payload().contains("\"zone_added\""), WAIT);
                    all.await("dnssec/example.test/keys/" + zsk.tag(), WAIT);
                }
                int zskTag = zsk.tag();
                int kskOldTag = ksk.tag();

                broker.stop();
                long down = System.nanoTime();
                long fetches = bridge.bridge.dnskeyFetches();
                // Changes while the broker is away: a stand-by KSK appears, the ZSK is replaced,
                // the old KSK is revoked while the stand-by one takes over.
                DemoZone.Key standby = zone.addKey(true, false);
                assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
                awaitFetches(bridge, fetches + 1);
                zone.remove(zsk);
                DemoZone.Key zsk2 = zone.addKey(false, true);
                assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
                awaitFetches(bridge, fetches + 2);
                zone.activate(standby);
                zone.revoke(ksk);
                assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
                awaitFetches(bridge, fetches + 3);
                long left = OUTAGE_SECONDS * 1000 - (System.nanoTime() - down) / 1_000_000;
                if (left > 0) {
                    Thread.sleep(left); // the outage itself: the scenario, not a wait for a result
                }
                broker.restart();
                long outageMs = (System.nanoTime() - down) / 1_000_000;

                // every event raised while the broker was away arrives (at least once)
                for (String expected : List.of("\"key_added\",\"zone\":\"example.test\",\"keytag\":" + standby.tag(),
                        "\"key_removed\",\"zone\":\"example.test\",\"keytag\":" + zskTag,
                        "\"key_added\",\"zone\":\"example.test\",\"keytag\":" + zsk2.tag(),
                        "\"key_revoked\",\"zone\":\"example.test\",\"keytag\":" + ksk.tag())) {
                    events.await(m -> m.payload().contains("\"event\":" + expected), WAIT);
                }
                String warn = log.await("was away for", WAIT);
                assertTrue(warn.contains("WARN"), warn);

                // a fresh subscriber's retained view is the truth
                Set<Integer> truth = new TreeSet<>();
                zone.keys().forEach(k -> truth.add(k.tag()));
                Map<String, Integer> retained = awaitRetainedKeys(broker.url(), truth);
                assertEquals(truth, new TreeSet<>(retained.values()), "retained " + retained);
                assertTrue(!retained.containsKey("dnssec/example.test/keys/" + zskTag), "removed ZSK still retained");
                assertTrue(!retained.containsKey("dnssec/example.test/keys/" + kskOldTag), "pre-revocation tag still retained");
                System.out.printf("outage: broker away %d ms; %d retained key topics = truth %s; events delivered; "
                        + "bridge outages counted %d%n", outageMs, retained.size(), truth, bridge.mqtt.outages());
            } finally {
                events.close();
                bridge.close();
            }
        }
    }

    static void awaitFetches(Main.Running bridge, long n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (bridge.bridge.dnskeyFetches() < n && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling interval
        }
        assertTrue(bridge.bridge.dnskeyFetches() >= n, "the bridge did not check the zone");
        Thread.sleep(50); // polling interval: let the check finish publishing into the parking lot
    }

    /** Retained key topics as a fresh subscriber sees them, once they match {@code truth} or time is up. */
    static Map<String, Integer> awaitRetainedKeys(String url, Set<Integer> truth) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Map<String, Integer> seen = Map.of();
        while (System.nanoTime() < deadline) {
            try (MqttRecorder fresh = new MqttRecorder(url, "dnssec/example.test/keys/#")) {
                Thread.sleep(300); // polling interval: retained messages arrive right after SUBACK
                Map<String, Integer> now = new TreeMap<>();
                for (MqttRecorder.Received m : fresh.messages()) {
                    if (!m.payload().isEmpty()) {
                        now.put(m.topic(), JsonParser.parseString(m.payload()).getAsJsonObject().get("keytag").getAsInt());
                    }
                }
                seen = now;
                if (new TreeSet<>(now.values()).equals(truth) && now.size() == truth.size()) {
                    return now;
                }
            }
        }
        return seen;
    }
}
