package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/**
 * Hostile or careless requests on the command topic get an error response and change nothing
 * (no query, no event, no state publish); a flood of rechecks for one zone is coalesced into a
 * few checks ({@code -Drecheck.flood=10000} for a longer run).
 */
@Timeout(120)
class CommandAbuseIT {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final int FLOOD = Integer.getInteger("recheck.flood", 1000);
    static final Name ZONE = Name.fromConstantString("example.test.");

    @TempDir
    Path dir;

    @Test
    void badRequestsChangeNothingAndARecheckFloodIsCoalesced() throws Exception {
        // A real mosquitto: the embedded Moquette closes the connection of a client that sends a
        // message over 8092 bytes (its netty.mqtt.message_size default) before the bridge sees it,
        // so only an external broker lets the bridge's own 64 KiB limit be reached.
        try (AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
                MosquittoBroker broker = MosquittoBroker.start()) {
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            zone.addKey(true, true);
            zone.addKey(false, true);
            auth.add(zone);
            Main.Running bridge = Main.start(TestConfig.load(dir, """
                    notify.listen = 127.0.0.1:0
                    dns.query-port = %d
                    poll.full-interval = 0
                    mqtt.url = %s
                    data.dir = %s
                    """.formatted(auth.port(), broker.url(), dir.resolve("data"))), Clock.systemUTC());
            try (MqttRecorder mqtt = new MqttRecorder(broker.url(), "dnssec/#")) {
                mqtt.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("online"), WAIT);
                assertEquals(Rcode.NOERROR, auth.notify(ZONE, bridge.listener.udpAddresses().get(0), 3));
                mqtt.await(m -> m.payload().contains("\"zone_added\""), WAIT);
                long queries = auth.queries();
                mqtt.clear();

                byte[] huge = new byte[70 * 1024];
                Arrays.fill(huge, (byte) 'a');
                Map<String, byte[]> bad = new LinkedHashMap<>();
                bad.put("empty request", new byte[0]);
                bad.put("over the 65536 byte limit", huge);
                bad.put("not UTF-8", new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, (byte) 0xc3, 0x28});
                bad.put("not valid JSON", "{\"zone\": \"example.test\"".getBytes(StandardCharsets.UTF_8));
                bad.put("no \"zone\" string", "{\"zone\": 42}".getBytes(StandardCharsets.UTF_8));
                bad.put("is JSON but not an object", "[1,2,3]".getBytes(StandardCharsets.UTF_8));
                bad.put("is not a zone name", "exa mple..test".getBytes(StandardCharsets.UTF_8));
                bad.put("unknown zone nowhere.test: no server to ask", "nowhere.test".getBytes(StandardCharsets.UTF_8));
                for (Map.Entry<String, byte[]> e : bad.entrySet()) {
                    mqtt.publish("dnssec/_bridge/request/recheck", e.getValue());
                    MqttRecorder.Received r = mqtt.await("dnssec/_bridge/response/recheck", WAIT);
                    JsonObject o = JsonParser.parseString(r.payload()).getAsJsonObject();
                    assertEquals("error", o.get("status").getAsString(), e.getKey());
                    assertTrue(o.get("error").getAsString().contains(e.getKey()), e.getKey() + ": " + o);
                    assertTrue(r.payload().length() < 1000, "the error echoes at most a short excerpt: " + r.payload().length());
                    mqtt.clear();
                }
                mqtt.publish("dnssec/_bridge/request/explode", "example.test", false);
                assertTrue(mqtt.await("dnssec/_bridge/response/explode", WAIT).payload().contains("unknown command"));
                mqtt.expectNone(m -> m.topic().startsWith("dnssec/example.test/") || m.topic().startsWith("dnssec/nowhere.test/"),
                        Duration.ofMillis(300));
                assertEquals(queries, auth.queries(), "a bad request must not cause a query");

                // A flood of rechecks for one zone: one check in flight, one queued; every request answered.
                // The server holds its answers while the flood is sent, so the first check is in flight for
                // all of it: how many checks run then depends on the coalescing, not on how fast a check is
                // against how fast the flood arrives (a 3 ms check against a 300 ms flood is ~100 either way).
                long dnskeyBefore = auth.dnskeyQueries();
                mqtt.clear();
                auth.holdAnswers();
                long t0 = System.nanoTime();
                try {
                    for (int i = 0; i < FLOOD; i++) {
                        // QoS 0: a burst, as a misbehaving script sends it; QoS 1 would pace it to the broker's acks
                        mqtt.publishBurst("dnssec/_bridge/request/recheck", "{\"zone\":\"example.test\",\"transaction\":\"f" + i + "\"}");
                    }
                } finally {
                    auth.releaseAnswers();
                }
                long deadline = System.nanoTime() + WAIT.toNanos() * 3;
                long responses = 0;
                while (System.nanoTime() < deadline) {
                    responses = mqtt.messages().stream().filter(m -> m.topic().equals("dnssec/_bridge/response/recheck")).count();
                    if (responses >= FLOOD) {
                        break;
                    }
                    Thread.sleep(20); // polling interval
                }
                long dnskey = auth.dnskeyQueries() - dnskeyBefore;
                System.out.printf("commands: %d bad payloads refused; recheck flood of %d answered %d times in %d ms "
                        + "with %d DNSKEY queries%n", bad.size() + 1, FLOOD, responses,
                        (System.nanoTime() - t0) / 1_000_000, dnskey);
                assertEquals(FLOOD, responses, "every request gets its response");
                assertTrue(dnskey <= FLOOD / 10, dnskey + " DNSKEY queries for " + FLOOD + " rechecks");
                assertTrue(mqtt.messages().stream().noneMatch(m -> m.topic().endsWith("/events")), "a recheck of an unchanged zone raises no event");
            } finally {
                bridge.close();
            }
        }
    }
}
