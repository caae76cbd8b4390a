package org.dnssec2mqtt.signals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.support.DbusDaemon;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.KnotServer;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole bridge with {@code knot.dbus} on a private dbus-daemon and a real knotd signing a zone
 * with KSK submission: Knot's {@code zone_ksk_submission} reaches MQTT as {@code ksk_submission}
 * with the DS that {@code keymgr ds} gives, no NOTIFY configured anywhere; the bus state is on
 * {@code dnssec/_bridge/state}.
 */
@Timeout(120)
class KnotDbusBridgeIT {
    private static final String ZONE = "dbus.test";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    static JsonObject json(MqttRecorder.Received m) {
        return JsonParser.parseString(m.payload()).getAsJsonObject();
    }

    @Test
    void knotsKskSubmissionReachesMqttWithTheKeysDs() throws Exception {
        int knotPort = FreePorts.tcpAndUdp();
        int mqttPort = FreePorts.tcp();
        try (DbusDaemon bus = DbusDaemon.start()) {
            // the zone is not configured: Knot's signals name it, and the bridge asks 127.0.0.1 at dns.query-port
            Config config = TestConfig.load(tmp, """
                    notify.listen = 127.0.0.1:0
                    mqtt.embedded.listen = 127.0.0.1:%d
                    data.dir = %s
                    dns.query-port = %d
                    knot.dbus = %s
                    """.formatted(mqttPort, tmp.resolve("data"), knotPort, bus.address()));
            try (Main.Running bridge = Main.start(config, Clock.systemUTC());
                 MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#")) {
                try {
                    mqtt.await(m -> m.topic().equals("dnssec/_bridge/state")
                            && m.payload().contains("\"knot_dbus\":\"connected\""), WAIT);
                    try (KnotServer knot = new KnotServer().port(knotPort).dbus(bus.address()).zone(ZONE).start()) {
                        KnotServer.Key ksk = knot.keys(ZONE).stream().filter(KnotServer.Key::ksk).findFirst().orElseThrow();
                        JsonObject e = json(mqtt.await(m -> m.topic().equals("dnssec/" + ZONE + "/events")
                                && m.payload().contains("\"ksk_submission\""), WAIT));
                        assertEquals(ksk.tag(), e.get("keytag").getAsInt(), e.toString());
                        assertEquals(1, e.get("priority").getAsInt());
                        assertEquals("knot", e.get("source").getAsString());
                        assertEquals(ksk.id(), e.get("key_id").getAsString());
                        assertEquals(keymgrDs(knot, ksk, "2"), e.get("ds_sha256").getAsString(), knot.log());
                        assertEquals(keymgrDs(knot, ksk, "4"), e.get("ds_sha384").getAsString(), knot.log());
                        JsonObject state = json(mqtt.await(m -> m.topic().equals("dnssec/" + ZONE + "/state")
                                && json(m).get("ds_submission_pending").toString().equals("[" + ksk.tag() + "]"), WAIT));
                        assertEquals("secure", state.get("validation").getAsString());
                    }
                    // the bus goes away: a state on the bridge topic, never a stop
                    bus.stop();
                    JsonObject lost = json(mqtt.await(m -> m.topic().equals("dnssec/_bridge/state")
                            && m.payload().contains("\"knot_dbus\":\"disconnected\""), WAIT));
                    assertEquals("online", lost.get("state").getAsString());
                    assertTrue(lost.get("knot_dbus_problem").getAsString().contains("retrying in"), lost.toString());
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\n--- MQTT ---\n" + mqtt.dump() + "\n--- bus ---\n" + bus.log(), e);
                }
            }
        }
    }

    /** {@code keymgr <zone> ds <key>}'s RDATA for one digest type, as {@code dnssec-dsfromkey} prints it. */
    private static String keymgrDs(KnotServer knot, KnotServer.Key key, String digestType) {
        for (String line : knot.keymgr(ZONE, "ds", key.id()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            // "dbus.test. DS 34346 13 2 <HEX>"
            int ds = java.util.List.of(f).indexOf("DS");
            if (ds >= 0 && f.length >= ds + 5 && f[ds + 3].equals(digestType)) {
                return (f[ds + 1] + " " + f[ds + 2] + " " + f[ds + 3] + " "
                        + String.join("", java.util.List.of(f).subList(ds + 4, f.length))).toUpperCase(Locale.ROOT);
            }
        }
        throw new AssertionError("keymgr ds printed no digest type " + digestType + " for " + key);
    }
}
