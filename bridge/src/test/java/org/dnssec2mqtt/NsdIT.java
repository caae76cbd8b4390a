package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.SignedZone;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real peers end to end: NSD serves zones signed with ldns and NOTIFYs the bridge (one zone
 * unsigned NOTIFY, one TSIG-signed, queried back with TSIG); the bridge publishes to a real
 * mosquitto; a real subscriber sees keys added, revoked (one event, both tags) and removed.
 */
@Timeout(120)
class NsdIT {
    static final Duration WAIT = Duration.ofSeconds(15);
    static final String KEY = "notify-key.";

    @TempDir
    Path tmp;

    static JsonObject json(MqttRecorder.Received m) {
        return JsonParser.parseString(m.payload()).getAsJsonObject();
    }

    static MqttRecorder.Received event(MqttRecorder mqtt, String zone, String type) {
        return mqtt.await(m -> m.topic().equals("dnssec/" + zone + "/events")
                && m.payload().contains("\"event\":\"" + type + "\""), WAIT);
    }

    @Test
    void keyChangesInNsdReachASubscriberThroughMosquitto() throws Exception {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        String secret = Base64.getEncoder().encodeToString(raw);
        Path keyFile = tmp.resolve("tsig.key");
        Files.writeString(keyFile, "key \"notify-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n");

        SignedZone zone = new SignedZone("example.test", tmp.resolve("example"));
        SignedZone.Key ksk = zone.addKsk();
        zone.addZsk();
        zone.sign();
        SignedZone signed = new SignedZone("tsig.test", tmp.resolve("tsig"));
        SignedZone.Key tsigKsk = signed.addKsk();
        signed.addZsk();
        signed.sign();

        int notifyPort = FreePorts.tcpAndUdp();
        try (MosquittoBroker broker = MosquittoBroker.start();
                MqttRecorder mqtt = new MqttRecorder(broker.url(), "dnssec/#");
                NsdServer nsd = new NsdServer(tmp.resolve("nsd"))
                        .tsigKey(KEY, "hmac-sha256", secret)
                        .zone("example.test", zone.signedFile(), notifyPort, null)
                        .zone("tsig.test", signed.signedFile(), notifyPort, KEY)) {
            nsd.start();
            // The bridge starts after NSD: NSD retries its start-up NOTIFYs until answered.
            var config = TestConfig.load(tmp, """
                    notify.listen = 127.0.0.1:%d
                    notify.allow = 127.0.0.0/8
                    tsig.keyfile = %s
                    dns.query-port = %d
                    mqtt.url = %s
                    data.dir = %s
                    zones.tsig.test.servers = 127.0.0.1:%d
                    zones.tsig.test.tsig-key = notify-key
                    """.formatted(notifyPort, keyFile, nsd.port(), broker.url(), tmp.resolve("data"), nsd.port()));
            try (Main.Running bridge = Main.start(config, Clock.systemUTC())) {
                try {
                    // First sight of both zones: keys retained, one zone_added each.
                    event(mqtt, "example.test", "zone_added");
                    event(mqtt, "tsig.test", "zone_added");
                    JsonObject k = json(mqtt.await("dnssec/example.test/keys/" + zone.keyTag(ksk), WAIT));
                    assertEquals("KSK", k.get("role").getAsString());
                    assertEquals("active", k.get("state").getAsString());
                    assertEquals(zone.keyTag(ksk) + " 13 2 ", k.get("ds_sha256").getAsString().substring(0, (zone.keyTag(ksk) + " 13 2 ").length()));
                    mqtt.await("dnssec/tsig.test/keys/" + signed.keyTag(tsigKsk), WAIT);
                    assertEquals("ok", json(mqtt.await("dnssec/tsig.test/state", WAIT)).get("status").getAsString());

                    // A new KSK, published and signing: key_added.
                    SignedZone.Key ksk2 = zone.addKsk();
                    zone.bumpSerial();
                    zone.sign();
                    nsd.reload("example.test");
                    assertEquals(zone.keyTag(ksk2), json(event(mqtt, "example.test", "key_added")).get("keytag").getAsInt());

                    // RFC 5011 revocation of the old KSK: exactly one key_revoked with both tags.
                    int oldTag = zone.keyTag(ksk);
                    zone.revoke(ksk);
                    zone.bumpSerial();
                    zone.sign();
                    nsd.reload("example.test");
                    JsonObject rev = json(event(mqtt, "example.test", "key_revoked"));
                    assertEquals(zone.keyTag(ksk), rev.get("keytag").getAsInt());
                    assertEquals(oldTag, rev.get("original_keytag").getAsInt());
                    mqtt.await(m -> m.topic().equals("dnssec/example.test/keys/" + oldTag) && m.payload().isEmpty(), WAIT);
                    assertEquals("revoked", json(mqtt.await("dnssec/example.test/keys/" + zone.keyTag(ksk), WAIT))
                            .get("state").getAsString());
                    mqtt.expectNone(m -> m.payload().contains("key_removed"), Duration.ofMillis(300));

                    // Removal: key_removed, and the retained topic is cleared.
                    int revokedTag = zone.keyTag(ksk);
                    zone.remove(ksk);
                    zone.bumpSerial();
                    zone.sign();
                    nsd.reload("example.test");
                    assertEquals(revokedTag, json(event(mqtt, "example.test", "key_removed")).get("keytag").getAsInt());
                    mqtt.await(m -> m.topic().equals("dnssec/example.test/keys/" + revokedTag) && m.payload().isEmpty(), WAIT);
                    assertTrue(mqtt.retained("dnssec/example.test/keys/" + revokedTag).isEmpty());

                    // The TSIG zone: a signed NOTIFY after a change, queried back with TSIG.
                    SignedZone.Key tsigZsk2 = signed.addZsk();
                    signed.bumpSerial();
                    signed.sign();
                    nsd.reload("tsig.test");
                    assertEquals(signed.keyTag(tsigZsk2), json(event(mqtt, "tsig.test", "key_added")).get("keytag").getAsInt());
                    assertTrue(bridge.listener.accepted() >= 5, "NOTIFYs accepted: " + bridge.listener.accepted());
                    assertEquals(0, bridge.listener.notauth());
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\n--- MQTT ---\n" + mqtt.dump() + "\n--- NSD ---\n" + nsd.log(), e);
                }
            }
        }
    }
}
