package org.dnssec2mqtt.flow;

import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zone states in {@code <data.dir>/zones/}, one JSON file per zone, each written to a temporary
 * file and renamed over the old one (atomic on POSIX), so a crash at any moment leaves either
 * the old or the new state, never half of one. A file that cannot be read is reported with its
 * path and set aside as {@code *.corrupt-<millis>}, never overwritten.
 */
public final class StateStore {
    private static final Logger log = LoggerFactory.getLogger(StateStore.class);
    private static final int FORMAT = 1;

    private final Path dir;

    /** The on-disk wrapper, so a later format can be told apart. */
    private record StateFile(int format, ZoneState state) {}

    public StateStore(Path dataDir) throws IOException {
        this.dir = dataDir.resolve("zones");
        Files.createDirectories(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Every readable zone state; unreadable files are reported and set aside. */
    public List<ZoneState> loadAll() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.json")) {
            stream.forEach(files::add);
        }
        // Parsing is most of a restart with many zones; every core helps.
        return files.parallelStream().map(this::load).filter(java.util.Objects::nonNull).toList();
    }

    private ZoneState load(Path f) {
        String problem;
        try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            StateFile sf = Json.GSON.fromJson(r, StateFile.class);
            if (sf == null || sf.state() == null || sf.state().zone() == null) {
                problem = "empty or incomplete";
            } else if (sf.format() != FORMAT) {
                problem = "format " + sf.format() + " is not " + FORMAT;
            } else {
                return sf.state();
            }
        } catch (IOException e) {
            problem = IoProblems.describe(e);
        } catch (JsonParseException | IllegalArgumentException | java.time.DateTimeException e) {
            problem = "not a state file of this bridge (broken JSON or a field out of range)";
        }
        Path aside = f.resolveSibling(f.getFileName() + ".corrupt-" + System.currentTimeMillis());
        try {
            Files.move(f, aside);
            log.error("state: cannot read {} ({}); moved it to {}; the zone is checked afresh", f, problem, aside);
        } catch (IOException e) {
            log.error("state: cannot read {} ({}) nor move it aside ({}); fix or remove the file", f, problem,
                    IoProblems.describe(e));
        }
        return null;
    }

    /**
     * Writes one zone's state atomically: a temporary file, flushed to the disk, then renamed over
     * the old one. A killed process leaves the old file (and perhaps a stale {@code .tmp}, which
     * {@link #loadAll} ignores and the next save overwrites); the fsync makes the same true of a
     * power cut, where a rename can otherwise reach the disk before the data it points to.
     */
    public void save(ZoneState state) throws IOException {
        write(state);
        syncDirectory();
    }

    /** Several zones' states, each file written and flushed, the directory synced once. */
    public void saveAll(List<ZoneState> states) throws IOException {
        saveAll(states, Runnable::run);
    }

    /**
     * {@link #saveAll} with the files written (and flushed) on {@code executor}'s threads at once:
     * the file system commits concurrent flushes together in one journal commit, so a batch costs
     * about one disk round trip instead of one per zone.
     */
    public void saveAll(List<ZoneState> states, java.util.concurrent.Executor executor) throws IOException {
        List<java.util.concurrent.CompletableFuture<Void>> writes = new ArrayList<>(states.size());
        for (ZoneState s : states) {
            writes.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    write(s);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, executor));
        }
        IOException failed = null;
        for (java.util.concurrent.CompletableFuture<Void> w : writes) {
            try {
                w.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (failed == null) {
                    failed = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause()
                            : new IOException(e.getCause() == null ? "write failed" : e.getCause().getMessage(), e.getCause());
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        syncDirectory();
    }

    private void write(ZoneState state) throws IOException {
        Path target = file(state.zone());
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        byte[] json = Json.GSON.toJson(new StateFile(FORMAT, state)).getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(json);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Makes the rename itself durable (POSIX: fsync the directory); best effort elsewhere. */
    private void syncDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException e) {
            // not supported on this platform or file system: the rename is still atomic
        }
    }

    public void delete(String zone) throws IOException {
        Files.deleteIfExists(file(zone));
    }

    private Path file(String zone) {
        // the topic escaping already removes '/', so it is a safe file name; the root is "%2E"
        String name = zone.equals(".") ? "%2E" : Topics.escape(zone);
        return dir.resolve(name + ".json");
    }
}
