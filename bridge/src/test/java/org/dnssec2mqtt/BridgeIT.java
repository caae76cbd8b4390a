package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
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
 * The main path end to end, in one JVM: an in-process authoritative server NOTIFYs the bridge,
 * the bridge runs its embedded Moquette broker, and a real Paho subscriber sees the topics.
 */
@Timeout(60)
class BridgeIT {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final Name ZONE = Name.fromConstantString("example.test.");

    @TempDir
    Path dir;
    AuthServer auth;
    DemoZone zone;
    Main.Running bridge;
    MqttRecorder mqtt;
    int mqttPort;
    InetSocketAddress notifyAt;

    @BeforeEach
    void setUp() throws Exception {
        zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
        auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
        auth.add(zone);
        mqttPort = FreePorts.tcp();
        start();
    }

    void start() throws Exception {
        Config config = TestConfig.load(dir, """
                notify.listen = 127.0.0.1:0
                dns.query-port = %d
                dns.timeout = 2s
                mqtt.embedded.listen = 127.0.0.1:%d
                data.dir = %s
                keylog.file = %s
                """.formatted(auth.port(), mqttPort, dir.resolve("data"), dir.resolve("keys.log")));
        bridge = Main.start(config, Clock.systemUTC());
        notifyAt = bridge.listener.udpAddresses().get(0);
        mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#");
        mqtt.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("\"state\":\"online\""), WAIT);
    }

    void stop() {
        if (mqtt != null) {
            mqtt.close();
        }
        if (bridge != null) {
            bridge.close();
        }
    }

    @AfterEach
    void tearDown() {
        stop();
        auth.close();
    }

    JsonObject json(MqttRecorder.Received m) {
        return JsonParser.parseString(m.payload()).getAsJsonObject();
    }

    MqttRecorder.Received event(String type) {
        return mqtt.await(m -> m.topic().equals("dnssec/example.test/events") && m.payload().contains("\"event\":\"" + type + "\""), WAIT);
    }

    /** The key log once it contains {@code line}; fails with its content after {@link #WAIT}. */
    String keyLogContaining(String line) throws Exception {
        Path file = dir.resolve("keys.log");
        long deadline = System.nanoTime() + WAIT.toNanos();
        String log = "";
        while (System.nanoTime() < deadline) {
            log = Files.exists(file) ? Files.readString(file) : "";
            if (log.contains(line)) {
                return log;
            }
            Thread.sleep(10); // polling a file: there is nothing to wait on
        }
        throw new AssertionError("expected '" + line + "' in the key log; got:\n" + log);
    }

    void notifyBridge() throws Exception {
        assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
    }

    @Test
    void keysAppearAreRevokedAndVanish() throws Exception {
        DemoZone.Key ksk = zone.addKey(true, true);
        DemoZone.Key zsk = zone.addKey(false, true);
        notifyBridge();

        JsonObject added = json(event("zone_added"));
        assertEquals("example.test", added.get("zone").getAsString());
        assertEquals(List.of(Math.min(ksk.tag(), zsk.tag()), Math.max(ksk.tag(), zsk.tag())),
                List.of(added.getAsJsonArray("keytags").get(0).getAsInt(), added.getAsJsonArray("keytags").get(1).getAsInt()));
        JsonObject k = json(mqtt.await("dnssec/example.test/keys/" + ksk.tag(), WAIT));
        assertEquals("KSK", k.get("role").getAsString());
        assertEquals("active", k.get("state").getAsString());
        assertEquals(257, k.get("flags").getAsInt());
        assertEquals("ECDSAP256SHA256", k.get("algorithm_name").getAsString());
        assertTrue(k.get("ds_sha256").getAsString().startsWith(ksk.tag() + " 13 2 "));
        JsonObject state = json(mqtt.await("dnssec/example.test/state", WAIT));
        assertEquals("ok", state.get("status").getAsString());
        assertEquals(zone.signed().serial(), state.get("serial").getAsLong());

        // A stand-by KSK is published: one key_added.
        DemoZone.Key standby = zone.addKey(true, false);
        mqtt.clear();
        notifyBridge();
        JsonObject ev = json(event("key_added"));
        assertEquals(standby.tag(), ev.get("keytag").getAsInt());
        assertEquals("standby", json(mqtt.await("dnssec/example.test/keys/" + standby.tag(), WAIT)).get("state").getAsString());

        // The old KSK is revoked: one key_revoked with both tags; old topic cleared, new one set.
        int oldTag = ksk.tag();
        zone.activate(standby);
        zone.revoke(ksk);
        mqtt.clear();
        notifyBridge();
        JsonObject rev = json(event("key_revoked"));
        assertEquals(ksk.tag(), rev.get("keytag").getAsInt());
        assertEquals(oldTag, rev.get("original_keytag").getAsInt());
        assertEquals(1, rev.get("priority").getAsInt());
        mqtt.await(m -> m.topic().equals("dnssec/example.test/keys/" + oldTag) && m.payload().isEmpty(), WAIT);
        JsonObject revKey = json(mqtt.await("dnssec/example.test/keys/" + ksk.tag(), WAIT));
        assertEquals("revoked", revKey.get("state").getAsString());
        assertEquals(oldTag, revKey.get("original_keytag").getAsInt());
        event("key_changed"); // the stand-by KSK became active
        mqtt.expectNone(m -> m.payload().contains("key_removed") || m.payload().contains("\"key_added\""), Duration.ofMillis(300));

        // The revoked key is removed: topic cleared, one key_removed.
        zone.remove(ksk);
        mqtt.clear();
        notifyBridge();
        assertEquals(ksk.tag(), json(event("key_removed")).get("keytag").getAsInt());
        mqtt.await(m -> m.topic().equals("dnssec/example.test/keys/" + ksk.tag()) && m.payload().isEmpty(), WAIT);

        // the key log is written right after the publishes: wait for its last line
        String log = keyLogContaining("; Key-ID " + ksk.tag() + " ; key_removed ");
        assertTrue(log.contains("; Key-ID " + oldTag + " ; zone_added "), log);
        assertTrue(log.contains(" IN DNSKEY 385 3 13 "), log);
        assertTrue(log.contains("; Key-ID " + ksk.tag() + " ; key_removed "), log);
    }

    @Test
    void sameSerialNotifyCostsNoQueryAndNoPublish() throws Exception {
        zone.addKey(true, true);
        zone.addKey(false, true);
        notifyBridge();
        event("zone_added");
        mqtt.await("dnssec/example.test/state", WAIT);
        long queries = auth.queries();
        mqtt.clear();
        for (int i = 0; i < 50; i++) {
            notifyBridge();
        }
        mqtt.expectNone(m -> m.topic().startsWith("dnssec/example.test/"), Duration.ofMillis(500));
        assertEquals(queries, auth.queries(), "a NOTIFY for the serial already checked must cost no query");
    }

    @Test
    void recheckCommandAnswersWithTheZoneState() throws Exception {
        zone.addKey(true, true);
        zone.addKey(false, true);
        notifyBridge();
        event("zone_added");
        mqtt.publish("dnssec/_bridge/request/recheck", "{\"zone\":\"example.test\",\"transaction\":\"t1\"}", false);
        JsonObject r = json(mqtt.await("dnssec/_bridge/response/recheck", WAIT));
        assertEquals("ok", r.get("status").getAsString());
        assertEquals("t1", r.get("transaction").getAsString());
        assertEquals("example.test", r.getAsJsonObject("data").get("zone").getAsString());

        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/recheck", "nowhere.test", false);
        JsonObject err = json(mqtt.await("dnssec/_bridge/response/recheck", WAIT));
        assertEquals("error", err.get("status").getAsString());
        assertEquals("unknown zone nowhere.test: no server to ask", err.get("error").getAsString());
        assertFalse(err.has("transaction"));

        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/recheck", "*", false);
        JsonObject all = json(mqtt.await("dnssec/_bridge/response/recheck", WAIT));
        assertEquals("{\"zones\":1,\"changed\":0,\"failed\":0}", all.get("data").toString());

        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/recheck", "{\"zone\":", false);
        assertTrue(json(mqtt.await("dnssec/_bridge/response/recheck", WAIT)).get("error").getAsString()
                .startsWith("request is not valid JSON"));
    }

    @Test
    void restartRaisesNoFalseEventsButReportsChangesMadeWhileDown() throws Exception {
        DemoZone.Key ksk = zone.addKey(true, true);
        zone.addKey(false, true);
        notifyBridge();
        event("zone_added");
        mqtt.await("dnssec/example.test/keys/" + ksk.tag(), WAIT);
        stop();

        start();
        // the start-up check of the known zone finds nothing new
        mqtt.await(m -> m.topic().equals("dnssec/example.test/state") && !m.retained(), WAIT);
        mqtt.expectNone(m -> m.topic().endsWith("/events"), Duration.ofMillis(500));
        stop();

        DemoZone.Key added = zone.addKey(true, false);
        start();
        // The start-up check's event may go out before this subscriber connects (events are not
        // retained), so read it from the key log; the key topic is retained.
        assertEquals("standby", json(mqtt.await("dnssec/example.test/keys/" + added.tag(), WAIT)).get("state").getAsString());
        String log = keyLogContaining("; Key-ID " + added.tag() + " ; key_added ");
        assertEquals(2, log.split(" ; zone_added ", -1).length - 1, log); // one line per key of the first sight, none since
        mqtt.expectNone(m -> m.payload().contains("zone_added"), Duration.ofMillis(300));
    }

    /**
     * A restart asks a known zone whose serial did not move for its SOA only, as the SOA poll
     * does (100,000 zones re-checked in full took 55-71 s after a restart in the benchmark); the
     * zone's state is still published with the new check time, and the keys of a zone whose serial
     * moved are fetched (the test above).
     */
    @Test
    void aRestartAsksAZoneWhoseSerialStayedForItsSoaOnly() throws Exception {
        zone.addKey(true, true);
        zone.addKey(false, true);
        notifyBridge();
        event("zone_added");
        mqtt.await("dnssec/example.test/state", WAIT);
        stop();
        long dnskey = auth.dnskeyQueries();
        long queries = auth.queries();

        start();
        JsonObject s = json(mqtt.await(m -> m.topic().equals("dnssec/example.test/state") && !m.retained(), WAIT));
        assertEquals("secure", s.get("validation").getAsString());
        assertEquals(1, auth.queries() - queries, "the start-up check's SOA query");
        assertEquals(dnskey, auth.dnskeyQueries(), "the serial did not move: no DNSKEY query at start-up");
    }

    @Test
    void unreachableServerKeepsKeysAndSaysSoOnce() throws Exception {
        DemoZone.Key ksk = zone.addKey(true, true);
        zone.addKey(false, true);
        notifyBridge();
        event("zone_added");
        mqtt.await("dnssec/example.test/state", WAIT); // the last of the retained topics after the event
        auth.close();
        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/recheck", "example.test", false);
        JsonObject down = json(event("zone_unreachable"));
        assertEquals(1, down.get("priority").getAsInt());
        // events go out before the retained topics they explain: the first check's state may still arrive
        JsonObject state = json(mqtt.await(m -> m.topic().equals("dnssec/example.test/state")
                && m.payload().contains("\"reachable\":false"), WAIT));
        assertEquals("error", state.get("status").getAsString());
        assertFalse(state.get("reachable").getAsBoolean());
        mqtt.await("dnssec/_bridge/response/recheck", WAIT);
        mqtt.expectNone(m -> m.topic().equals("dnssec/example.test/keys/" + ksk.tag()), Duration.ofMillis(300));

        // Each failed check counts, so the retry back-off grows (2 s, 4 s, ... 5 min).
        for (int i = 0; i < 3; i++) {
            mqtt.clear();
            mqtt.publish("dnssec/_bridge/request/recheck", "example.test", false);
            mqtt.await("dnssec/_bridge/response/recheck", WAIT);
        }
        assertTrue(bridge.bridge.failures(ZONE) >= 4, "failures in a row: " + bridge.bridge.failures(ZONE));
        mqtt.expectNone(m -> m.topic().endsWith("/events"), Duration.ofMillis(300)); // said once
    }

    @Test
    void forgetCommandClearsTheZonesTopicsAndState() throws Exception {
        DemoZone.Key ksk = zone.addKey(true, true);
        zone.addKey(false, true);
        notifyBridge();
        event("zone_added");
        mqtt.await("dnssec/example.test/state", WAIT);
        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/forget", "{\"zone\":\"example.test\",\"transaction\":\"f1\"}", false);
        JsonObject response = json(mqtt.await("dnssec/_bridge/response/forget", WAIT));
        assertEquals("ok", response.get("status").getAsString(), response.toString());
        assertEquals("example.test", response.getAsJsonObject("data").get("zone").getAsString());
        assertEquals("f1", response.get("transaction").getAsString());
        mqtt.await(m -> m.topic().equals("dnssec/example.test/keys/" + ksk.tag()) && m.payload().isEmpty(), WAIT);
        mqtt.await(m -> m.topic().equals("dnssec/example.test/state") && m.payload().isEmpty(), WAIT);
        // a new subscriber sees nothing of the zone, and a restart does not bring it back
        stop();
        start();
        mqtt.expectNone(m -> m.topic().startsWith("dnssec/example.test/") && !m.payload().isEmpty(), Duration.ofMillis(500));
        // its next NOTIFY makes it known again, as a new zone
        notifyBridge();
        event("zone_added");
    }
}
