package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.SignedZone;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DNSSEC;

/**
 * Issue 3 against real NSD: a parent zone with a DS for its child, the child on two NSD
 * instances at different serials. The bridge asks both, and the parent's server for the DS.
 */
@Timeout(120)
class DnssecDepthIT {
    static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    static JsonObject json(MqttRecorder.Received m) {
        return JsonParser.parseString(m.payload()).getAsJsonObject();
    }

    static String ds(SignedZone zone, SignedZone.Key key) {
        return zone.ds(key, 300, DNSSEC.Digest.SHA256).toString();
    }

    @Test
    void parentDsEveryServerAndLagging() throws Exception {
        SignedZone child = new SignedZone("example.test", tmp.resolve("child"));
        SignedZone.Key ksk = child.addKsk();
        child.addZsk();
        child.sign();
        // server B keeps serial 1
        Path lagging = Files.copy(child.signedFile(), tmp.resolve("example.test.lagging"));
        child.bumpSerial();
        child.sign();

        SignedZone parent = SignedZone.parentOf(child, tmp.resolve("parent"), ds(child, ksk));

        int mqttPort = FreePorts.tcp();
        try (NsdServer a = new NsdServer(tmp.resolve("nsd-a")).zone("test", parent.signedFile())
                        .zone("example.test", child.signedFile()).start();
                NsdServer b = new NsdServer(tmp.resolve("nsd-b")).zone("example.test", lagging).start()) {
            var config = TestConfig.load(tmp, """
                    notify.listen = 127.0.0.1:0
                    dns.resolver = 127.0.0.1:%d
                    mqtt.embedded.listen = 127.0.0.1:%d
                    data.dir = %s
                    zones.example.test.servers = 127.0.0.1:%d, 127.0.0.1:%d
                    """.formatted(a.port(), mqttPort, tmp.resolve("data"), a.port(), b.port()));
            try (Main.Running bridge = Main.start(config, Clock.systemUTC());
                    MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#")) {
                try {
                    mqtt.awaitBridgeListening("dnssec", WAIT); // a request sent before that is lost
                    mqtt.publish("dnssec/_bridge/request/recheck", "example.test", false);
                    JsonObject state = json(mqtt.await(m -> m.topic().equals("dnssec/example.test/state")
                            && json(m).get("serial").getAsLong() == 2 && json(m).has("ds_keytags"), WAIT));
                    assertEquals("secure", state.get("validation").getAsString());
                    assertEquals("[" + child.keyTag(ksk) + "]", state.get("ds_keytags").toString());
                    assertFalse(state.get("ds_validated").getAsBoolean(), "an authoritative server sets no AD bit");
                    assertEquals("warning", state.get("status").getAsString());
                    assertEquals("[\"127.0.0.1:" + b.port() + "\"]", state.get("lagging_servers").toString());
                    assertTrue(state.get("problem").getAsString().contains("serves serial 1 (expected 2)"), state.toString());
                    assertTrue(state.get("rrsig_days_left").getAsDouble() > 29, state.toString());

                    JsonObject key = json(mqtt.await("dnssec/example.test/keys/" + child.keyTag(ksk), WAIT));
                    assertTrue(key.get("ds_at_parent").getAsBoolean());
                    JsonObject sb = json(mqtt.await("dnssec/example.test/servers/127.0.0.1:" + b.port(), WAIT));
                    assertEquals(1, sb.get("serial").getAsLong());
                    assertTrue(sb.get("lagging").getAsBoolean());
                    JsonObject sa = json(mqtt.await("dnssec/example.test/servers/127.0.0.1:" + a.port(), WAIT));
                    assertFalse(sa.get("lagging").getAsBoolean());

                    // The child rolls to a new KSK and drops the old one; the parent still has the old
                    // DS: an orphan, and no DS matches any key, so the zone is an error.
                    SignedZone.Key ksk2 = child.addKsk();
                    int oldTag = child.keyTag(ksk);
                    child.remove(ksk);
                    child.bumpSerial();
                    child.sign();
                    a.reload("example.test");
                    a.awaitSerial("example.test", 3, WAIT);
                    mqtt.clear();
                    mqtt.publish("dnssec/_bridge/request/recheck", "{\"zone\":\"example.test\",\"transaction\":\"x\"}", false);
                    JsonObject orphan = json(mqtt.await(m -> m.topic().equals("dnssec/example.test/events")
                            && m.payload().contains("\"ds_orphan\""), WAIT));
                    assertEquals(1, orphan.get("priority").getAsInt());
                    assertEquals(oldTag, orphan.get("keytag").getAsInt());
                    mqtt.await(m -> m.topic().equals("dnssec/example.test/events") && m.payload().contains("\"ds_missing\"")
                            && json(m).get("keytag").getAsInt() == child.keyTag(ksk2), WAIT);
                    JsonObject response = json(mqtt.await(m -> m.topic().equals("dnssec/_bridge/response/recheck")
                            && m.payload().contains("\"transaction\":\"x\""), WAIT));
                    assertEquals("error", response.getAsJsonObject("data").get("status").getAsString());
                    assertTrue(response.getAsJsonObject("data").get("problem").getAsString()
                            .startsWith("no DS at the parent matches a DNSKEY"), response.toString());
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\n--- MQTT ---\n" + mqtt.dump() + "\n--- NSD A ---\n" + a.log(), e);
                }
            }
        }
    }

    /**
     * {@code zones.<zone>.use-ns}: the zone's NS RRset names three name servers (127.0.0.1, .2, .3,
     * all at {@code dns.query-port}); only 127.0.0.2 is configured. The bridge finds the other two
     * through the NS RRset and its glue, sees 127.0.0.3 behind (serial 1 of 2) and nothing at 127.0.0.1.
     */
    @Test
    void useNsAsksEveryNameServerOfTheZone() throws Exception {
        SignedZone zone = new SignedZone("ns.test", tmp.resolve("ns"));
        zone.addKsk();
        zone.addZsk();
        zone.addRecord("@ IN NS ns2");
        zone.addRecord("ns2 IN A 127.0.0.2");
        zone.addRecord("@ IN NS ns3");
        zone.addRecord("ns3 IN A 127.0.0.3");
        zone.sign();
        Path old = Files.copy(zone.signedFile(), tmp.resolve("ns.test.old"));
        zone.bumpSerial();
        zone.sign();

        int port = FreePorts.tcpAndUdp();
        int mqttPort = FreePorts.tcp();
        try (NsdServer current = new NsdServer(tmp.resolve("nsd-2")).listenOn("127.0.0.2", port)
                        .zone("ns.test", zone.signedFile()).start();
                NsdServer behind = new NsdServer(tmp.resolve("nsd-3")).listenOn("127.0.0.3", port)
                        .zone("ns.test", old).start()) {
            var config = TestConfig.load(tmp, """
                    notify.listen = 127.0.0.1:0
                    dns.query-port = %d
                    dns.timeout = 2s
                    mqtt.embedded.listen = 127.0.0.1:%d
                    data.dir = %s
                    zones.ns.test.servers = 127.0.0.2:%d
                    zones.ns.test.use-ns = true
                    """.formatted(port, mqttPort, tmp.resolve("data-ns"), port));
            try (Main.Running bridge = Main.start(config, Clock.systemUTC());
                    MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#")) {
                try {
                    mqtt.awaitBridgeListening("dnssec", WAIT); // a request sent before that is lost
                    mqtt.publish("dnssec/_bridge/request/recheck", "{\"zone\":\"ns.test\",\"transaction\":\"ns\"}", false);
                    JsonObject state = json(mqtt.await(m -> m.topic().equals("dnssec/_bridge/response/recheck")
                            && m.payload().contains("\"transaction\":\"ns\"") && m.payload().contains("\"servers\":3"), WAIT))
                            .getAsJsonObject("data");
                    assertEquals(2, state.get("serial").getAsLong());
                    assertEquals("127.0.0.2:" + port, state.get("server").getAsString());
                    String lagging = state.get("lagging_servers").toString();
                    assertTrue(lagging.contains("127.0.0.3:" + port) && lagging.contains("127.0.0.1:" + port), lagging);
                    assertFalse(lagging.contains("127.0.0.2:" + port), lagging);
                    JsonObject behindState = json(mqtt.await("dnssec/ns.test/servers/127.0.0.3:" + port, WAIT));
                    assertEquals(1, behindState.get("serial").getAsLong());
                    assertTrue(behindState.get("lagging").getAsBoolean());
                    JsonObject silent = json(mqtt.await("dnssec/ns.test/servers/127.0.0.1:" + port, WAIT));
                    assertFalse(silent.get("reachable").getAsBoolean());
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\n--- MQTT ---\n" + mqtt.dump(), e);
                }
            }
        }
    }
}
