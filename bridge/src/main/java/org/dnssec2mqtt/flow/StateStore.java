package org.dnssec2mqtt.flow;

import com.google.gson.JsonParseException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;
import java.util.zip.CRC32C;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zone states in {@code <data.dir>/zones/}: a snapshot {@code states.snapshot} and an append-only
 * journal {@code states.journal}, both made of lines {@code <crc32c hex> <json>}, one per saved
 * zone state ({@code {"format":1,"state":{...}}}) or forgotten zone ({@code {"format":1,"forget":"zone"}}).
 * Loading replays the snapshot, then the journal: the last line of a zone wins.
 *
 * <p>Why this shape: one file per zone cost one fsync per zone and, at start, one open per zone
 * (11,220 files took ~3 s); a batch of saves here is one append and one fsync (group commit),
 * and a start is one sequential read. A kill at any moment can only leave the journal's last
 * line unfinished: it has no newline or its checksum does not match, so it is ignored and the
 * zone's previous line stands. A damaged line elsewhere is skipped with a WARN. When the journal
 * outgrows the snapshot, the current lines are copied into a new snapshot (a temporary file,
 * flushed, renamed over the old one, the directory flushed) and only then is the journal emptied;
 * a crash in between replays lines the snapshot already has, which changes nothing.
 *
 * <p>A data directory of the one-file-per-zone layout ({@code zones/<zone>.json}) is moved in once
 * at start: the files are read and written as the snapshot, and removed only after the snapshot
 * is on the disk. Unreadable old files are set aside as
 * {@code *.corrupt-<millis>}, as before. Not thread-safe across instances on one directory (the
 * data directory lock keeps a second bridge out); the methods of one instance are synchronized.
 */
public final class StateStore {
    private static final Logger log = LoggerFactory.getLogger(StateStore.class);
    /**
     * 2: each key without what is made again from its other fields ({@link ZoneState#stored()});
     * 1 (read; a zone's line is written as 2 when it is next saved): every field written.
     */
    private static final int FORMAT = 2;
    /** The format of the one-file-per-zone layout, and the oldest a line may have. */
    private static final int FIRST_FORMAT = 1;
    static final String SNAPSHOT = "states.snapshot";
    static final String JOURNAL = "states.journal";
    /** The journal is compacted once it is larger than the snapshot and at least this big. */
    private static final long MIN_COMPACT_BYTES = 8L << 20;
    private static final int WRITE_CHUNK = 1 << 20;
    /**
     * The buffer of a journal append: a save is usually a few zones (group commit during a burst
     * writes many small batches), and a 1 MiB buffer for each was most of the bridge's garbage in a
     * 10,000-zone burst (JFR allocation samples: ~1 GB, ~100 KB per zone; young collections ~18 %
     * of its CPU).
     */
    private static final int APPEND_CHUNK = 16 << 10;
    private static final int READ_CHUNK = 4 << 20;
    /**
     * The shared Gson with a faster reader of the instants this store writes: a state holds
     * about 25 of them (two keys), and {@code Instant.parse} took 43 % of the parse of 100,000
     * states (JFR). Written as before, by {@link Json#GSON}.
     */
    private static final com.google.gson.Gson READ = Json.GSON.newBuilder()
            .registerTypeAdapter(java.time.Instant.class, new InstantReader().nullSafe())
            .create();

    private final Path dir;
    private final Path snapshot;
    private final Path journal;
    private final long minCompactBytes;
    /** zone → where its latest line is; null until the files have been read. */
    private Map<String, Line> index;
    private long snapshotSize;
    /** Length of the journal's whole lines: an unfinished tail beyond it is cut before the next append. */
    private long journalEnd;
    private long syncs;
    private long compactions;

    /** The on-disk line: a zone's state, or a forgotten zone. */
    private record Entry(int format, ZoneState state, String forget) {
        String zone() {
            return state != null ? state.zone() : forget;
        }
    }

    /** One line of the snapshot or the journal (offset and length without the newline). */
    private record Line(boolean inJournal, long offset, int length) {}

    /** What the first pass of a load reads of a line: its format and zone, and whether it forgets the zone. */
    private record Key(int format, String zone, boolean forget) {}

    /** A line to write, with its newline. */
    private record Out(String zone, boolean forget, byte[] line) {}

    /**
     * Opens (creating) {@code <dataDir>/zones}, moving a one-file-per-zone directory into the
     * journal first. Fails with a message naming the path when the directory cannot be written.
     */
    public StateStore(Path dataDir) throws IOException {
        this(dataDir, MIN_COMPACT_BYTES);
    }

    StateStore(Path dataDir, long minCompactBytes) throws IOException {
        this.dir = dataDir.resolve("zones");
        this.snapshot = dir.resolve(SNAPSHOT);
        this.journal = dir.resolve(JOURNAL);
        this.minCompactBytes = minCompactBytes;
        try {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) {
                throw new java.nio.file.AccessDeniedException(dir.toString());
            }
        } catch (IOException e) {
            String why = e instanceof java.nio.file.FileAlreadyExistsException ? "a file of that name is in the way"
                    : IoProblems.describe(e);
            throw new IOException("data.dir: cannot create or write the state directory " + dir + ": " + why, e);
        }
        Files.deleteIfExists(dir.resolve(SNAPSHOT + ".tmp")); // a compaction that a crash cut short
        migrate();
    }

    public Path dir() {
        return dir;
    }

    /** fsync calls so far (the journal, the snapshot and the directory each count). */
    public synchronized long syncs() {
        return syncs;
    }

    /** Every saved zone state, read afresh from the disk; damaged lines are reported and skipped. */
    public synchronized List<ZoneState> loadAll() throws IOException {
        Map<String, Line> lines = new LinkedHashMap<>();
        snapshotSize = replay(snapshot, false, lines);
        journalEnd = replay(journal, true, lines);
        index = new HashMap<>(lines);
        return parse(snapshot, journal, lines);
    }

    /**
     * The zone states saved in {@code dataDir}, read without changing anything there: for tools
     * and tests that look while a bridge runs (its unfinished last line is ignored).
     */
    public static List<ZoneState> peek(Path dataDir) throws IOException {
        Path zones = dataDir.resolve("zones");
        Map<String, Line> lines = new LinkedHashMap<>();
        replay(zones.resolve(SNAPSHOT), false, lines);
        replay(zones.resolve(JOURNAL), true, lines);
        return parse(zones.resolve(SNAPSHOT), zones.resolve(JOURNAL), lines);
    }

    /**
     * The states of {@code lines} (each zone's last line), parsed on every core: a start parses
     * each zone once, however often the journal has it.
     */
    private static List<ZoneState> parse(Path snapshot, Path journal, Map<String, Line> lines) throws IOException {
        try (FileChannel snap = open(snapshot); FileChannel jour = open(journal)) {
            List<Map.Entry<String, Line>> all = new ArrayList<>(lines.entrySet());
            Object[] parsed = new Object[all.size()];
            IntStream.range(0, all.size()).parallel().forEach(i -> {
                Line l = all.get(i).getValue();
                try {
                    byte[] line = read(l.inJournal() ? jour : snap, l);
                    parsed[i] = decode(line, 0, l.length(), false);
                } catch (IOException e) {
                    parsed[i] = IoProblems.describe(e);
                }
            });
            List<ZoneState> states = new ArrayList<>(all.size());
            for (int i = 0; i < parsed.length; i++) {
                if (parsed[i] instanceof Entry e && e.state() != null) {
                    states.add(e.state());
                } else {
                    log.warn("state: the saved state of zone {} in {} cannot be read ({}); the zone is checked afresh",
                            all.get(i).getKey(), all.get(i).getValue().inJournal() ? journal : snapshot, parsed[i]);
                }
            }
            return states;
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static FileChannel open(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Saves one zone's state (one append, one fsync). */
    public void save(ZoneState state) throws IOException {
        apply(List.of(state), List.of());
    }

    /** Saves several zones' states with one append and one fsync. */
    public void saveAll(List<ZoneState> states) throws IOException {
        apply(states, List.of());
    }

    /** Forgets a zone's state (a tombstone line; nothing is written for a zone without state). */
    public void delete(String zone) throws IOException {
        apply(List.of(), List.of(zone));
    }

    /**
     * Saves {@code states} and forgets {@code forgotten} in one append followed by one fsync: after
     * it returns all of it is on the disk, and a crash before that leaves each zone's line either
     * old or new (never half). Compacts into the snapshot when the journal has grown past it.
     */
    public synchronized void apply(List<ZoneState> states, Collection<String> forgotten) throws IOException {
        ensureRead();
        List<Entry> entries = new ArrayList<>(states.size() + forgotten.size());
        for (String zone : forgotten) {
            if (index.containsKey(zone)) {
                entries.add(new Entry(FORMAT, null, zone));
            }
        }
        for (ZoneState s : states) {
            entries.add(new Entry(FORMAT, s, null));
        }
        if (entries.isEmpty()) {
            return;
        }
        boolean created = !Files.exists(journal);
        Map<String, Line> written = new LinkedHashMap<>();
        long end;
        try (FileChannel out = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            if (out.size() > journalEnd) {
                out.truncate(journalEnd); // an unfinished line of a crash or of a write that failed
            } else if (out.size() < journalEnd) {
                throw new IOException("the state journal " + journal + " is shorter than this bridge wrote it;"
                        + " another program changed it");
            }
            out.position(journalEnd);
            end = writeLines(out, entries.stream().map(e -> new Out(e.zone(), e.state() == null, encode(e))).iterator(),
                    journalEnd, true, written);
            out.force(true);
            syncs++;
        }
        if (created) {
            syncDirectory();
        }
        for (Map.Entry<String, Line> w : written.entrySet()) {
            if (w.getValue() == null) {
                index.remove(w.getKey());
            } else {
                index.put(w.getKey(), w.getValue());
            }
        }
        journalEnd = end;
        if (journalEnd > Math.max(minCompactBytes, snapshotSize)) {
            compact();
        }
    }

    /**
     * Writes {@code lines} to {@code out} from its position (= {@code at}) through one buffer;
     * records where each zone's line went in {@code where} (null for a tombstone); returns the end.
     */
    private static long writeLines(FileChannel out, java.util.Iterator<Out> lines, long at, boolean inJournal,
            Map<String, Line> where) throws IOException {
        java.io.OutputStream stream = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(out),
                inJournal ? APPEND_CHUNK : WRITE_CHUNK);
        long end = at;
        while (lines.hasNext()) {
            Out o = lines.next();
            stream.write(o.line());
            where.put(o.zone(), o.forget() ? null : new Line(inJournal, end, o.line().length - 1));
            end += o.line().length;
        }
        stream.flush();
        return end;
    }

    /** Compactions so far. */
    public synchronized long compactions() {
        return compactions;
    }

    /**
     * Copies every zone's latest line into a new snapshot (temporary file, flushed, renamed over
     * the old one, directory flushed), then empties the journal. Saves call it when the journal
     * has outgrown the snapshot.
     */
    public synchronized void compact() throws IOException {
        ensureRead();
        try (FileChannel snap = Files.exists(snapshot) ? FileChannel.open(snapshot, StandardOpenOption.READ) : null;
                FileChannel jour = Files.exists(journal) ? FileChannel.open(journal, StandardOpenOption.READ) : null) {
            // in file order, so the old files are read front to back
            List<Map.Entry<String, Line>> order = new ArrayList<>(index.entrySet());
            order.sort(java.util.Comparator.comparing((Map.Entry<String, Line> e) -> e.getValue().inJournal())
                    .thenComparingLong(e -> e.getValue().offset()));
            replaceSnapshot(order.stream().map(e -> {
                Line l = e.getValue();
                try {
                    return new Out(e.getKey(), false, read(l.inJournal() ? jour : snap, l));
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            }).iterator());
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * {@code lines} (every zone's one line) as the new snapshot: a temporary file, flushed,
     * renamed over the old one, the directory flushed; only then is the journal emptied.
     */
    private void replaceSnapshot(java.util.Iterator<Out> lines) throws IOException {
        Path tmp = dir.resolve(SNAPSHOT + ".tmp");
        Map<String, Line> moved = new HashMap<>(index.size() * 4 / 3 + 1);
        long size;
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            size = writeLines(out, lines, 0, false, moved);
            out.force(true);
            syncs++;
        }
        Files.move(tmp, snapshot, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
        // the snapshot has every line now: only then may the journal go
        try (FileChannel jour = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            jour.truncate(0);
            jour.force(true);
            syncs++;
        }
        index = moved;
        snapshotSize = size;
        journalEnd = 0;
        compactions++;
        log.debug("state: wrote {} zone states into {} ({} bytes)", moved.size(), snapshot, size);
    }

    /** The line with its newline. */
    private static byte[] read(FileChannel from, Line l) throws IOException {
        if (from == null) {
            throw new IOException("a state file vanished while compacting; another program changed it");
        }
        ByteBuffer line = ByteBuffer.allocate(l.length() + 1);
        while (line.hasRemaining()) {
            if (from.read(line, l.offset() + line.position()) < 0) {
                throw new IOException("a state file ended early while compacting; another program changed it");
            }
        }
        return line.array();
    }

    private void ensureRead() throws IOException {
        if (index == null) {
            loadAll();
        }
    }

    private static byte[] encode(Entry e) {
        Entry stored = e.state() == null ? e : new Entry(FORMAT, e.state().stored(), null);
        byte[] json = Json.GSON.toJson(stored).getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(json);
        byte[] line = new byte[9 + json.length + 1];
        long c = crc.getValue();
        for (int i = 7; i >= 0; i--, c >>>= 4) {
            line[i] = (byte) Character.forDigit((int) (c & 0xF), 16); // "%08x ", without a Formatter per line
        }
        line[8] = ' ';
        System.arraycopy(json, 0, line, 9, json.length);
        line[line.length - 1] = '\n';
        return line;
    }

    /**
     * Reads where each zone's last line in {@code file} is into {@code lines} (a tombstone removes
     * the zone; re-inserted, so the order is that of the last save); returns the length of the
     * file's whole lines. Checks each line's checksum and reads only as far as its zone: the full
     * JSON of the lines that count is parsed afterwards. Read in chunks, never all at once.
     */
    private static long replay(Path file, boolean inJournal, Map<String, Line> lines) throws IOException {
        FileChannel in;
        try {
            in = FileChannel.open(file, StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            return 0;
        }
        try (in) {
            byte[] buf = new byte[READ_CHUNK];
            int filled = 0;
            long base = 0; // the file offset of buf[0]
            int lineNo = 0;
            while (true) {
                if (filled == buf.length) {
                    buf = java.util.Arrays.copyOf(buf, buf.length * 2); // a line longer than the buffer
                }
                int n = in.read(ByteBuffer.wrap(buf, filled, buf.length - filled));
                if (n < 0) {
                    break;
                }
                filled += n;
                int end = filled;
                while (end > 0 && buf[end - 1] != '\n') {
                    end--;
                }
                if (end == 0) {
                    continue;
                }
                lineNo = replayChunk(file, inJournal, buf, end, base, lineNo, lines);
                System.arraycopy(buf, end, buf, 0, filled - end);
                filled -= end;
                base += end;
            }
            if (filled > 0) {
                log.info("state: ignored the unfinished last line of {} (the bridge stopped while writing it);"
                        + " that zone keeps its state from before", file);
            }
            return base;
        }
    }

    /** The whole lines in {@code buf[0, end)}; returns the number of the last one. */
    private static int replayChunk(Path file, boolean inJournal, byte[] buf, int end, long base, int lineNo,
            Map<String, Line> lines) {
        int start = 0;
        for (int i = 0; i < end; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            lineNo++;
            Object found = decode(buf, start, i - start, true);
            if (found instanceof Key k) {
                lines.remove(k.zone());
                if (!k.forget()) {
                    lines.put(k.zone(), new Line(inJournal, base + start, i - start));
                }
            } else {
                log.warn("state: line {} of {} is damaged ({}) and was skipped; that zone keeps its state from"
                        + " before, if any, and is checked afresh", lineNo, file, found);
            }
            start = i + 1;
        }
        return lineNo;
    }

    private static final byte[] STATE_PREFIX = ("{\"format\":" + FORMAT + ",\"state\":{\"zone\":\"")
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FORGET_PREFIX = ("{\"format\":" + FORMAT + ",\"forget\":\"")
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FIRST_STATE_PREFIX = ("{\"format\":" + FIRST_FORMAT + ",\"state\":{\"zone\":\"")
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FIRST_FORGET_PREFIX = ("{\"format\":" + FIRST_FORMAT + ",\"forget\":\"")
            .getBytes(StandardCharsets.US_ASCII);

    /** Whether this version reads lines of {@code format}. */
    private static boolean readable(int format) {
        return format >= FIRST_FORMAT && format <= FORMAT;
    }

    private static String unreadable(int format) {
        return "format " + format + " is not one this version reads (" + FIRST_FORMAT + " to " + FORMAT
                + "; a newer version wrote it?)";
    }

    /**
     * The zone of the JSON in {@code bytes[from, to)} when it starts exactly as {@link #encode}
     * writes this format and the zone name has no escape, read off the bytes (a start replays
     * every line: no string or reader made per line); null otherwise, for {@link #keyOf(String)}.
     */
    private static Key keyOf(byte[] bytes, int from, int to) {
        int format = FORMAT;
        boolean forget = startsWith(bytes, from, to, FORGET_PREFIX);
        boolean state = !forget && startsWith(bytes, from, to, STATE_PREFIX);
        if (!forget && !state) {
            format = FIRST_FORMAT;
            forget = startsWith(bytes, from, to, FIRST_FORGET_PREFIX);
            if (!forget && !startsWith(bytes, from, to, FIRST_STATE_PREFIX)) {
                return null;
            }
        }
        // the prefixes of both formats are as long as each other
        int zoneStart = from + (forget ? FORGET_PREFIX.length : STATE_PREFIX.length);
        for (int i = zoneStart; i < to; i++) {
            if (bytes[i] == '\\') {
                return null;
            }
            if (bytes[i] == '"') {
                return new Key(format, new String(bytes, zoneStart, i - zoneStart, StandardCharsets.UTF_8), forget);
            }
        }
        return null;
    }

    private static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
        return to - from >= prefix.length && java.util.Arrays.equals(bytes, from, from + prefix.length, prefix, 0, prefix.length);
    }

    /** The format and zone at the start of {@code json} as {@link #encode} writes them; null if written otherwise. */
    private static Key keyOf(String json) {
        try (com.google.gson.stream.JsonReader r = new com.google.gson.stream.JsonReader(new java.io.StringReader(json))) {
            r.beginObject();
            if (!r.nextName().equals("format")) {
                return null;
            }
            int format = r.nextInt();
            String name = r.nextName();
            if (name.equals("forget")) {
                return new Key(format, r.nextString(), true);
            }
            if (!name.equals("state")) {
                return null;
            }
            r.beginObject();
            return r.nextName().equals("zone") ? new Key(format, r.nextString(), false) : null;
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            return null; // not as expected, or cut off before the zone: the full parse decides
        }
    }

    /**
     * The line's {@link Entry} ({@code zoneOnly}: its {@link Key}, reading the JSON only as far as
     * the zone where it is written as this class writes it), or the problem in words.
     */
    private static Object decode(byte[] bytes, int start, int length, boolean zoneOnly) {
        if (length < 10 || bytes[start + 8] != ' ') {
            return "too short or no checksum";
        }
        long want;
        try {
            want = Long.parseLong(new String(bytes, start, 8, StandardCharsets.US_ASCII), 16);
        } catch (NumberFormatException e) {
            return "no checksum";
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, start + 9, length - 9);
        if (crc.getValue() != want) {
            return "its checksum does not match";
        }
        if (zoneOnly) {
            Key k = keyOf(bytes, start + 9, start + length);
            if (k == null) {
                k = keyOf(new String(bytes, start + 9, Math.min(length - 9, 2048), StandardCharsets.UTF_8));
            }
            if (k != null) {
                return readable(k.format()) ? k : unreadable(k.format());
            }
        }
        try {
            Entry e = READ.fromJson(new String(bytes, start + 9, length - 9, StandardCharsets.UTF_8), Entry.class);
            if (e == null || e.zone() == null) {
                return "empty or incomplete";
            }
            if (!readable(e.format())) {
                return unreadable(e.format());
            }
            if (zoneOnly) {
                return new Key(e.format(), e.zone(), e.state() == null);
            }
            return e.format() >= 2 && e.state() != null ? new Entry(e.format(), e.state().restored(), null) : e;
        } catch (JsonParseException | IllegalArgumentException | java.time.DateTimeException e) {
            return "not a state of this bridge (broken JSON or a field out of range)";
        }
    }

    /** Makes a rename or a new file durable (POSIX: fsync the directory); best effort elsewhere. */
    private void syncDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
            syncs++;
        } catch (IOException | RuntimeException e) {
            // not supported on this platform or file system: the rename is still atomic
        }
    }

    // ---- the one-file-per-zone layout of earlier versions ----

    /**
     * Writes the states of {@code zones/*.json} (under what the snapshot and the journal already
     * hold) as the snapshot, then removes the files. A crash before the removal leaves files whose
     * states the snapshot already holds: the next start reads them again and removes them then.
     */
    private void migrate() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.json")) {
            stream.forEach(files::add);
        } catch (NotDirectoryException e) {
            return;
        }
        if (files.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<ZoneState> old = files.parallelStream().map(StateStore::readOldFile).filter(Objects::nonNull).toList();
        // the old files are the oldest truth: what the snapshot and the journal hold wins over them
        List<ZoneState> current = loadAll();
        Map<String, ZoneState> merged = new LinkedHashMap<>();
        old.forEach(s -> merged.put(s.zone(), s));
        current.forEach(s -> merged.put(s.zone(), s));
        long read = System.nanoTime();
        replaceSnapshot(merged.values().stream().map(z -> new Out(z.zone(), false, encode(new Entry(FORMAT, z, null)))).iterator());
        long written = System.nanoTime();
        for (Path f : files) {
            Files.deleteIfExists(f);
            Files.deleteIfExists(f.resolveSibling(f.getFileName() + ".tmp"));
        }
        syncDirectory();
        log.debug("state: old files read in {} ms, snapshot written in {} ms, old files removed in {} ms",
                (read - t0) / 1_000_000, (written - read) / 1_000_000, (System.nanoTime() - written) / 1_000_000);
        log.info("state: moved {} zone state files of {} into {} in {} ms (a one-time upgrade of the data directory)",
                old.size(), dir, snapshot, (System.nanoTime() - t0) / 1_000_000);
    }

    /** The old file's state; an unreadable one is reported and set aside as before. */
    private static ZoneState readOldFile(Path f) {
        String problem;
        try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            Entry sf = READ.fromJson(r, Entry.class);
            if (sf == null || sf.state() == null || sf.state().zone() == null) {
                problem = "empty or incomplete";
            } else if (sf.format() != FIRST_FORMAT) {
                problem = "format " + sf.format() + " is not " + FIRST_FORMAT + " (the only one of that layout)";
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
     * {@code 2026-11-22T06:30:00Z}, with or without 3, 6 or 9 digits of fraction (what {@code
     * Instant.toString} writes, years 1000-9999; a check's time has milliseconds) read field by
     * field; anything else through {@code Instant.parse}, which also throws for what it rejects (a
     * day or time out of range). Instant.parse was most of a 100,000-zone start in the launcher's
     * JVM (jstack: 12 s to load the states).
     */
    static java.time.Instant instant(String s) {
        int n = s.length();
        // whole seconds (20 characters), or with 3, 6 or 9 digits of fraction as Instant.toString writes them
        int fraction = n == 20 ? 0 : n == 24 || n == 27 || n == 30 ? n - 21 : -1;
        if (fraction >= 0 && s.charAt(4) == '-' && s.charAt(7) == '-' && s.charAt(10) == 'T'
                && s.charAt(13) == ':' && s.charAt(16) == ':' && s.charAt(n - 1) == 'Z'
                && (fraction == 0 || s.charAt(19) == '.')) {
            int year = digits(s, 0, 4);
            int month = digits(s, 5, 2);
            int day = digits(s, 8, 2);
            int hour = digits(s, 11, 2);
            int minute = digits(s, 14, 2);
            int second = digits(s, 17, 2);
            int nanos = fraction == 0 ? 0 : digits(s, 20, fraction);
            if (year >= 1000 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour <= 23
                    && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && nanos >= 0
                    && day <= java.time.YearMonth.of(year, month).lengthOfMonth()) {
                for (int i = fraction; i < 9; i++) {
                    nanos *= 10;
                }
                long days = java.time.LocalDate.of(year, month, day).toEpochDay();
                return java.time.Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
            }
        }
        return java.time.Instant.parse(s);
    }

    /** The decimal number of {@code n} ASCII digits at {@code at}; -1 when one is not a digit. */
    private static int digits(String s, int at, int n) {
        int v = 0;
        for (int i = at; i < at + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static final class InstantReader extends com.google.gson.TypeAdapter<java.time.Instant> {
        @Override
        public void write(com.google.gson.stream.JsonWriter out, java.time.Instant value) throws IOException {
            out.value(value.toString());
        }

        @Override
        public java.time.Instant read(com.google.gson.stream.JsonReader in) throws IOException {
            return instant(in.nextString());
        }
    }
}
