package org.dnssec2mqtt.bench;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ObjectName;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.ConfigLoader;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.flow.Cause;
import org.dnssec2mqtt.flow.Checker;
import org.dnssec2mqtt.flow.Scheduler;
import org.dnssec2mqtt.flow.TrackedZone;
import org.dnssec2mqtt.flow.ZoneRegistry;
import org.dnssec2mqtt.mqtt.ConnectedOutbox;
import org.dnssec2mqtt.mqtt.MqttPublisher;
import org.dnssec2mqtt.mqtt.Outbox;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.NsdServer;
import org.xbill.DNS.Name;

/**
 * The heap a checked zone keeps, through the code a check runs: {@code BENCH_MEMORY_ZONES}
 * [20000] zones (the benchmark's signed zones: a KSK and a ZSK, ECDSAP256SHA256) served by a real
 * NSDs on 127.0.0.1 and up ({@code BENCH_MEMORY_SOURCES} [4] of them, one port, each serving its
 * share of the zones: NOTIFYs come from a few primaries), each zone learned by the
 * {@link ZoneRegistry} from a target made afresh as the listener makes one for each NOTIFY,
 * scheduled by the {@link Scheduler} (its slot per zone stays), checked once by the {@link Checker}
 * (the real {@link ZoneFetcher}, the evaluation, its {@code Validator}'s memory of verified
 * signatures, the rollover timing), its state kept in its {@link TrackedZone} and published by
 * the {@link MqttPublisher} to an outbox that keeps nothing (the publisher's own view of the
 * broker is what stays). The default config, as the bench's bridge runs it (no Home Assistant, no
 * cluster). Heap used after a full GC, before and after, divided by the number of zones; then the
 * same with the scheduler, the checker, then the publisher dropped, which says who holds what; and the largest
 * classes of the heap histogram. Run it as the launcher runs the bridge
 * ({@code -XX:+UseSerialGC}); bounded: one check per zone, loopback only.
 */
public final class MemoryBench {
    private MemoryBench() {}

    /** The stages that keep per-zone memory, wired as Main wires them. */
    private static final class Stages {
        ZoneRegistry registry;
        Scheduler scheduler;
        Checker checker;
        MqttPublisher publisher;
        final AtomicLong retained = new AtomicLong();
        /** Connected, keeps nothing: what stays is what the publisher keeps. */
        final Outbox out = new ConnectedOutbox((t, p) -> retained.incrementAndGet(), (t, p) -> { });
    }

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(System.getenv().getOrDefault("BENCH_MEMORY_ZONES", "20000"));
        int sourceCount = Integer.parseInt(System.getenv().getOrDefault("BENCH_MEMORY_SOURCES", "4"));
        String provider = CryptoProvider.install(CryptoProvider.Mode.AUTO);
        Path work = Files.createTempDirectory("memory-bench");
        List<Name> warm = BenchZones.names("w", 500);
        List<Name> names = BenchZones.names("big-", count);
        List<Name> all = new ArrayList<>(warm);
        all.addAll(names);
        Map<Name, Path> files = new BenchZones().write(all, work.resolve("zones"));
        int port = FreePorts.tcpAndUdp();
        List<NsdServer> sources = new ArrayList<>();
        try {
            for (int i = 0; i < sourceCount; i++) {
                sources.add(new NsdServer(work.resolve("nsd" + i)).listenOn("127.0.0." + (i + 1), port));
            }
            for (int i = 0; i < all.size(); i++) {
                Name n = all.get(i);
                sources.get(i % sourceCount).zone(n.toString(true), files.get(n));
            }
            sources.forEach(NsdServer::start);
            Path file = work.resolve("bench.properties");
            Files.writeString(file, "dns.query-port = " + port + "\n"
                    + "data.dir = " + work.resolve("data") + "\n", StandardCharsets.UTF_8);
            Config config = ConfigLoader.load(file, Map.of());
            Stages s = new Stages();
            Topics topics = new Topics(config.mqttTopicPrefix());
            s.registry = new ZoneRegistry(config);
            s.publisher = new MqttPublisher(topics, s.out, null, config.clusterEnabled());
            s.publisher.reconcile(Map.of(), List.of());
            s.checker = new Checker(config, new ZoneFetcher(config.dnsTimeout(), config.dnsTcp()),
                    Clock.systemUTC());
            s.scheduler = new Scheduler((z, cause, force, failures) -> check(s, z), WORKERS, WORKERS / 4, WORKERS / 4);

            check(s, warm, sources); // the code paths loaded and compiled before the baseline
            long before = usedAfterGc();
            long t0 = System.nanoTime();
            check(s, names, sources);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long after = usedAfterGc();
            List<String> histogram = histogram(15);
            if (s.registry.known() != all.size()) {
                throw new IllegalStateException("only " + s.registry.known() + " of " + all.size() + " zones checked");
            }
            // who holds it: drop one stage at a time (the registry last: the others refer to its states)
            s.scheduler.close();
            s.scheduler = null;
            long withoutScheduler = usedAfterGc();
            s.checker = null;
            long withoutChecker = usedAfterGc();
            s.publisher = null;
            long withoutPublisher = usedAfterGc();
            List<String> registryHistogram = histogram(25);
            s.registry = null;
            long withoutRegistry = usedAfterGc();

            System.out.println("Java " + System.getProperty("java.version") + " " + String.join(" ",
                    ManagementFactory.getRuntimeMXBean().getInputArguments()) + ", " + provider + "; "
                    + count + " zones checked once in " + String.format(Locale.ROOT, "%.1f s", seconds)
                    + " (" + WORKERS + " workers, " + sourceCount + " NSDs at 127.0.0.1 and up), " + s.retained.get() + " retained publishes");
            System.out.printf(Locale.ROOT, "heap used after a full GC: %.0f MiB before the zones, %.0f MiB after, of %.0f MiB max%n",
                    before / 1048576.0, after / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0);
            System.out.println();
            System.out.println("| heap kept per checked zone (after a full GC) | bytes |");
            System.out.println("|---|---:|");
            row("everything (heap after − before) ÷ zones", after - before, count);
            row("  scheduler (its slot per zone)", after - withoutScheduler, count);
            row("  checker (signer signals; the verified signature is in the state since 358de49)", withoutScheduler - withoutChecker, count);
            row("  publisher (its view of the broker's retained topics)", withoutChecker - withoutPublisher, count);
            row("  registry (tracked zone, its state: keys, servers, rollover)", withoutPublisher - withoutRegistry, count);
            System.out.println();
            print("Largest classes with every stage held (the JVM's GC.class_histogram, top 15):", histogram);
            print("The registry alone (top 25):", registryHistogram);
        } finally {
            sources.forEach(NsdServer::close);
        }
    }

    private static void print(String title, List<String> lines) {
        System.out.println(title);
        System.out.println();
        System.out.println("```");
        lines.forEach(System.out::println);
        System.out.println("```");
        System.out.println();
    }

    private static void row(String what, long bytes, int zones) {
        System.out.printf(Locale.ROOT, "| %s | %.0f |%n", what, (double) bytes / zones);
    }

    /** The bridge's check workers (Bridge.WORKERS). */
    private static final int WORKERS = 8;

    /**
     * One NOTIFY per zone from the primary that serves it, each with its own target as the
     * listener makes it (its sender's address text), scheduled as the bridge schedules it; waits
     * for every check.
     */
    private static void check(Stages s, List<Name> names, List<NsdServer> sources) throws Exception {
        List<CompletableFuture<Scheduler.Result>> done = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            InetSocketAddress primary = sources.get(i % sources.size()).address();
            String source = primary.getAddress().getHostAddress();
            TrackedZone z = s.registry.learn(names.get(i), QueryTarget.unsigned(new HostPort(source, primary.getPort())));
            done.add(s.scheduler.schedule(z, Cause.NOTIFY, "notify:" + source));
        }
        for (CompletableFuture<Scheduler.Result> f : done) {
            Scheduler.Result r = f.get();
            if (!r.ok()) {
                throw new IllegalStateException("zone " + r.zone() + " not checked: " + r.error());
            }
        }
    }

    /** One check, as CheckJob runs it: check, confirm, keep the state, publish. */
    private static Scheduler.Result check(Stages s, TrackedZone z) {
        Checker.Found f = s.checker.check(z, false, () -> { });
        if (f.state() == null) {
            return new Scheduler.Result(z, Scheduler.Ending.FAILED, false, f.error(), null);
        }
        s.registry.confirm(z);
        s.registry.update(z, f.state());
        s.publisher.publish(f.state(), f.outcome().events());
        return new Scheduler.Result(z, Scheduler.Ending.OK, true, null, f.state());
    }

    /**
     * Heap used after full collections: several, with the finalizers and cleaners run in between
     * (what a native provider's objects and weak references need before their memory is free), the
     * lowest reading.
     */
    @SuppressWarnings("removal") // runFinalization: what waits for the finalizer thread here
    private static long usedAfterGc() {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            System.runFinalization();
            Runtime r = Runtime.getRuntime();
            best = Math.min(best, r.totalMemory() - r.freeMemory());
        }
        return best;
    }

    /** The first lines of the JVM's own heap histogram (what {@code jcmd <pid> GC.class_histogram} prints). */
    private static List<String> histogram(int lines) throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        return text.lines().limit(lines + 2).toList();
    }
}
