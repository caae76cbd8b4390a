package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.Peers;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;

/**
 * The benchmark (issue 6): real NSD serving signed zones, real mosquitto (then the embedded
 * broker), the bridge jar as its own process, a separate MQTT subscriber whose view is measured,
 * and a naive Perl/dig/mosquitto_pub loop as the baseline. Run it with {@code bridge/bench/run.sh};
 * settings come from {@code BENCH_*} environment variables (see {@link Options#fromEnv}).
 *
 * <p>Everything stays on 127.0.0.1, every loop is bounded in count and time, and every process it
 * starts is stopped at the end.
 */
public final class Bench {
    static final String PREFIX = "dnssec";
    /**
     * The shutdown runs' topic prefix: a fresh bridge on the main run's prefix would find every
     * zone of it on the broker and adopt them all, so SIGTERM would meet 11,220 adoption checks and
     * their publishes (the stop then spends its 1 s drain bound on them: 1.35 s measured).
     */
    static final String STOP_PREFIX = "benchstop";
    static final String NAIVE = "naive";
    private static final int WARMUP = 20;
    private static final String BIG = "big-";
    private static final Name STORM_ZONE = Name.fromConstantString("storm.bench.");

    /** What to run; the defaults are the full benchmark. */
    record Options(int latencyZones, List<Integer> bursts, int stormNotifies, boolean embedded, boolean naive,
            int naiveLatencyZones, int naiveBurst, int naiveStormSeconds, int burstSeconds, boolean restart,
            int shutdownRuns, Path jar, List<String> bridgeJvmOptions, int bigZones) {

        static Options fromEnv(Map<String, String> env) {
            return new Options(
                    intEnv(env, "BENCH_LATENCY_ZONES", 200),
                    Arrays.stream(env.getOrDefault("BENCH_BURSTS", "1000,10000").split(","))
                            .map(String::trim).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList(),
                    intEnv(env, "BENCH_STORM", 10_000),
                    !"false".equals(env.get("BENCH_EMBEDDED")),
                    !"false".equals(env.get("BENCH_NAIVE")),
                    intEnv(env, "BENCH_NAIVE_LATENCY_ZONES", 200),
                    intEnv(env, "BENCH_NAIVE_BURST", 1000),
                    intEnv(env, "BENCH_NAIVE_STORM_SECONDS", 15),
                    intEnv(env, "BENCH_BURST_SECONDS", 120),
                    !"false".equals(env.get("BENCH_RESTART")),
                    intEnv(env, "BENCH_SHUTDOWN_RUNS", 5),
                    findJar(env.get("BENCH_JAR")),
                    env.getOrDefault("BENCH_BRIDGE_JVM_OPTS", "").isBlank() ? List.of()
                            : List.of(env.get("BENCH_BRIDGE_JVM_OPTS").trim().split("\\s+")),
                    intEnv(env, "BENCH_100K", 0));
        }

        private static int intEnv(Map<String, String> env, String key, int dflt) {
            String v = env.get(key);
            return v == null || v.isBlank() ? dflt : Integer.parseInt(v.trim());
        }

        private static Path findJar(String given) {
            if (given != null && !given.isBlank()) {
                return Path.of(given).toAbsolutePath();
            }
            for (String p : List.of("bridge/target/dnssec2mqtt.jar", "target/dnssec2mqtt.jar")) {
                if (Files.isRegularFile(Path.of(p))) {
                    return Path.of(p).toAbsolutePath();
                }
            }
            throw new IllegalStateException("bridge/target/dnssec2mqtt.jar not found; run mvn -B package -DskipTests first");
        }
    }

    /** One burst's outcome. {@code seconds} is NaN when not every zone arrived. */
    record Burst(int zones, int seen, double seconds, double lastSeenSeconds, long sent, long retransmitted,
            long zonesSaved) {
        int lost() {
            return zones - seen;
        }

        double zonesPerSecond() {
            return lastSeenSeconds > 0 ? seen / lastSeenSeconds : Double.NaN;
        }
    }

    /** One storm's outcome. */
    record Storm(int notifies, double sendSeconds, long answered, long dnskeyQueries, int keyPublishes,
            int duplicates, boolean newKeySeen) {}

    /** The figures of one system under test (bridge on mosquitto, on the embedded broker, or naive). */
    static final class Run {
        final String name;
        double onlineMs = Double.NaN;
        final List<Double> latenciesMs = new ArrayList<>();
        /** NOTIFY of a known zone's change (a new key) → that change's first key message */
        final List<Double> changeLatenciesMs = new ArrayList<>();
        int changeTimeouts;
        double firstLatencyMs = Double.NaN;
        int latencyTimeouts;
        final Map<Integer, Burst> bursts = new LinkedHashMap<>();
        Storm storm;
        double rssMiB = Double.NaN;
        double hwmMiB = Double.NaN;
        double heapUsedMiB = Double.NaN;
        double heapCommittedMiB = Double.NaN;
        int threads = -1;
        int zonesTracked;
        double restartOnlineMs = Double.NaN;
        double restartAllStatesS = Double.NaN;
        /** the large phase (BENCH_100K): first sight of every zone, then {@code recheck *} */
        Burst big;
        double recheckAllS = Double.NaN;
        String recheckAllResponse;
        final List<Double> shutdownMs = new ArrayList<>();

        Run(String name) {
            this.name = name;
        }

        double p(double q) {
            return quantile(latenciesMs, q);
        }

        double change(double q) {
            return quantile(changeLatenciesMs, q);
        }

        static double quantile(List<Double> values, double q) {
            if (values.isEmpty()) {
                return Double.NaN;
            }
            List<Double> sorted = values.stream().sorted().toList();
            int i = (int) Math.ceil(q * sorted.size()) - 1;
            return sorted.get(Math.max(0, Math.min(i, sorted.size() - 1)));
        }
    }

    private final Options o;
    private final PrintStream out;
    private final Path work;
    private final BenchZones zones = new BenchZones();
    private final List<Name> latencyZones;
    private final Map<Integer, List<Name>> burstZones = new LinkedHashMap<>();
    private final List<Name> bigZones;
    private NsdServer nsd;
    private AuthServer auth;
    private DemoZone stormZone;

    private Bench(Options o, PrintStream out) throws IOException {
        this.o = o;
        this.out = out;
        this.work = Files.createTempDirectory("dnssec2mqtt-bench");
        this.latencyZones = BenchZones.names("l", Math.max(o.latencyZones(), o.naiveLatencyZones()) + WARMUP);
        for (int size : o.bursts()) {
            burstZones.put(size, BenchZones.names("b" + size + "-", size));
        }
        this.bigZones = BenchZones.names(BIG, o.bigZones());
    }

    public static void main(String[] args) throws Exception {
        List<Run> runs = run(Options.fromEnv(System.getenv()), System.out);
        System.exit(runs.isEmpty() ? 1 : 0);
    }

    /** Runs the whole benchmark and prints the table to {@code out}; returns the runs. */
    static List<Run> run(Options o, PrintStream out) throws Exception {
        // signing the zones (two RRSIGs each) with the native provider when it loads: 100,000 zones
        out.println("bench: signing with " + org.dnssec2mqtt.crypto.CryptoProvider.install(
                org.dnssec2mqtt.crypto.CryptoProvider.Mode.AUTO));
        Bench b = new Bench(o, out);
        try {
            return b.runAll();
        } finally {
            b.cleanUp();
        }
    }

    /**
     * Every program the benchmark runs: the servers, and for the naive loop Perl and what
     * naive-bridge.pl forks. Required before anything starts (skip locally, fail in CI), since a
     * missing one would otherwise show up only as keys that never arrive.
     */
    static List<String> tools(boolean naive) {
        List<String> tools = new ArrayList<>(List.of("/usr/sbin/nsd", "/usr/sbin/mosquitto"));
        if (naive) {
            tools.addAll(List.of("perl", "dig", "mosquitto_pub"));
        }
        return tools;
    }

    private List<Run> runAll() throws Exception {
        tools(o.naive()).forEach(Peers::require);
        String load0 = loadAverage();
        long t = System.nanoTime();
        List<Name> all = new ArrayList<>(latencyZones);
        burstZones.values().forEach(all::addAll);
        all.addAll(bigZones);
        Map<Name, java.nio.file.Path> files = zones.write(all, work.resolve("zones"));
        out.printf(Locale.ROOT, "bench: signed %d zones (one shared ECDSAP256SHA256 KSK and ZSK) in %.1f s%n", all.size(), secondsSince(t));

        t = System.nanoTime();
        nsd = new NsdServer(work.resolve("nsd"));
        for (Name n : all) {
            nsd.zone(n.toString(true), files.get(n));
        }
        nsd.start();
        Name last = all.get(all.size() - 1);
        nsd.awaitSerial(last.toString(true), zones.soa.get(last).getSerial(),
                java.time.Duration.ofSeconds(60 + all.size() / 1000));
        out.printf(Locale.ROOT, "bench: NSD serves %d zones on 127.0.0.1:%d (started in %.1f s)%n", all.size(), nsd.port(), secondsSince(t));

        auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
        stormZone = new DemoZone(STORM_ZONE, 1, Clock.systemUTC());
        stormZone.addKey(true, true);
        stormZone.addKey(false, true);
        auth.add(stormZone);

        List<Run> runs = new ArrayList<>();
        // mosquitto's default queue of 1000 messages per subscriber would drop the measuring
        // subscriber's messages in a burst: unlimited, so the figures are the bridge's.
        try (MosquittoBroker mosquitto = MosquittoBroker.start("allow_anonymous true\nmax_queued_messages 0\n", Map.of())) {
            runs.add(bridgeRun("dnssec2mqtt, mosquitto", mosquitto.url(), o.restart()));
            if (o.embedded()) {
                runs.add(bridgeRun("dnssec2mqtt, embedded broker", null, false));
            }
            if (o.naive()) {
                runs.add(naiveRun(mosquitto));
            }
        }
        out.println();
        printTable(runs, load0);
        return runs;
    }

    // ---- the bridge -------------------------------------------------------------------------

    private Run bridgeRun(String name, String mqttUrl, boolean restart) throws Exception {
        Run run = new Run(name);
        out.println("bench: --- " + name + " ---");
        Path dir = Files.createTempDirectory(work, "bridge");
        int notifyPort = FreePorts.tcpAndUdp();
        int embeddedPort = FreePorts.tcp();
        String url = mqttUrl != null ? mqttUrl : "tcp://127.0.0.1:" + embeddedPort;
        Path config = writeConfig(dir, notifyPort, mqttUrl, embeddedPort, PREFIX);
        Path log = dir.resolve("bridge.log");
        Subscriber sub = null;
        BridgeProcess bridge = null;
        try {
            if (mqttUrl != null) {
                sub = new Subscriber(url, PREFIX);
            }
            bridge = new BridgeProcess(o.jar(), config, o.bridgeJvmOptions(), log);
            if (sub == null) {
                sub = connectWhenUp(url, bridge, log, PREFIX);
            }
            long online = await(sub.onlineFuture(PREFIX), 30, "online state", log);
            run.onlineMs = (online - bridge.startNanos) / 1e6;
            out.printf(Locale.ROOT, "bench: start -> online %.0f ms%n", run.onlineMs);

            try (Notifier notifier = new Notifier(new InetSocketAddress(InetAddress.getLoopbackAddress(), notifyPort))) {
                out.printf(Locale.ROOT, "bench: NOTIFY sender's receive buffer %d KiB (asked %d KiB)%n",
                        notifier.receiveBuffer() / 1024, Notifier.RECEIVE_BUFFER / 1024);
                try (KeyStamps stamps = KeyStamps.connect(url, PREFIX)) {
                    latency(run, sub, stamps, notifier, PREFIX, o.latencyZones(), log);
                    changeLatency(run, sub, stamps, notifier, PREFIX, o.latencyZones(), log);
                }
                for (Map.Entry<Integer, List<Name>> e : burstZones.entrySet()) {
                    notifier.reset();
                    Burst b = burst(sub, notifier, PREFIX, e.getValue(), dir.resolve("data"), "b" + e.getKey() + "-");
                    run.bursts.put(e.getKey(), b);
                }
                notifier.reset();
                run.storm = storm(sub, notifier, PREFIX, o.stormNotifies(), 10, log);
                if (!bigZones.isEmpty() && mqttUrl != null) {
                    notifier.reset();
                    out.printf(Locale.ROOT, "bench: %d new zones at once%n", bigZones.size());
                    run.big = burst(sub, notifier, PREFIX, bigZones, dir.resolve("data"), BIG);
                }
            }
            run.zonesTracked = countSavedZones(dir.resolve("data"), "");
            resources(run, bridge);
            if (run.big != null) {
                recheckAll(run, sub, log);
            }
            if (restart) {
                restart(run, sub, bridge, config, log);
                bridge = null;
            }
        } finally {
            if (bridge != null) {
                bridge.close();
            }
            if (sub != null) {
                sub.close();
            }
        }
        shutdown(run, mqttUrl, dir, notifyPort, embeddedPort);
        return run;
    }

    /**
     * SIGTERM → process exit, the median of {@code o.shutdownRuns()} starts, each on a fresh data dir
     * with one configured zone: start, wait for online, SIGTERM, time until the process has exited
     * (after publishing offline and, with the embedded broker, closing its store).
     */
    private void shutdown(Run run, String mqttUrl, Path parent, int notifyPort, int embeddedPort) throws Exception {
        for (int i = 0; i < o.shutdownRuns(); i++) {
            Path dir = Files.createTempDirectory(parent, "shutdown");
            String url = mqttUrl != null ? mqttUrl : "tcp://127.0.0.1:" + embeddedPort;
            Path config = writeConfig(dir, notifyPort, mqttUrl, embeddedPort, STOP_PREFIX);
            Path log = dir.resolve("bridge.log");
            Subscriber sub = mqttUrl != null ? new Subscriber(url, STOP_PREFIX) : null;
            try (BridgeProcess bridge = new BridgeProcess(o.jar(), config, o.bridgeJvmOptions(), log)) {
                if (sub == null) {
                    sub = connectWhenUp(url, bridge, log, STOP_PREFIX);
                }
                await(sub.onlineFuture(STOP_PREFIX), 30, "online state", log);
                run.shutdownMs.add(bridge.sigtermToExitNanos() / 1e6);
            } finally {
                if (sub != null) {
                    sub.close();
                }
            }
        }
        out.printf(Locale.ROOT, "bench: SIGTERM -> exit, median of %d: %.0f ms (%s)%n", run.shutdownMs.size(),
                Run.quantile(run.shutdownMs, 0.5), run.shutdownMs.stream()
                        .map(v -> String.format(Locale.ROOT, "%.0f", v)).toList());
    }

    /** The bridge's config in {@code dir}: its data in {@code dir/data}, mosquitto or (url null) the embedded broker. */
    private Path writeConfig(Path dir, int notifyPort, String mqttUrl, int embeddedPort, String prefix)
            throws IOException {
        Path config = dir.resolve("bench.properties");
        Files.writeString(config, String.join("\n",
                "# written by the benchmark",
                "notify.listen = 127.0.0.1:" + notifyPort,
                "dns.query-port = " + nsd.port(),
                "data.dir = " + dir.resolve("data"),
                mqttUrl != null ? "mqtt.url = " + mqttUrl : "mqtt.embedded.listen = 127.0.0.1:" + embeddedPort,
                "mqtt.client-id = dnssec2mqtt-bench",
                "mqtt.topic-prefix = " + prefix,
                System.getenv().getOrDefault("BENCH_DNS_TRANSPORT", "").isBlank() ? ""
                        : "dns.transport = " + System.getenv("BENCH_DNS_TRANSPORT"),
                "zones." + STORM_ZONE.toString(true) + ".servers = 127.0.0.1:" + auth.port(),
                ""), StandardCharsets.UTF_8);
        return config;
    }

    private Subscriber connectWhenUp(String url, BridgeProcess bridge, Path log, String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return new Subscriber(url, prefix);
            } catch (org.eclipse.paho.client.mqttv3.MqttException notYet) {
                if (System.nanoTime() > deadline || !bridge.isAlive()) {
                    throw new IllegalStateException("cannot connect to the embedded broker at " + url + "\n" + tail(log));
                }
                Thread.sleep(10); // polling for the port to open
            }
        }
    }

    private void resources(Run run, BridgeProcess bridge) {
        run.rssMiB = bridge.statusMiB("VmRSS");
        run.hwmMiB = bridge.statusMiB("VmHWM");
        run.threads = bridge.threads();
        double[] heap = bridge.heapMiB();
        run.heapUsedMiB = heap[0];
        run.heapCommittedMiB = heap[1];
        out.printf(Locale.ROOT, "bench: %d zones tracked: RSS %.0f MiB (peak %.0f), heap used %.0f of %.0f MiB committed, %d threads%n",
                run.zonesTracked, run.rssMiB, run.hwmMiB, run.heapUsedMiB, run.heapCommittedMiB, run.threads);
    }

    /**
     * {@code recheck *}: the request, then its response (sent once every zone's check ended); the
     * time is the response's arrival, the response says how many zones were checked and failed.
     */
    private void recheckAll(Run run, Subscriber sub, Path log) throws Exception {
        awaitQuiet(sub, null, 5);
        long states0 = sub.stateMessages.get();
        String transaction = "bench-recheck-" + System.nanoTime();
        CpuTally cpu0 = CpuTally.now();
        long t0 = System.nanoTime();
        CompletableFuture<String> response = sub.request(PREFIX + "/_bridge/request/recheck",
                "{\"zone\":\"*\",\"transaction\":\"" + transaction + "\"}", transaction);
        try {
            run.recheckAllResponse = response.get(o.burstSeconds(), TimeUnit.SECONDS);
            run.recheckAllS = secondsSince(t0);
        } catch (TimeoutException e) {
            out.println("bench: no response to recheck * within " + o.burstSeconds() + " s\n" + tail(log));
        }
        out.printf(Locale.ROOT, "bench: recheck * of %d zones: response after %.2f s (%d state messages by then): %s%n",
                run.zonesTracked, run.recheckAllS, sub.stateMessages.get() - states0, run.recheckAllResponse);
        out.println("bench: recheck * CPU: " + CpuTally.describe(CpuTally.now().since(cpu0), run.zonesTracked));
    }

    /** Stops the bridge and starts it again on the same data dir: online, then every zone checked. */
    private void restart(Run run, Subscriber sub, BridgeProcess old, Path config, Path log) throws Exception {
        old.close();
        sub.resetOnline(PREFIX);
        long states0 = sub.stateMessages.get();
        try (BridgeProcess bridge = new BridgeProcess(o.jar(), config, o.bridgeJvmOptions(), log)) {
            long t0 = bridge.startNanos;
            run.restartOnlineMs = (await(sub.onlineFuture(PREFIX), 30, "online state after the restart", log) - t0) / 1e6;
            // every zone's state once more after its start-up check (its checked_at moved); the
            // reconcile on connect publishes nothing for a zone whose retained copy is current
            long want = states0 + run.zonesTracked;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.burstSeconds());
            while (sub.stateMessages.get() < want && System.nanoTime() < deadline) {
                Thread.sleep(20); // polling the counter
            }
            if (sub.stateMessages.get() >= want) {
                run.restartAllStatesS = (sub.lastMessageNanos - t0) / 1e9;
            }
            out.printf(Locale.ROOT, "bench: restart with %d zones: online %.0f ms, all zones re-checked %.1f s%n",
                    run.zonesTracked, run.restartOnlineMs, run.restartAllStatesS);
        }
    }

    // ---- scenarios, shared by the bridge and the naive loop --------------------------------

    /** (1) one unknown zone at a time: NOTIFY → first key message at the subscriber. */
    private void latency(Run run, Subscriber sub, KeyStamps stamps, Notifier notifier, String prefix, int count, Path log)
            throws Exception {
        int timeouts = 0;
        for (int i = 0; i < count + WARMUP; i++) {
            Name zone = latencyZones.get(i);
            String key = prefix + "/" + zone.toString(true);
            double ms = timedNotify(notifier, zone, zones.soa.get(zone), stamps.next(key));
            if (Double.isNaN(ms)) {
                timeouts++;
                continue;
            }
            if (i == 0) {
                run.firstLatencyMs = ms;
            }
            if (i >= WARMUP) {
                run.latenciesMs.add(ms);
            }
            // let this zone's remaining publishes (second key, state, event) pass before the next
            awaitQuiet(sub, prefix.equals(NAIVE) ? null : sub.eventFuture(key), 2);
        }
        run.latencyTimeouts = timeouts;
        out.printf(Locale.ROOT, "bench: latency over %d zones (after %d warm-up): p50 %.2f ms, p99 %.2f ms, max %.2f ms, first %.1f ms, %d timeouts%n",
                run.latenciesMs.size(), WARMUP, run.p(0.5), run.p(0.99), run.p(1.0), run.firstLatencyMs, timeouts);
        if (timeouts > 0) {
            out.println(tail(log));
        }
    }

    /** Milliseconds from sending {@code zone}'s NOTIFY to {@code arrival}; NaN when it did not come within 10 s. */
    private static double timedNotify(Notifier notifier, Name zone, org.xbill.DNS.SOARecord soa,
            CompletableFuture<Long> arrival) throws Exception {
        long t0 = System.nanoTime();
        notifier.notify(zone, soa, true);
        try {
            return (arrival.get(10, TimeUnit.SECONDS) - t0) / 1e6;
        } catch (TimeoutException e) {
            return Double.NaN;
        }
    }

    /**
     * (1) one change at a time in zones already known (the figure): a new ZSK published
     * in NSD (re-signed, serial one up, reloaded, served), then NOTIFY → the first key message of
     * that zone after it. The reload and the wait for NSD's new serial are outside the timed part.
     */
    private void changeLatency(Run run, Subscriber sub, KeyStamps stamps, Notifier notifier, String prefix, int count,
            Path log)
            throws Exception {
        int timeouts = 0;
        for (int i = 0; i < count + WARMUP; i++) {
            Name zone = latencyZones.get(i);
            String name = zone.toString(true);
            org.xbill.DNS.SOARecord changed = zones.change(zone, work.resolve("zones"));
            nsd.reload(name);
            nsd.awaitSerial(name, changed.getSerial(), java.time.Duration.ofSeconds(10));
            awaitQuiet(sub, null, 1);
            String key = prefix + "/" + name;
            double ms = timedNotify(notifier, zone, changed, stamps.next(key));
            if (Double.isNaN(ms)) {
                timeouts++;
                continue;
            }
            if (i >= WARMUP) {
                run.changeLatenciesMs.add(ms);
            }
            awaitQuiet(sub, null, 2); // the change's other publishes (state, event) pass before the next
        }
        run.changeTimeouts = timeouts;
        out.printf(Locale.ROOT, "bench: one change each in %d known zones (after %d warm-up): p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d timeouts%n",
                run.changeLatenciesMs.size(), WARMUP, run.change(0.5), run.change(0.99), run.change(1.0), timeouts);
        if (timeouts > 0) {
            out.println(tail(log));
        }
    }

    /** Waits for {@code f} (if any), then until no message arrived for 3 ms (bounded by {@code maxSeconds}). */
    private static void awaitQuiet(Subscriber sub, CompletableFuture<Long> f, int maxSeconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
        if (f != null) {
            try {
                f.get(maxSeconds, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                return;
            }
        }
        while (System.nanoTime() < deadline && System.nanoTime() - sub.lastMessageNanos < 3_000_000L) {
            Thread.sleep(1); // polling
        }
    }

    /** (2) NOTIFY for every zone at once; retransmitted until answered; until every zone's keys arrived. */
    private Burst burst(Subscriber sub, Notifier notifier, String prefix, List<Name> names, Path dataDir,
            String savedPrefix) throws Exception {
        List<CompletableFuture<Long>> futures = new ArrayList<>(names.size());
        java.util.concurrent.atomic.AtomicInteger arrived = new java.util.concurrent.atomic.AtomicInteger();
        for (Name n : names) {
            CompletableFuture<Long> f = sub.keyFuture(prefix + "/" + n.toString(true));
            futures.add(f);
            // counted as they complete: scanning 100,000 futures every 10 ms would cost the bridge CPU
            f.thenRun(arrived::incrementAndGet);
        }
        CpuTally cpu0 = CpuTally.now();
        long t0 = System.nanoTime();
        for (Name n : names) {
            notifier.notify(n, zones.soa.get(n), true);
        }
        long deadline = t0 + TimeUnit.SECONDS.toNanos(o.burstSeconds());
        int seen = 0;
        int lastSeen = -1;
        long lastProgress = System.nanoTime();
        while (System.nanoTime() < deadline) {
            seen = arrived.get();
            if (seen == names.size()) {
                break;
            }
            if (seen != lastSeen) {
                lastSeen = seen;
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(15) && notifier.unanswered() == 0) {
                break; // everything answered and nothing arrives any more: the rest is lost
            }
            Thread.sleep(10); // polling the futures
        }
        seen = (int) futures.stream().filter(CompletableFuture::isDone).count();
        long lastAt = futures.stream().filter(CompletableFuture::isDone).mapToLong(CompletableFuture::join).max().orElse(t0);
        double lastSeenS = (lastAt - t0) / 1e9;
        Burst b = new Burst(names.size(), seen, seen == names.size() ? lastSeenS : Double.NaN, lastSeenS,
                notifier.sent.get(), notifier.retransmitted.get(),
                dataDir == null ? -1 : countSavedZones(dataDir, savedPrefix));
        out.printf(Locale.ROOT, "bench: burst %d: %d seen, %d lost, last at %.2f s, %.0f zones/s, %d NOTIFYs sent (%d retransmitted), %d zones saved%n",
                b.zones(), b.seen(), b.lost(), lastSeenS, b.zonesPerSecond(), b.sent(), b.retransmitted(), b.zonesSaved());
        // where the CPU went (until the last key, give or take the 10 ms polling): 2 cores bound the rate
        out.println("bench: burst " + b.zones() + " CPU: " + CpuTally.describe(CpuTally.now().since(cpu0), b.seen()));
        return b;
    }

    /**
     * (3) The storm zone (served by the in-process {@link AuthServer}, which counts DNSKEY
     * queries) gets a new key, then {@code count} NOTIFYs with the new serial within a second.
     */
    private Storm storm(Subscriber sub, Notifier notifier, String prefix, int count, int settleSeconds, Path log) throws Exception {
        String zoneKey = prefix + "/" + STORM_ZONE.toString(true);
        if (prefix.equals(PREFIX)) {
            // its keys, retained: its start-up check's event may have gone out before the
            // subscriber's subscription reached the embedded broker (events are not retained)
            await(sub.keyFuture(zoneKey), 30, "the storm zone's start-up check", log);
            awaitQuiet(sub, null, 2);
        }
        String keysTopic = zoneKey + "/keys/";
        int publishes0 = sub.count(keysTopic);
        long queries0 = auth.dnskeyQueries();
        DemoZone.Key added = stormZone.addKey(false, false); // a stand-by ZSK: one new key topic
        SOARecord soa = (SOARecord) stormZone.signed().soa().first();
        String newTopic = keysTopic + added.tag();
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            // paced evenly over one second
            long due = t0 + (long) i * 1_000_000_000L / count;
            while (System.nanoTime() < due) {
                Thread.onSpinWait();
            }
            notifier.notify(STORM_ZONE, soa, false);
        }
        double sendSeconds = secondsSince(t0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(settleSeconds);
        while (sub.countTopic(newTopic) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5); // polling
        }
        // the observation window: whatever the storm still causes shows up within it
        Thread.sleep(Math.min(3000, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
        int publishes = sub.count(keysTopic) - publishes0;
        boolean seen = sub.countTopic(newTopic) > 0;
        Storm s = new Storm(count, sendSeconds, notifier.answered.get(), auth.dnskeyQueries() - queries0,
                publishes, Math.max(0, publishes - 1), seen);
        out.printf(Locale.ROOT, "bench: storm of %d NOTIFYs in %.2f s (%d answered): %d DNSKEY queries, %d key publishes (%d duplicates), new key %s%n",
                count, sendSeconds, s.answered(), s.dnskeyQueries(), publishes, s.duplicates(), seen ? "published" : "NOT published");
        return s;
    }

    // ---- the naive baseline -----------------------------------------------------------------

    private Run naiveRun(MosquittoBroker mosquitto) throws Exception {
        Run run = new Run("naive loop (Perl + dig + mosquitto_pub)");
        out.println("bench: --- " + run.name + " ---");
        Path script = findScript();
        try (Subscriber sub = new Subscriber(mosquitto.url(), NAIVE)) {
            int port = FreePorts.tcpAndUdp();
            Process naive = startNaive(script, port, nsd.port(), mosquitto.port());
            try (Notifier notifier = new Notifier(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                try (KeyStamps stamps = KeyStamps.connect(mosquitto.url(), NAIVE)) {
                    latency(run, sub, stamps, notifier, NAIVE, o.naiveLatencyZones(), work.resolve("naive.log"));
                    changeLatency(run, sub, stamps, notifier, NAIVE, o.naiveLatencyZones(), work.resolve("naive.log"));
                }
                if (o.naiveBurst() > 0) {
                    List<Name> names = burstZones.getOrDefault(o.naiveBurst(), List.of());
                    if (!names.isEmpty()) {
                        notifier.reset();
                        run.bursts.put(o.naiveBurst(), burst(sub, notifier, NAIVE, names, null, null));
                    }
                }
            } finally {
                naive.descendants().forEach(ProcessHandle::destroy);
                naive.destroy();
                naive.waitFor(5, TimeUnit.SECONDS);
            }
            // the storm: a second loop that asks the counting server
            int stormPort = FreePorts.tcpAndUdp();
            Process stormNaive = startNaive(script, stormPort, auth.port(), mosquitto.port());
            try (Notifier notifier = new Notifier(new InetSocketAddress(InetAddress.getLoopbackAddress(), stormPort))) {
                Thread.sleep(300); // the script binds its socket after Perl starts; no readiness signal
                run.storm = storm(sub, notifier, NAIVE, o.stormNotifies(), o.naiveStormSeconds(), work.resolve("naive.log"));
            } finally {
                stormNaive.descendants().forEach(ProcessHandle::destroy);
                stormNaive.destroy();
                stormNaive.waitFor(5, TimeUnit.SECONDS);
            }
        }
        return run;
    }

    private Process startNaive(Path script, int listen, int dnsPort, int mqttPort) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("perl", script.toString(), Integer.toString(listen), Integer.toString(dnsPort),
                Integer.toString(mqttPort), NAIVE)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("naive.log").toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !Files.readString(work.resolve("naive.log")).contains("listening on 127.0.0.1:" + listen)) {
            Thread.sleep(10); // polling for the script's "listening" line
        }
        return p;
    }

    private static Path findScript() {
        for (String p : List.of("bridge/bench/naive-bridge.pl", "bench/naive-bridge.pl")) {
            if (Files.isRegularFile(Path.of(p))) {
                return Path.of(p).toAbsolutePath();
            }
        }
        throw new IllegalStateException("bench/naive-bridge.pl not found (run from the repository or bridge/)");
    }

    // ---- the table ---------------------------------------------------------------------------

    private void printTable(List<Run> runs, String load0) {
        Run a = runs.get(0);
        Run naive = runs.stream().filter(r -> r.name.startsWith("naive")).findFirst().orElse(null);
        List<Run> cols = runs;
        StringBuilder h = new StringBuilder("| figure | target |");
        StringBuilder sep = new StringBuilder("|---|---|");
        for (Run r : cols) {
            h.append(' ').append(r.name).append(" |");
            sep.append("---|");
        }
        if (naive != null) {
            h.append(" naive ÷ dnssec2mqtt (mosquitto) |");
            sep.append("---|");
        }
        out.println(h);
        out.println(sep);
        row(cols, naive, "1. NOTIFY → first key message, p50 (" + a.changeLatenciesMs.size()
                + " zones, one change each: a new key)", "≤ 0.5 ms", r -> r.change(0.5), "%.2f ms", false);
        row(cols, naive, "1. NOTIFY → first key message, p99 (one change each)", "≤ 2 ms", r -> r.change(0.99),
                "%.2f ms", false);
        row(cols, naive, "1b. a new zone's NOTIFY → its first key message, p50 (" + a.latenciesMs.size() + " zones)",
                "", r -> r.p(0.5), "%.2f ms", false);
        row(cols, naive, "1b. a new zone's NOTIFY → its first key message, p99", "", r -> r.p(0.99), "%.2f ms", false);
        for (int size : o.bursts()) {
            String target = size >= 10_000 ? "≤ 1 s" : "";
            row(cols, naive, "2. burst " + size + " new zones: time until every zone's keys", target,
                    r -> r.bursts.containsKey(size) ? r.bursts.get(size).seconds() : Double.NaN, "%.2f s", false);
            row(cols, naive, "2. burst " + size + ": zones/s (zones seen ÷ time of the last)", "",
                    r -> r.bursts.containsKey(size) ? r.bursts.get(size).zonesPerSecond() : Double.NaN, "%.0f", true);
            row(cols, naive, "2. burst " + size + ": zones lost (answered, keys never published)", "0",
                    r -> r.bursts.containsKey(size) ? r.bursts.get(size).lost() : Double.NaN, "%.0f", null);
        }
        row(cols, naive, "3. storm " + o.stormNotifies() + " NOTIFYs/1 s, one zone: DNSKEY queries", "≤ 2",
                r -> r.storm == null ? Double.NaN : r.storm.dnskeyQueries(), "%.0f", null);
        row(cols, naive, "3. storm: duplicate key publishes", "0",
                r -> r.storm == null ? Double.NaN : r.storm.duplicates(), "%.0f", null);
        row(cols, naive, "4. RSS with " + a.zonesTracked + " zones tracked", "≤ 200 MB", r -> r.rssMiB, "%.0f MiB", null);
        row(cols, naive, "4. heap used / committed", "", r -> r.heapUsedMiB, "%.0f MiB", null, r -> r.heapCommittedMiB);
        row(cols, naive, "4. process start → {\"state\":\"online\"}", "≤ 1.5 s", r -> r.onlineMs, "%.0f ms", null);
        row(cols, naive, "5. SIGTERM → exit (offline published), median of " + o.shutdownRuns(), "< 1 s",
                r -> Run.quantile(r.shutdownMs, 0.5), "%.0f ms", null);
        if (!Double.isNaN(a.restartOnlineMs)) {
            row(cols, naive, "restart with " + a.zonesTracked + " zones: → online / → every zone re-checked", "",
                    r -> r.restartOnlineMs, "%.0f ms", null, r -> r.restartAllStatesS * 1000);
        }
        if (a.big != null) {
            int n = a.big.zones();
            row(cols, naive, "6. " + n + " new zones at once: time until every zone's keys", "≤ 15 s",
                    r -> r.big == null ? Double.NaN : r.big.seconds(), "%.2f s", null);
            row(cols, naive, "6. " + n + " new zones: zones lost (answered, keys never published)", "0",
                    r -> r.big == null ? Double.NaN : r.big.lost(), "%.0f", null);
            row(cols, naive, "6. recheck * of " + a.zonesTracked + " zones → response (every zone re-checked)", "≤ 15 s",
                    r -> r.recheckAllS, "%.2f s", null);
        }
        out.println();
        out.printf(Locale.ROOT, "machine: %d cores (nproc), %s, load average before %s, after %s%n",
                Runtime.getRuntime().availableProcessors(), javaVersion(), load0, loadAverage());
        out.println("(ratios: how many times better dnssec2mqtt on mosquitto is than the naive loop; "
                + "n/a where the naive loop was not run on that scenario)");
    }

    private interface Figure {
        double of(Run r);
    }

    /** One row; {@code higherIsBetter} null = no ratio column. */
    private void row(List<Run> cols, Run naive, String label, String target, Figure f, String fmt, Boolean higherIsBetter) {
        row(cols, naive, label, target, f, fmt, higherIsBetter, null);
    }

    private void row(List<Run> cols, Run naive, String label, String target, Figure f, String fmt, Boolean higherIsBetter, Figure second) {
        StringBuilder sb = new StringBuilder("| ").append(label).append(" | ").append(target).append(" |");
        for (Run r : cols) {
            double v = f.of(r);
            String cell = Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, fmt, v);
            if (second != null && !Double.isNaN(v)) {
                double w = second.of(r);
                cell += " / " + (Double.isNaN(w) ? "n/a" : String.format(Locale.ROOT, fmt, w));
            }
            sb.append(' ').append(cell).append(" |");
        }
        if (naive != null) {
            double ours = f.of(cols.get(0));
            double theirs = f.of(naive);
            String ratio = "";
            if (Boolean.TRUE.equals(higherIsBetter) && ours > 0 && theirs > 0) {
                ratio = String.format(Locale.ROOT, "%.1f×", ours / theirs);
            } else if (Boolean.FALSE.equals(higherIsBetter) && ours > 0 && theirs > 0) {
                ratio = String.format(Locale.ROOT, "%.1f×", theirs / ours);
            } else if (higherIsBetter == null && !Double.isNaN(theirs) && !Double.isNaN(ours)) {
                ratio = String.format(Locale.ROOT, fmt.replace(" MiB", "").replace(" ms", ""), theirs) + " vs "
                        + String.format(Locale.ROOT, fmt.replace(" MiB", "").replace(" ms", ""), ours);
            }
            sb.append(' ').append(ratio.isEmpty() ? "n/a" : ratio).append(" |");
        }
        out.println(sb);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static long await(CompletableFuture<Long> f, int seconds, String what, Path log) throws Exception {
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("bench: no " + what + " within " + seconds + " s\n" + tail(log));
        }
    }

    /** Zones with a saved state whose name starts with {@code prefix} (the storm zone aside). */
    private static int countSavedZones(Path dataDir, String prefix) {
        try {
            return (int) org.dnssec2mqtt.flow.StateStore.peek(dataDir).stream().map(z -> z.zone())
                    .filter(n -> n.startsWith(prefix) && !n.startsWith("storm")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            return "---- " + log + " (last lines) ----\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static String javaVersion() {
        try {
            Process p = new ProcessBuilder("java", "-version").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            String[] lines = text.split("\n");
            return lines.length > 1 ? lines[0].trim() + " (" + lines[1].trim() + ")" : text.trim();
        } catch (IOException | InterruptedException e) {
            return "java ?";
        }
    }

    private void cleanUp() {
        if (auth != null) {
            auth.close();
        }
        if (nsd != null) {
            nsd.close();
        }
        if (System.getenv("BENCH_KEEP") == null) {
            deleteTree(work);
        } else {
            out.println("bench: files kept in " + work);
        }
    }
}
