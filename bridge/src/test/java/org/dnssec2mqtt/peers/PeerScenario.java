package org.dnssec2mqtt.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.support.AuthoritativeServer;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;

/**
 * One scenario, the same for every real authoritative server: the server NOTIFYs the bridge, the
 * bridge queries it back and publishes; the server's own tools add a KSK, revoke the old one (RFC
 * 5011) and remove it; a TSIG-signed zone is NOTIFYd and queried with TSIG; a zone NOTIFYd with a
 * key whose secret differs from the bridge's gets NOTAUTH and no query.
 *
 * <p>A subclass starts one server for the whole class ({@link #startServer}) with three zones, all
 * NOTIFYing 127.0.0.1:{@link #notifyPort}: {@link #PLAIN} unsigned, {@link #SIGNED} signed with
 * {@link #KEY} ({@link #secret}), {@link #WRONG} signed with {@link #WRONG_KEY} under a secret the
 * bridge does not have. The scenario runs once per broker (embedded Moquette, real mosquitto), each
 * time with a new bridge and a fresh data dir; the server keeps its keys between the two runs, so
 * the scenario reads the key set it starts from off the server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
abstract class PeerScenario {
    static final Duration WAIT = Duration.ofSeconds(15);
    /** How long a NOTIFY rejected with NOTAUTH gets to (wrongly) cause a check. */
    static final Duration NO_QUERY_WINDOW = Duration.ofSeconds(1);
    static final String PLAIN = "plain.test";
    static final String SIGNED = "tsig.test";
    static final String WRONG = "wrong.test";
    static final String KEY = "notify-key.";
    static final String WRONG_KEY = "wrong-key.";

    /** The secret of {@link #KEY}, shared by server and bridge. */
    final String secret = AuthoritativeServer.randomSecret();
    /** The server's secret for {@link #WRONG_KEY}; the bridge's file holds another one. */
    final String wrongSecret = AuthoritativeServer.randomSecret();

    /** Class-scoped: the server's files and each run's data dir. */
    Path dir;
    int notifyPort;

    /** Starts the server with {@link #PLAIN}, {@link #SIGNED} and {@link #WRONG}, each signed with 1 KSK + 1 ZSK. */
    abstract void startServer() throws Exception;

    abstract void stopServer();

    /** The port the server answers queries on (127.0.0.1, TCP and UDP). */
    abstract int port();

    /** The DNSKEY set the server serves for {@code zone} now. */
    abstract List<DNSKEYRecord> dnskeys(String zone);

    /** Makes the server NOTIFY {@code zone} now without a change (its start-up NOTIFYs may predate the bridge). */
    abstract void sendNotify(String zone);

    /** Adds a KSK (published, signing) with the server's tools; the server NOTIFYs. Returns its tag. */
    abstract int addKsk(String zone);

    /** Adds a ZSK (published, signing); the server NOTIFYs. Returns its tag. */
    abstract int addZsk(String zone);

    /** Sets the REVOKE bit on the key with tag {@code tag}, the server's way; the server NOTIFYs. */
    abstract void revoke(String zone, int tag);

    /** Removes the revoked key whose tag before revocation was {@code originalTag}; the server NOTIFYs. */
    abstract void remove(String zone, int originalTag);

    /** The tags of the keys whose RRSIGs cover the served DNSKEY RRset. */
    abstract Set<Integer> dnskeySigners(String zone);

    /**
     * Whether the server signs the DNSKEY RRset with a revoked key, as RFC 5011 §2.1 requires for
     * resolvers to accept the revocation (true unless a subclass says otherwise).
     */
    boolean revokedKeySigns() {
        return true;
    }

    /** The server's log, for failure messages. */
    abstract String log();

    @BeforeAll
    void startPeer(@TempDir Path classDir) throws Exception {
        dir = classDir;
        notifyPort = FreePorts.tcpAndUdp();
        startServer();
    }

    @AfterAll
    void stopPeer() {
        stopServer();
    }

    @Test
    void embeddedMoquette() throws Exception {
        run(false);
    }

    @Test
    void realMosquitto() throws Exception {
        run(true);
    }

    /**
     * A new bridge with a fresh data dir on the chosen broker, then {@link #scenario}. With mosquitto
     * the subscriber connects before the bridge starts and so sees the start-up check's events (not
     * retained); the embedded broker starts with the bridge, so there the key log stands in for them.
     */
    void run(boolean mosquitto) throws Exception {
        String name = mosquitto ? "mosquitto" : "moquette";
        Path runDir = Files.createDirectories(dir.resolve(name));
        Path keyFile = runDir.resolve("tsig.key");
        // BIND key file format, as tsig-keygen writes it; the wrong key's secret is not the server's
        Files.writeString(keyFile, "key \"notify-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n"
                + "key \"wrong-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + AuthoritativeServer.randomSecret() + "\";\n};\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------")); // as the bridge asks
        long t0 = System.nanoTime();
        try (MosquittoBroker broker = mosquitto ? MosquittoBroker.start() : null) {
            int embeddedPort = FreePorts.tcp();
            String url = broker != null ? broker.url() : "tcp://127.0.0.1:" + embeddedPort;
            var config = TestConfig.load(runDir, """
                    notify.listen = 127.0.0.1:%d
                    notify.allow = 127.0.0.0/8
                    tsig.keyfile = %s
                    dns.query-port = %d
                    dns.timeout = 2s
                    poll.soa-interval = 0
                    poll.full-interval = 0
                    %s
                    data.dir = %s
                    keylog.file = %s
                    zones.tsig.test.servers = 127.0.0.1:%d
                    zones.tsig.test.tsig-key = notify-key
                    """.formatted(notifyPort, keyFile, port(),
                    broker != null ? "mqtt.url = " + url : "mqtt.embedded.listen = 127.0.0.1:" + embeddedPort,
                    runDir.resolve("data"), runDir.resolve("keys.log"), port()));
            try (MqttRecorder early = broker != null ? new MqttRecorder(url, "dnssec/#") : null;
                    Main.Running bridge = Main.start(config, Clock.systemUTC());
                    MqttRecorder mqtt = early != null ? early : new MqttRecorder(url, "dnssec/#")) {
                try {
                    scenario(bridge, mqtt, early != null, runDir);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\n--- MQTT (" + name + ") ---\n" + mqtt.dump()
                            + "\n" + log(), e);
                }
            }
        } finally {
            System.out.printf("%s %s: %d ms%n", getClass().getSimpleName(), name, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /**
     * @param sawStartup whether {@code mqtt} subscribed before the bridge started (it then saw the
     *     start-up check of the configured {@link #SIGNED} and any NOTIFY that came right away)
     */
    void scenario(Main.Running bridge, MqttRecorder mqtt, boolean sawStartup, Path runDir) throws Exception {
        // 1. NOTIFY from the server: zone_added with the served keys, each key retained. SIGNED is
        //    configured, so the start-up check adds it even before its NOTIFY.
        long notauth = bridge.listener.notauth();
        for (String zone : List.of(PLAIN, SIGNED, WRONG)) {
            sendNotify(zone);
        }
        for (String zone : List.of(PLAIN, SIGNED)) {
            List<Integer> served = dnskeys(zone).stream().map(DNSKEYRecord::getFootprint).sorted().toList();
            for (int tag : served) {
                assertFalse(mqtt.await("dnssec/" + zone + "/keys/" + tag, WAIT).payload().isEmpty());
            }
            if (sawStartup) {
                JsonObject added = json(event(mqtt, zone, "zone_added", -1));
                assertEquals(served, ints(added.getAsJsonArray("keytags")), zone + " zone_added keytags");
            }
            for (int tag : served) {
                awaitKeyLog(runDir.resolve("keys.log"), zone + ".", "; Key-ID " + tag + " ; zone_added ");
            }
        }
        DNSKEYRecord oldKsk = dnskeys(PLAIN).stream().filter(k -> k.getFlags() == 257).findFirst().orElseThrow();
        int oldTag = oldKsk.getFootprint();
        JsonObject k = json(mqtt.await("dnssec/" + PLAIN + "/keys/" + oldTag, WAIT));
        assertEquals("KSK", k.get("role").getAsString());
        assertEquals("active", k.get("state").getAsString());
        assertTrue(k.get("ds_sha256").getAsString().startsWith(oldTag + " 13 2 "), k.toString());

        // 2. the NOTIFY signed with a key the bridge knows under another secret: NOTAUTH, no query
        awaitAbove(bridge.listener::notauth, notauth, "NOTAUTH answers");
        mqtt.expectNone(m -> m.topic().startsWith("dnssec/" + WRONG + "/"), NO_QUERY_WINDOW);

        // 3. a new KSK, signing at once: key_added
        int newKsk = addKsk(PLAIN);
        JsonObject addedKey = json(event(mqtt, PLAIN, "key_added", newKsk));
        assertEquals("KSK", addedKey.get("role").getAsString());
        assertEquals("active", json(mqtt.await("dnssec/" + PLAIN + "/keys/" + newKsk, WAIT)).get("state").getAsString());

        // 4. RFC 5011 revocation of the old KSK: one key_revoked with both tags, the old topic
        //    cleared, the key retained under its new tag as "revoked"
        int revokedTag = revokedTag(oldKsk);
        revoke(PLAIN, oldTag);
        JsonObject rev = json(event(mqtt, PLAIN, "key_revoked", revokedTag));
        assertEquals(oldTag, rev.get("original_keytag").getAsInt());
        mqtt.await(m -> m.topic().equals("dnssec/" + PLAIN + "/keys/" + oldTag) && m.payload().isEmpty(), WAIT);
        JsonObject revKey = json(mqtt.await(m -> m.topic().equals("dnssec/" + PLAIN + "/keys/" + revokedTag)
                && !m.payload().isEmpty(), WAIT));
        assertEquals("revoked", revKey.get("state").getAsString());
        assertEquals(385, revKey.get("flags").getAsInt());
        assertEquals(oldTag, revKey.get("original_keytag").getAsInt());
        assertFalse(revKey.has("ds_sha256"), "a revoked key gets no DS: " + revKey);
        mqtt.await(m -> m.topic().equals("dnssec/" + PLAIN + "/state")
                && json(m).getAsJsonArray("revoked_keytags").toString().equals("[" + revokedTag + "]"), WAIT);
        assertEquals(revokedKeySigns(), dnskeySigners(PLAIN).contains(revokedTag),
                "revoked key " + revokedTag + " among the DNSKEY signers " + dnskeySigners(PLAIN));
        mqtt.expectNone(m -> m.payload().contains("\"key_removed\""), Duration.ofMillis(300));

        // 5. removal of the revoked key: key_removed, topic cleared
        remove(PLAIN, oldTag);
        event(mqtt, PLAIN, "key_removed", revokedTag);
        mqtt.await(m -> m.topic().equals("dnssec/" + PLAIN + "/keys/" + revokedTag) && m.payload().isEmpty(), WAIT);
        assertTrue(mqtt.retained("dnssec/" + PLAIN + "/keys/" + revokedTag).isEmpty());

        // 6. the TSIG zone: a change, a signed NOTIFY, a TSIG-signed query back (polling is off)
        long accepted = bridge.listener.accepted();
        int zsk = addZsk(SIGNED);
        assertEquals("ZSK", json(event(mqtt, SIGNED, "key_added", zsk)).get("role").getAsString());
        assertTrue(bridge.listener.accepted() > accepted, "NOTIFYs accepted: " + bridge.listener.accepted());

        // the wrong-key zone never became known
        mqtt.expectNone(m -> m.topic().startsWith("dnssec/" + WRONG + "/"), Duration.ZERO);
        assertTrue(org.dnssec2mqtt.flow.StateStore.peek(runDir.resolve("data")).stream().noneMatch(z -> z.zone().equals(WRONG)),
                "saved state of " + WRONG);
    }

    /** The first event {@code type} on {@code zone} (with {@code keytag}, unless -1). */
    static MqttRecorder.Received event(MqttRecorder mqtt, String zone, String type, int keytag) {
        return event(mqtt, zone, type, keytag, WAIT);
    }

    /** The first event {@code type} on {@code zone} (with {@code keytag}, unless -1), waiting up to {@code timeout}. */
    static MqttRecorder.Received event(MqttRecorder mqtt, String zone, String type, int keytag, Duration timeout) {
        return mqtt.await(m -> {
            if (!m.topic().equals("dnssec/" + zone + "/events") || !m.payload().contains("\"event\":\"" + type + "\"")) {
                return false;
            }
            return keytag < 0 || json(m).get("keytag").getAsInt() == keytag;
        }, timeout);
    }

    static JsonObject json(MqttRecorder.Received m) {
        return JsonParser.parseString(m.payload()).getAsJsonObject();
    }

    /** The tag the key gets once its REVOKE bit is set (RFC 5011 §3: the flags are in the tag). */
    static int revokedTag(DNSKEYRecord key) {
        return new DNSKEYRecord(key.getName(), DClass.IN, key.getTTL(), key.getFlags() | DNSKEYRecord.Flags.REVOKE,
                key.getProtocol(), key.getAlgorithm(), key.getKey()).getFootprint();
    }

    /** The tag the key had before its REVOKE bit was set (its own tag when not revoked). */
    static int unrevokedTag(DNSKEYRecord key) {
        return new DNSKEYRecord(key.getName(), DClass.IN, key.getTTL(), key.getFlags() & ~DNSKEYRecord.Flags.REVOKE,
                key.getProtocol(), key.getAlgorithm(), key.getKey()).getFootprint();
    }

    private static List<Integer> ints(JsonArray array) {
        List<Integer> values = new ArrayList<>();
        array.forEach(e -> values.add(e.getAsInt()));
        return values.stream().sorted().toList();
    }

    /** Polls the key log until a line starts with {@code prefix} and contains {@code text}. */
    private static void awaitKeyLog(Path file, String prefix, String text) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
            if (lines.stream().anyMatch(l -> l.startsWith(prefix) && l.contains(text))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected a key log line " + prefix + " ... " + text + " within " + WAIT
                        + "; got:\n" + String.join("\n", lines));
            }
            Thread.sleep(20); // polling a file another thread appends to
        }
    }

    private static void awaitAbove(LongSupplier counter, long floor, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (counter.getAsLong() <= floor) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected more than " + floor + " " + what + " within " + WAIT);
            }
            Thread.sleep(20); // polling a counter: there is no event to wait for
        }
    }
}
