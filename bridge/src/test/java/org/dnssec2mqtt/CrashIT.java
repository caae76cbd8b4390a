package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.LogCapture;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;

/**
 * Crash safety: the bridge runs as its own JVM (the shaded jar) and is killed with SIGKILL at a
 * random moment while keys change fast and NOTIFYs pour in, {@code -Dcrash.kills} times (10 in
 * CI; 200 for the documented longer run). After every kill the saved state loads (every whole line
 * of the journal and the snapshot checks out, at most an unfinished last line is ignored), and the next start reconciles: a fresh subscriber's retained key topics equal the
 * zone's keys.
 */
@Timeout(3600) // the 200-kill run takes ~12 min; every wait inside has its own 30 s bound
class CrashIT {
    static final int KILLS = Integer.getInteger("crash.kills", 10);
    static final long SEED = Long.getLong("crash.seed", System.nanoTime());
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Name ZONE = Name.fromConstantString("example.test.");

    @TempDir
    Path dir;

    @Test
    void killedAtRandomMomentsItRestartsWithReadableStateAndReconciles() throws Exception {
        Random random = new Random(SEED);
        try (MosquittoBroker broker = MosquittoBroker.start();
                AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
                MqttRecorder all = new MqttRecorder(broker.url(), "dnssec/#")) {
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            zone.addKey(true, true);
            zone.addKey(false, true);
            auth.add(zone);
            int notifyPort = FreePorts.tcpAndUdp();
            InetSocketAddress notifyAt = new InetSocketAddress(InetAddress.getLoopbackAddress(), notifyPort);
            Path config = dir.resolve("crash.properties");
            Path data = dir.resolve("data");
            Files.writeString(config, """
                    notify.listen = 127.0.0.1:%d
                    dns.timeout = 2s
                    poll.full-interval = 0
                    mqtt.url = %s
                    data.dir = %s
                    keylog.file = %s
                    zones.example.test.servers = 127.0.0.1:%d
                    """.formatted(notifyPort, broker.url(), data, dir.resolve("keys.log"), auth.port()));

            long changes = 0;
            long sweptTopics = 0;
            for (int run = 0; run <= KILLS; run++) {
                all.clear();
                Path log = dir.resolve("bridge-" + run + ".log");
                Process bridge = launch(config, log);
                try {
                    awaitOrShowLog(() -> all.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("online"), WAIT), log);
                    long serial = zone.signed().serial();
                    // the start-up check has published the zone's state at the current serial...
                    awaitOrShowLog(() -> all.await(m -> m.topic().equals("dnssec/example.test/state")
                            && m.payload().contains("\"serial\":" + serial), WAIT), log);
                    // ...and a fresh subscriber sees exactly the zone's keys
                    Set<Integer> truth = tags(zone);
                    Map<String, Integer> retained = BrokerOutageIT.awaitRetainedKeys(broker.url(), truth);
                    assertEquals(truth, new TreeSet<>(retained.values()),
                            "run " + run + " (seed " + SEED + "): retained " + retained + "\n" + Files.readString(log));
                    assertEquals(truth.size(), retained.size(), "run " + run + ": stale topics " + retained);
                    if (run == KILLS) {
                        break;
                    }
                    // change keys fast, NOTIFY after each change, and kill -9 somewhere in between
                    AtomicBoolean stop = new AtomicBoolean();
                    AtomicLong done = new AtomicLong();
                    Thread mutator = new Thread(() -> mutate(zone, auth, notifyAt, new Random(random.nextLong()), stop, done));
                    mutator.start();
                    Thread.sleep(100 + random.nextInt(900)); // the random moment of the kill
                    bridge.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
                    assertTrue(bridge.waitFor(10, TimeUnit.SECONDS));
                    stop.set(true);
                    mutator.join();
                    changes += done.get();
                    // Random changes can leave no unrevoked signing KSK or ZSK: an answer the bridge
                    // rightly calls bogus and never takes keys from. End each run on a valid zone.
                    zone.addKey(true, true);
                    zone.addKey(false, true);
                } finally {
                    bridge.destroyForcibly();
                    bridge.waitFor(10, TimeUnit.SECONDS);
                }
                assertStateReadable(data, log);
                sweptTopics += Files.readString(log).lines().filter(l -> l.contains("clearing stale retained topic")).count();
            }
            System.out.printf("crash: %d kill -9s survived, %d key changes, seed %d; state readable every time, "
                    + "retained topics equal the truth after every restart (%d stale key topics swept)%n",
                    KILLS, changes, SEED, sweptTopics);
        }
    }

    /** An unreadable file of the one-file-per-zone layout, met while moving it into the journal. */
    @Test
    void aCorruptStateFileIsReportedWithItsPathAndKeptAside() throws Exception {
        Path zones = dir.resolve("data/zones");
        Files.createDirectories(zones);
        Path file = zones.resolve("example.test.json");
        Files.writeString(file, "{\"format\":1,\"state\":{\"zone\":\"example.test\",\"keys\":[{\"keytag\":");
        try (AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
                LogCapture log = LogCapture.start()) {
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            zone.addKey(true, true);
            zone.addKey(false, true);
            auth.add(zone);
            int mqttPort = FreePorts.tcp();
            Main.Running bridge = Main.start(TestConfig.load(dir, """
                    notify.listen = 127.0.0.1:0
                    poll.full-interval = 0
                    mqtt.embedded.listen = 127.0.0.1:%d
                    data.dir = %s
                    zones.example.test.servers = 127.0.0.1:%d
                    """.formatted(mqttPort, dir.resolve("data"), auth.port())), Clock.systemUTC());
            try (MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#")) {
                String text = log.await("state: cannot read " + file, WAIT);
                assertTrue(text.contains("ERROR"), text);
                List<Path> aside;
                try (Stream<Path> s = Files.list(zones)) {
                    aside = s.filter(p -> p.getFileName().toString().startsWith("example.test.json.corrupt-")).toList();
                }
                assertEquals(1, aside.size(), "the unreadable file is kept aside");
                assertTrue(text.contains("moved it to " + aside.get(0)), text);
                assertTrue(Files.readString(aside.get(0)).endsWith("\"keytag\":"), "kept byte for byte");
                // and the bridge carries on: the zone is checked afresh and saved anew
                mqtt.await(m -> m.topic().equals("dnssec/example.test/state") && m.payload().contains("\"status\":\"ok\""), WAIT);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (org.dnssec2mqtt.flow.StateStore.peek(dir.resolve("data")).stream().noneMatch(z -> z.zone().equals("example.test"))) {
                    assertTrue(System.nanoTime() < deadline, "the zone's state is saved again");
                    Thread.sleep(20); // polling the saved state
                }
                assertFalse(Files.exists(file), "no file per zone any more");
            } finally {
                bridge.close();
            }
        }
    }

    static void awaitOrShowLog(Runnable wait, Path log) throws java.io.IOException {
        try {
            wait.run();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n---- bridge log " + log + " ----\n" + Files.readString(log), e);
        }
    }

    static Set<Integer> tags(DemoZone zone) {
        Set<Integer> out = new TreeSet<>();
        zone.keys().forEach(k -> out.add(k.tag()));
        return out;
    }

    /** Random key changes (add, activate, revoke, remove), each followed by a NOTIFY. */
    static void mutate(DemoZone zone, AuthServer auth, InetSocketAddress notifyAt, Random random, AtomicBoolean stop,
            AtomicLong done) {
        while (!stop.get()) {
            List<DemoZone.Key> keys = zone.keys();
            int op = random.nextInt(5);
            if (keys.size() > 6) {
                zone.remove(keys.get(random.nextInt(keys.size())));
            } else if (op == 0 || keys.size() < 2) {
                zone.addKey(random.nextBoolean(), random.nextBoolean());
            } else if (op == 1) {
                zone.activate(keys.get(random.nextInt(keys.size())));
            } else if (op == 2) {
                DemoZone.Key k = keys.get(random.nextInt(keys.size()));
                if ((k.record().getFlags() & org.xbill.DNS.DNSKEYRecord.Flags.REVOKE) == 0) {
                    zone.revoke(k);
                }
            } else {
                zone.remove(keys.get(random.nextInt(keys.size())));
            }
            done.incrementAndGet();
            try {
                auth.notify(ZONE, notifyAt, 1); // no answer once the bridge is dead: 1 s, then stop
            } catch (java.io.IOException e) {
                // the bridge is gone
            }
        }
    }

    static void assertStateReadable(Path data, Path log) throws Exception {
        Path zones = data.resolve("zones");
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(zones)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        assertTrue(names.stream().noneMatch(n -> n.contains(".corrupt")), "corrupt state after a kill: " + names);
        for (String n : List.of("states.snapshot", "states.journal")) {
            Path f = zones.resolve(n);
            if (!Files.exists(f)) {
                continue;
            }
            // every whole line (a kill may leave the last one unfinished) is "<crc32c> <json>" in format 2
            String text = Files.readString(f, StandardCharsets.UTF_8);
            List<String> lines = List.of(text.split("\n", -1));
            for (String line : lines.subList(0, lines.size() - 1)) {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(line.substring(9).getBytes(StandardCharsets.UTF_8));
                assertEquals(String.format("%08x", crc.getValue()), line.substring(0, 8), n + ": " + line);
                assertEquals(2, JsonParser.parseString(line.substring(9)).getAsJsonObject().get("format").getAsInt(), n);
            }
        }
        String text = Files.readString(log);
        assertTrue(!text.contains("state: cannot read") && !text.contains("is damaged"), text);
    }

    /** The shaded jar when {@code package} built it (failsafe runs after), else the test class path. */
    static Process launch(Path config, Path log, String... jvmOptions) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m"));
        cmd.addAll(List.of(jvmOptions));
        Path jar = Path.of("target", "dnssec2mqtt.jar");
        if (Files.exists(jar)) {
            cmd.addAll(List.of("-jar", jar.toString()));
        } else {
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.dnssec2mqtt.Main"));
        }
        cmd.addAll(List.of("--config", config.toString()));
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
    }
}
