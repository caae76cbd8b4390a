package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.dnssec2mqtt.flow.StateStore;
import org.dnssec2mqtt.flow.StateWriter;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.Fixtures;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneState;

/**
 * The state store, old against new, in one run: one JSON file per zone (each written to a
 * temporary file, fsync'd and renamed, 8 at once, the directory synced per batch: the layout
 * before the journal) and the journal + snapshot of {@link StateStore}. For 10,000 and 100,000
 * zone states like the tests build (two keys, then five): a burst of saves in batches
 * (fsyncs counted), the load of a restart, the one-time move of an old directory, compaction,
 * and the bytes on the disk. Runs in {@code BENCH_STORE_DIR} (default {@code bridge/target/store-bench},
 * the disk the data directory would be on; not a tmpfs). {@code bridge/bench/micro.sh store}.
 */
public final class StoreBench {
    private static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");
    /** Zones per batch: what piles up behind one fsync while a burst of checks is running. */
    private static final int BATCH = 1000;
    /** The old layout's burst is timed on this many zones only: one fsync per zone takes minutes at 100,000. */
    private static final int OLD_BURST_MAX = 10_000;

    private StoreBench() {}

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getenv().getOrDefault("BENCH_STORE_DIR", "bridge/target/store-bench")).toAbsolutePath();
        List<Integer> sizes = args.length > 0 ? Stream.of(args).map(Integer::valueOf).toList() : List.of(10_000, 100_000);
        List<String> rows = new ArrayList<>();
        for (boolean typical : List.of(true, false)) {
            for (int n : sizes) {
                rows.addAll(run(root.resolve("n" + n), n, typical));
            }
        }
        System.out.println("Java " + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs, load average " + String.format(Locale.ROOT, "%.2f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())
                + " at the end, " + root + " (" + Files.getFileStore(root).type() + "); page cache warm\n");
        System.out.println("| zones | step | one file per zone | journal + snapshot |");
        System.out.println("|---:|---|---:|---:|");
        rows.forEach(System.out::println);
    }

    private static List<String> run(Path dir, int n, boolean typical) throws Exception {
        delete(dir);
        List<ZoneState> states = states(n, 1, typical);
        List<String> rows = new ArrayList<>();
        String z = String.format(Locale.ROOT, "%,d × %s", n, typical ? "2 keys" : "5 keys");

        // 1. a burst of saves, BATCH zones per fsync round
        Path oldDir = dir.resolve("old");
        OldStore old = new OldStore(oldDir);
        int burst = Math.min(n, OLD_BURST_MAX);
        long t0 = System.nanoTime();
        for (int i = 0; i < burst; i += BATCH) {
            old.saveAll(states.subList(i, Math.min(burst, i + BATCH)), true);
        }
        double oldBurstS = (System.nanoTime() - t0) / 1e9;
        long oldSyncs = old.syncs.get();
        for (int i = burst; i < n; i += BATCH) {
            old.saveAll(states.subList(i, Math.min(n, i + BATCH)), false); // the rest without fsync: for the load below
        }
        Path newData = dir.resolve("new");
        StateStore store = new StateStore(newData);
        t0 = System.nanoTime();
        for (int i = 0; i < n; i += BATCH) {
            store.saveAll(states.subList(i, Math.min(n, i + BATCH)));
        }
        double newBurstS = (System.nanoTime() - t0) / 1e9;
        long newSyncs = store.syncs();
        rows.add(row(z, "burst of saves, " + BATCH + " per batch: time (fsyncs)",
                String.format(Locale.ROOT, "%.2f s (%,d) for %,d zones", oldBurstS, oldSyncs, burst),
                String.format(Locale.ROOT, "%.2f s (%,d) for %,d zones", newBurstS, newSyncs, n)));
        rows.add(row(z, "saves per second", String.format(Locale.ROOT, "%,.0f", burst / oldBurstS),
                String.format(Locale.ROOT, "%,.0f", n / newBurstS)));

        // 2. the same states through the StateWriter, queued at once as a burst of checks would
        Path writerData = dir.resolve("writer");
        StateStore writerStore = new StateStore(writerData);
        t0 = System.nanoTime();
        try (StateWriter writer = new StateWriter(writerStore)) {
            states.forEach(writer::save);
            if (!writer.flush(Duration.ofMinutes(5))) {
                throw new IllegalStateException("the writer did not finish");
            }
        }
        rows.add(row(z, "burst through the state writer (queued at once): time (fsyncs)", "",
                String.format(Locale.ROOT, "%.2f s (%,d)", (System.nanoTime() - t0) / 1e9, writerStore.syncs())));

        // 3. bytes on the disk
        rows.add(row(z, "bytes on the disk (allocated)", bytes(oldDir.resolve("zones")), bytes(newData.resolve("zones"))));

        // 4. the load of a restart (each store opened afresh); wall time (CPU time of the process)
        long[] at = now();
        int oldLoaded = OldStore.loadAll(oldDir).size();
        String oldLoad = took(at);
        at = now();
        int newLoaded = new StateStore(newData).loadAll().size();
        String newLoad = took(at);
        check(n, oldLoaded, newLoaded);
        rows.add(row(z, "restart: load every state (as the burst left them), wall (CPU)", oldLoad, newLoad));

        // 5. compaction, then the load from the snapshot
        StateStore compacting = new StateStore(newData);
        compacting.loadAll();
        t0 = System.nanoTime();
        compacting.compact();
        double compactS = (System.nanoTime() - t0) / 1e9;
        rows.add(row(z, "compaction of the journal into the snapshot", "",
                String.format(Locale.ROOT, "%.2f s", compactS)));
        at = now();
        newLoaded = new StateStore(newData).loadAll().size();
        check(n, newLoaded, newLoaded);
        rows.add(row(z, "restart: load every state (snapshot only), wall (CPU)", "", took(at)));
        // every zone saved once more (a re-check of all that changed each): snapshot + a full journal
        StateStore again = new StateStore(newData);
        List<ZoneState> second = states(n, 2, typical);
        for (int i = 0; i < n; i += BATCH) {
            again.saveAll(second.subList(i, Math.min(n, i + BATCH)));
        }
        at = now();
        List<ZoneState> loaded = new StateStore(newData).loadAll();
        String both = took(at);
        if (loaded.size() != n || loaded.stream().anyMatch(s -> s.serial() != 2)) {
            throw new IllegalStateException("the second round did not win everywhere");
        }
        rows.add(row(z, "restart: load every state (snapshot + journal of one more save each), wall (CPU)", "", both));
        rows.add(row(z, "bytes per zone state (one line)", "",
                String.format(Locale.ROOT, "%,d", Files.size(newData.resolve("zones/states.snapshot")) / n)));

        // 6. the first start after an upgrade: the old directory moved in
        at = now();
        int migrated = new StateStore(oldDir).loadAll().size();
        check(n, migrated, migrated);
        rows.add(row(z, "first start after the upgrade: move the old files in, then load, wall (CPU)", "", took(at)));
        delete(dir);
        return rows;
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    /** Wall and process CPU nanoseconds now. */
    private static long[] now() {
        return new long[] {System.nanoTime(), OS.getProcessCpuTime()};
    }

    /** "wall s (CPU s)" since {@code at}: the CPU time tells the work apart from the wait for a busy machine. */
    private static String took(long[] at) {
        return String.format(Locale.ROOT, "%.2f s (%.2f s)", (System.nanoTime() - at[0]) / 1e9,
                (OS.getProcessCpuTime() - at[1]) / 1e9);
    }

    private static void check(int n, int a, int b) {
        if (a != n || b != n) {
            throw new IllegalStateException("loaded " + a + " and " + b + " of " + n);
        }
    }

    private static String row(String zones, String step, String old, String now) {
        return "| " + zones + " | " + step + " | " + old + " | " + now + " |";
    }

    /**
     * Zone states as the tests build them from the d1.aa key set: all five keys (a revoked and two
     * standby KSKs, RSA among them), or ({@code typical}) a KSK and a ZSK, as the zones of the
     * end-to-end benchmark have.
     */
    static List<ZoneState> states(int n, long serial, boolean typical) throws Exception {
        var keys = Fixtures.keys("d1.aa.dnskey");
        if (typical) {
            keys = List.of(Fixtures.key(keys, 41542), Fixtures.key(keys, 8510)); // Ed25519 KSK, P-256 ZSK
        }
        List<KeyInfo> infos = KeyAnalyzer.analyze(Fixtures.snapshot(keys, keys.subList(0, 1), List.of()), List.of(), NOW);
        List<ZoneState> states = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            states.add(Fixtures.state("z" + i + ".bench.example", serial, infos, NOW));
        }
        return states;
    }

    private static String bytes(Path dir) throws IOException {
        long size = 0;
        long blocks = 0;
        long block = Files.getFileStore(dir).getBlockSize();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                long bytes = Files.size(f);
                size += bytes;
                blocks += (bytes + block - 1) / block * block; // whole blocks, as a file takes them
            }
        }
        return String.format(Locale.ROOT, "%.1f MB (%.1f MB)", size / 1e6, blocks / 1e6);
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        Files.createDirectories(dir);
    }

    /**
     * The layout before the journal, as it wrote and read: {@code zones/<zone>.json}, each a
     * temporary file fsync'd and renamed, 8 at once, the directory synced once per batch.
     */
    static final class OldStore {
        private final Path dir;
        private final ExecutorService writers = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "old-store");
            t.setDaemon(true);
            return t;
        });
        final AtomicLong syncs = new AtomicLong();

        /** The on-disk wrapper of the old files. */
        record StateFile(int format, ZoneState state) {}

        OldStore(Path root) throws IOException {
            this.dir = root.resolve("zones");
            Files.createDirectories(dir);
        }

        void saveAll(List<ZoneState> states, boolean fsync) {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (ZoneState s : states) {
                writes.add(CompletableFuture.runAsync(() -> write(s, fsync), writers));
            }
            writes.forEach(CompletableFuture::join);
            if (fsync) {
                try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                    d.force(true);
                    syncs.incrementAndGet();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        private void write(ZoneState s, boolean fsync) {
            Path target = dir.resolve(s.zone() + ".json");
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            byte[] json = Json.GSON.toJson(new StateFile(1, s)).getBytes(StandardCharsets.UTF_8);
            try {
                try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
                    ByteBuffer buffer = ByteBuffer.wrap(json);
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                    if (fsync) {
                        out.force(true);
                        syncs.incrementAndGet();
                    }
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The old start: list the directory, parse every file on every core. */
        static List<ZoneState> loadAll(Path dir) throws IOException {
            List<Path> files;
            try (Stream<Path> s = Files.list(dir.resolve("zones"))) {
                files = s.filter(f -> f.toString().endsWith(".json")).toList();
            }
            return files.parallelStream().map(f -> {
                try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                    return Json.GSON.fromJson(r, StateFile.class).state();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
    }
}
