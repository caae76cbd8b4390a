package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.SignedZone;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DNSSEC;

/**
 * Issue 14's rollover timing against real NSD, seen on a real mosquitto: a double-KSK roll of a
 * child with a 4 s DNSKEY TTL under a parent with 3 s DS TTLs, {@code rollover.margin = 2s}.
 * KSK1's DS is at the parent from the start. NSD NOTIFYs the bridge of each change in the child; the DS added at the parent is noticed by a
 * {@code recheck} (standing in for the full poll). No poll runs, so only the bridge's rollover
 * timers can fire the steps. The bridge is stopped and started again on the same data directory
 * while each step is pending: the step still fires once, at the time computed before the restart.
 *
 * <ol>
 *   <li>KSK1's DS, there before the bridge started → {@code ds_propagated} DS TTL + margin after the first check;
 *   <li>KSK2 published → {@code ds_submit_ready} with its DS, DNSKEY TTL + margin after it appeared;
 *   <li>its DS added at the parent → {@code ds_seen}, then {@code ds_propagated} DS TTL + margin later;
 *   <li>KSK1 removed → {@code dnskey_propagated} DNSKEY TTL + margin later.
 * </ol>
 */
@Timeout(90)
class RolloverTimingIT {
    static final Duration WAIT = Duration.ofSeconds(15);
    static final String ZONE = "example.test";
    static final String EVENTS = "dnssec/" + ZONE + "/events";
    static final long DNSKEY_TTL = 4;
    static final long DS_TTL = 3;
    static final Duration MARGIN = Duration.ofSeconds(2);
    /** How late a step may fire after its due time (a timer, not a poll, fires it). */
    static final Duration LATE = Duration.ofMillis(1500);
    static final List<String> ROLLOVER = List.of("ds_submit_ready", "ds_seen", "ds_propagated", "dnskey_propagated");

    @TempDir
    Path tmp;

    static JsonObject json(MqttRecorder.Received m) {
        return JsonParser.parseString(m.payload()).getAsJsonObject();
    }

    static JsonObject event(MqttRecorder mqtt, String type, int keytag) {
        return json(mqtt.await(m -> isEvent(m, type) && json(m).get("keytag").getAsInt() == keytag, WAIT));
    }

    static boolean isEvent(MqttRecorder.Received m, String type) {
        return m.topic().equals(EVENTS) && m.payload().contains("\"event\":\"" + type + "\"");
    }

    static Instant instant(JsonObject o, String field) {
        return Instant.parse(o.get(field).getAsString());
    }

    /** The retained state once it lists {@code keytag} in {@code awaiting}. */
    static JsonObject awaiting(MqttRecorder mqtt, String awaiting, int keytag) {
        return json(mqtt.await(m -> m.topic().equals("dnssec/" + ZONE + "/state")
                && json(m).getAsJsonArray(awaiting).contains(new JsonPrimitive(keytag)), WAIT));
    }

    static String ds(SignedZone zone, SignedZone.Key key, int digest) {
        return zone.ds(key, DS_TTL, digest).toString();
    }

    /** {@code ds_sha256} as the bridge writes it: the DS RDATA. */
    static String rdata(SignedZone zone, SignedZone.Key key, int digest) {
        return zone.ds(key, DS_TTL, digest).rdataToString();
    }

    /**
     * The step fired once, not before {@code due} (which is not before the change plus the TTL and
     * the margin), by a timer: at most {@link #LATE} after it.
     */
    static void onTime(JsonObject e, String field, Instant changed, long ttl, Instant due) {
        // payload times are whole seconds
        Instant earliest = changed.plusSeconds(ttl).plus(MARGIN).truncatedTo(ChronoUnit.SECONDS);
        assertFalse(instant(e, field).isBefore(earliest), field + " before change + TTL + margin (" + earliest + "): " + e);
        assertEquals(due, instant(e, field), "due time computed before the restart: " + e);
        assertFalse(instant(e, "at").isBefore(due), "fired before its time: " + e);
        assertTrue(instant(e, "at").isBefore(due.plus(LATE).plusSeconds(1)), "fired late (not by the timer?): " + e);
    }

    /** Stops the bridge and starts it again on the same data directory; waits until it takes requests. */
    static Main.Running restart(Main.Running bridge, Config config, MqttRecorder mqtt) throws Exception {
        bridge.close();
        Main.Running again = Main.start(config, Clock.systemUTC());
        mqtt.awaitBridgeListening("dnssec", WAIT);
        return again;
    }

    @Test
    void doubleKskRollStepsFireOnceOnTimeAcrossRestarts() throws Exception {
        SignedZone child = new SignedZone(ZONE, tmp.resolve("child")).ttl(DNSKEY_TTL);
        SignedZone.Key ksk1 = child.addKsk();
        child.addZsk();
        child.sign();
        SignedZone parent = SignedZone.parentOf(child, tmp.resolve("parent"), ds(child, ksk1, DNSSEC.Digest.SHA256));
        int tag1 = child.keyTag(ksk1);

        int notifyPort = FreePorts.tcpAndUdp();
        try (MosquittoBroker broker = MosquittoBroker.start();
                MqttRecorder mqtt = new MqttRecorder(broker.url(), "dnssec/#");
                NsdServer nsd = new NsdServer(tmp.resolve("nsd")).zone("test", parent.signedFile())
                        .zone(ZONE, child.signedFile(), notifyPort, null).start()) {
            Config config = TestConfig.load(tmp, """
                    notify.listen = 127.0.0.1:%d
                    dns.resolver = 127.0.0.1:%d
                    dns.timeout = 2s
                    poll.soa-interval = 0
                    poll.full-interval = 0
                    rollover.margin = %ds
                    mqtt.url = %s
                    data.dir = %s
                    zones.%s.servers = 127.0.0.1:%d
                    """.formatted(notifyPort, nsd.port(), MARGIN.toSeconds(), broker.url(), tmp.resolve("data"),
                    ZONE, nsd.port()));
            Main.Running bridge = Main.start(config, Clock.systemUTC());
            try {
                mqtt.awaitBridgeListening("dnssec", WAIT);
                JsonObject first = json(mqtt.await(m -> m.topic().equals("dnssec/" + ZONE + "/state")
                        && json(m).has("ds_keytags"), WAIT));
                assertEquals("[" + tag1 + "]", first.get("ds_keytags").toString(), first.toString());
                // 0. KSK1's DS was at the parent before the bridge started: propagated DS TTL + margin after the first check
                Instant checked = instant(first, "checked_at");
                assertEquals(checked.plusSeconds(DS_TTL).plus(MARGIN), instant(first, "rollover_due"), first.toString());
                onTime(event(mqtt, "ds_propagated", tag1), "propagated_at", checked, DS_TTL, instant(first, "rollover_due"));

                // 1. KSK2 published beside KSK1 (not signing yet): ds_submit_ready after its TTL + margin
                SignedZone.Key ksk2 = child.addKsk();
                child.setSigning(ksk2, false);
                child.bumpSerial();
                child.sign();
                int tag2 = child.keyTag(ksk2);
                Instant published = Instant.now();
                nsd.reload(ZONE);
                assertEquals(tag2, event(mqtt, "key_added", tag2).get("keytag").getAsInt());
                JsonObject waiting = awaiting(mqtt, "awaiting_ds_submit", tag2);
                Instant firstSeen = instant(json(mqtt.await("dnssec/" + ZONE + "/keys/" + tag2, WAIT)), "first_seen");
                Instant readyDue = firstSeen.plusSeconds(DNSKEY_TTL).plus(MARGIN);
                assertEquals(readyDue, instant(waiting, "rollover_due"), waiting.toString());
                bridge = restart(bridge, config, mqtt);
                JsonObject ready = event(mqtt, "ds_submit_ready", tag2);
                onTime(ready, "ready_at", published, DNSKEY_TTL, readyDue);
                assertEquals(1, ready.get("priority").getAsInt());
                assertEquals(rdata(child, ksk2, DNSSEC.Digest.SHA256), ready.get("ds_sha256").getAsString());
                assertEquals(rdata(child, ksk2, DNSSEC.Digest.SHA384), ready.get("ds_sha384").getAsString());

                // 2. The DS submitted: the parent has both; ds_seen, then ds_propagated after the DS TTL + margin
                parent.addRecord(ds(child, ksk2, DNSSEC.Digest.SHA256));
                parent.bumpSerial();
                parent.sign();
                Instant submitted = Instant.now();
                nsd.reload("test");
                nsd.awaitSerial("test", parent.serial(), WAIT);
                mqtt.publish("dnssec/_bridge/request/recheck", ZONE, false);
                JsonObject seen = event(mqtt, "ds_seen", tag2);
                waiting = awaiting(mqtt, "awaiting_ds_propagation", tag2);
                Instant propagatedDue = instant(seen, "at").plusSeconds(DS_TTL).plus(MARGIN);
                assertEquals(propagatedDue, instant(waiting, "rollover_due"), waiting.toString());
                bridge = restart(bridge, config, mqtt);
                onTime(event(mqtt, "ds_propagated", tag2), "propagated_at", submitted, DS_TTL, propagatedDue);

                // 3. KSK2 signs, KSK1 goes: dnskey_propagated after its TTL + margin
                child.setSigning(ksk2, true);
                child.remove(ksk1);
                child.bumpSerial();
                child.sign();
                Instant removed = Instant.now();
                nsd.reload(ZONE);
                JsonObject gone = event(mqtt, "key_removed", tag1);
                waiting = awaiting(mqtt, "awaiting_dnskey_propagation", tag1);
                Instant removedDue = instant(gone, "at").plusSeconds(DNSKEY_TTL).plus(MARGIN);
                assertEquals(removedDue, instant(waiting, "rollover_due"), waiting.toString());
                bridge = restart(bridge, config, mqtt);
                onTime(event(mqtt, "dnskey_propagated", tag1), "propagated_at", removed, DNSKEY_TTL, removedDue);

                // nothing pending, and each step came once per key: KSK1's DS was there from the start
                JsonObject done = json(mqtt.await(m -> m.topic().equals("dnssec/" + ZONE + "/state")
                        && !json(m).has("rollover_due"), WAIT));
                for (String list : List.of("awaiting_ds_submit", "awaiting_ds_propagation", "awaiting_dnskey_propagation")) {
                    assertEquals(new JsonArray(), done.getAsJsonArray(list), done.toString());
                }
                mqtt.publish("dnssec/_bridge/request/recheck", "{\"zone\":\"" + ZONE + "\",\"transaction\":\"end\"}", false);
                mqtt.await(m -> m.topic().equals("dnssec/_bridge/response/recheck") && m.payload().contains("\"end\""), WAIT);
                Map<String, Integer> counts = new TreeMap<>();
                for (MqttRecorder.Received m : mqtt.messages()) {
                    for (String type : ROLLOVER) {
                        if (isEvent(m, type)) {
                            counts.merge(type + " " + json(m).get("keytag").getAsInt(), 1, Integer::sum);
                        }
                    }
                }
                assertEquals(new TreeMap<>(Map.of(
                        "ds_propagated " + tag1, 1,
                        "ds_submit_ready " + tag2, 1,
                        "ds_seen " + tag2, 1,
                        "ds_propagated " + tag2, 1,
                        "dnskey_propagated " + tag1, 1)), counts);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\n--- MQTT ---\n" + mqtt.dump() + "\n--- NSD ---\n" + nsd.log(), e);
            } finally {
                bridge.close();
            }
        }
    }
}
