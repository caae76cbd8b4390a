package org.dnssec2mqtt.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/**
 * Keeps {@code mqttwarn-examples/<scenario>/payloads/} true to what the bridge really publishes.
 *
 * <p>Runs the bridge end to end (in-process authoritative server, embedded broker, a real Paho
 * subscriber) through every event type, and collects one real payload per kind. By default it
 * asserts that every committed sample has exactly the JSON keys and value types of fresh output
 * (key tags and times differ between runs), so a payload change that would break an mqttwarn
 * {@code format} string fails the build. With {@code -Dpayloads.write=true} it rewrites the
 * samples instead:
 *
 * <pre>mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=SamplePayloadsIT -Dpayloads.write=true</pre>
 */
@Timeout(90)
class SamplePayloadsIT {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final Name ZONE = Name.fromConstantString("example.com.");
    static final String PREFIX = "dnssec/example.com/";
    static final List<String> EVENTS = List.of("zone_added", "key_added", "key_changed", "key_revoked",
            "key_removed", "zone_unreachable", "zone_recovered", "dnskey_bogus", "dnskey_valid");
    /** Which samples each scenario gets: file name → sample name. */
    static final Map<String, List<String>> SCENARIOS = Map.of(
            "phone-push", concat(events(), List.of("ksk_submission.json")),
            "logfile", events(),
            "digest", concat(events(), List.of("state.json", "state-error.json")),
            "key-removals", List.of("key-ksk.json", "key-zsk.json", "key-revoked.json", "key-moved.empty",
                    "key-removed.empty"));

    /** A payload as published and the topic it came on. */
    record Sample(String topic, String payload) {}

    @TempDir
    Path dir;

    @Test
    void committedSamplesMatchWhatTheBridgePublishes() throws Exception {
        Map<String, Sample> fresh = collect();
        Path examples = examplesDir();
        boolean write = Boolean.getBoolean("payloads.write");
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<String>> scenario : new TreeMap<>(SCENARIOS).entrySet()) {
            Path payloads = examples.resolve(scenario.getKey()).resolve("payloads");
            if (write) {
                write(payloads, scenario.getValue(), fresh);
                continue;
            }
            compare(scenario.getKey(), payloads, scenario.getValue(), fresh, problems);
        }
        assertTrue(problems.isEmpty(), "mqttwarn-examples samples drifted from the bridge's output "
                + "(regenerate with -Dpayloads.write=true, then fix the .ini/.py files that read them):\n  "
                + String.join("\n  ", problems));
    }

    // ---- one run through every event type --------------------------------------------------

    private Map<String, Sample> collect() throws Exception {
        Map<String, Sample> out = new LinkedHashMap<>();
        DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
        AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
        auth.add(zone);
        int authPort = auth.port();
        int mqttPort = FreePorts.tcp();
        Config config = TestConfig.load(dir, """
                notify.listen = 127.0.0.1:0
                dns.query-port = %d
                dns.timeout = 1s
                mqtt.embedded.listen = 127.0.0.1:%d
                data.dir = %s
                """.formatted(authPort, mqttPort, dir.resolve("data")));
        Main.Running bridge = Main.start(config, Clock.systemUTC());
        InetSocketAddress notifyAt = bridge.listener.udpAddresses().get(0);
        try (MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#")) {
            DemoZone.Key ksk = zone.addKey(true, true);
            DemoZone.Key zsk = zone.addKey(false, true);
            assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
            out.put("zone_added.json", event(mqtt, "zone_added"));
            out.put("key-ksk.json", key(mqtt, ksk.tag()));
            out.put("key-zsk.json", key(mqtt, zsk.tag()));
            out.put("state.json", sample(mqtt.await(PREFIX + "state", WAIT)));

            DemoZone.Key standby = zone.addKey(true, false);
            assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
            out.put("key_added.json", event(mqtt, "key_added"));
            // OpenDNSSEC's DelegationSignerSubmitCommand for the new KSK: dnssec2mqtt ds-submit
            byte[] stdin = (standby.record.toString() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, org.dnssec2mqtt.signals.DsSubmitCommand.run("ds-submit", List.of(), config,
                    new java.io.ByteArrayInputStream(stdin), System.out, System.err, Clock.systemUTC()));
            out.put("ksk_submission.json", event(mqtt, "ksk_submission"));

            int oldTag = ksk.tag();
            zone.activate(standby);
            zone.revoke(ksk);
            assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
            out.put("key_changed.json", event(mqtt, "key_changed"));
            out.put("key_revoked.json", event(mqtt, "key_revoked"));
            out.put("key-revoked.json", key(mqtt, ksk.tag()));
            // revoking changes the tag: the key moves to a new topic, the old one is cleared
            out.put("key-moved.empty", sample(mqtt.await(
                    m -> m.topic().equals(PREFIX + "keys/" + oldTag) && m.payload().isEmpty(), WAIT)));

            zone.remove(ksk);
            assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
            out.put("key_removed.json", event(mqtt, "key_removed"));
            out.put("key-removed.empty", sample(mqtt.await(
                    m -> m.topic().equals(PREFIX + "keys/" + ksk.tag()) && m.payload().isEmpty(), WAIT)));

            auth.close();
            mqtt.clear();
            mqtt.publish("dnssec/_bridge/request/recheck", "example.com", false);
            out.put("zone_unreachable.json", event(mqtt, "zone_unreachable"));
            out.put("state-error.json", sample(mqtt.await(m -> m.topic().equals(PREFIX + "state")
                    && m.payload().contains("\"status\":\"error\""), WAIT)));

            auth = new AuthServer(InetAddress.getLoopbackAddress(), authPort).start(); // same port: the bridge asks there
            auth.add(zone);
            mqtt.publish("dnssec/_bridge/request/recheck", "example.com", false);
            out.put("zone_recovered.json", event(mqtt, "zone_recovered"));

            // the only active KSK stops signing: the DNSKEY RRset has no RRSIG, the answer is bogus
            zone.retire(standby);
            assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
            out.put("dnskey_bogus.json", event(mqtt, "dnskey_bogus"));
            zone.activate(standby);
            assertEquals(Rcode.NOERROR, auth.notify(ZONE, notifyAt, 3));
            out.put("dnskey_valid.json", event(mqtt, "dnskey_valid"));
        } finally {
            bridge.close();
            auth.close();
        }
        return out;
    }

    private static Sample event(MqttRecorder mqtt, String type) {
        return sample(mqtt.await(m -> m.topic().equals(PREFIX + "events")
                && m.payload().contains("\"event\":\"" + type + "\""), WAIT));
    }

    private static Sample key(MqttRecorder mqtt, int tag) {
        return sample(mqtt.await(m -> m.topic().equals(PREFIX + "keys/" + tag) && !m.payload().isEmpty(), WAIT));
    }

    private static Sample sample(MqttRecorder.Received m) {
        return new Sample(m.topic(), m.payload());
    }

    // ---- writing and comparing ---------------------------------------------------------------

    /** Payload files hold the exact bytes published; {@code topics.txt} says where each came from. */
    private static void write(Path payloads, List<String> names, Map<String, Sample> fresh) throws IOException {
        Files.createDirectories(payloads);
        try (Stream<Path> old = Files.list(payloads)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        StringBuilder topics = new StringBuilder("# sample file, then the topic it was published on (regenerated by SamplePayloadsIT)\n");
        for (String name : names) {
            Sample s = fresh.get(name);
            Files.writeString(payloads.resolve(name), s.payload(), StandardCharsets.UTF_8);
            topics.append(name).append(' ').append(s.topic()).append('\n');
        }
        Files.writeString(payloads.resolve("topics.txt"), topics, StandardCharsets.UTF_8);
    }

    private static void compare(String scenario, Path payloads, List<String> names, Map<String, Sample> fresh,
            List<String> problems) throws IOException {
        TreeSet<String> expected = new TreeSet<>(names);
        expected.add("topics.txt");
        TreeSet<String> present = new TreeSet<>();
        if (Files.isDirectory(payloads)) {
            try (Stream<Path> files = Files.list(payloads)) {
                files.forEach(p -> present.add(p.getFileName().toString()));
            }
        }
        if (!present.equals(expected)) {
            problems.add(scenario + "/payloads: expected files " + expected + "; got " + present);
            return;
        }
        Map<String, String> topics = new TreeMap<>();
        for (String line : Files.readAllLines(payloads.resolve("topics.txt"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] parts = line.trim().split("\\s+", 2);
                topics.put(parts[0], parts.length > 1 ? parts[1] : "");
            }
        }
        for (String name : names) {
            String where = scenario + "/payloads/" + name;
            Sample now = fresh.get(name);
            String committed = Files.readString(payloads.resolve(name), StandardCharsets.UTF_8);
            if (!shapeOfTopic(now.topic()).equals(shapeOfTopic(topics.getOrDefault(name, "")))) {
                problems.add(where + ": topic expected like " + now.topic() + "; topics.txt says '" + topics.get(name) + "'");
            }
            if (now.payload().isEmpty() || committed.isEmpty()) {
                if (!now.payload().equals(committed)) {
                    problems.add(where + ": expected " + (now.payload().isEmpty() ? "an empty payload" : now.payload())
                            + "; got " + (committed.isEmpty() ? "an empty file" : committed));
                }
                continue;
            }
            Map<String, String> want = shape(JsonParser.parseString(now.payload()).getAsJsonObject());
            Map<String, String> got;
            try {
                got = shape(JsonParser.parseString(committed).getAsJsonObject());
            } catch (RuntimeException e) {
                problems.add(where + ": not a JSON object: " + e.getMessage());
                continue;
            }
            if (!want.equals(got)) {
                List<String> diff = new ArrayList<>();
                for (String k : new TreeSet<>(concat(List.copyOf(want.keySet()), List.copyOf(got.keySet())))) {
                    if (!java.util.Objects.equals(want.get(k), got.get(k))) {
                        diff.add(k + ": expected " + want.getOrDefault(k, "(absent)") + ", got " + got.getOrDefault(k, "(absent)"));
                    }
                }
                problems.add(where + ": " + String.join("; ", diff));
            }
        }
    }

    /** Key → JSON type ({@code array<number>} for arrays), in key order. */
    static Map<String, String> shape(JsonObject o) {
        Map<String, String> m = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            m.put(e.getKey(), type(e.getValue()));
        }
        return m;
    }

    private static String type(JsonElement v) {
        if (v.isJsonNull()) {
            return "null";
        }
        if (v.isJsonArray()) {
            TreeSet<String> inner = new TreeSet<>();
            for (JsonElement x : (JsonArray) v) {
                inner.add(type(x));
            }
            return "array<" + String.join("|", inner) + ">";
        }
        if (v.isJsonObject()) {
            return "object";
        }
        var p = v.getAsJsonPrimitive();
        return p.isBoolean() ? "boolean" : p.isNumber() ? "number" : "string";
    }

    /** A topic with its key tags blanked out: they differ between runs. */
    private static String shapeOfTopic(String topic) {
        return topic.replaceAll("\\d+", "N");
    }

    static Path examplesDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("mqttwarn-examples"))) {
                return p.resolve("mqttwarn-examples");
            }
        }
        throw new IllegalStateException("no mqttwarn-examples directory above " + Path.of("").toAbsolutePath());
    }

    private static List<String> events() {
        return EVENTS.stream().map(e -> e + ".json").toList();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
