package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.support.LogCapture;
import org.dnssec2mqtt.zone.Fixtures;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.RolloverRecord;
import org.dnssec2mqtt.zone.RolloverTimer;
import org.dnssec2mqtt.zone.ZoneSignals;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {
    static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");

    @TempDir
    Path dir;

    static ZoneState state(String zone) throws Exception {
        return state(zone, 42);
    }

    static ZoneState state(String zone, long serial) throws Exception {
        var keys = Fixtures.keys("d1.aa.dnskey");
        List<KeyInfo> infos = KeyAnalyzer.analyze(Fixtures.snapshot(keys, keys.subList(0, 1), List.of()), List.of(), NOW);
        return Fixtures.state(zone, serial, infos, NOW);
    }

    /** A state file of the one-file-per-zone layout, as versions before the journal wrote it. */
    static Path oldFile(Path dataDir, ZoneState s) throws Exception {
        Path f = dataDir.resolve("zones").resolve(s.zone().replace("/", "%2F") + ".json");
        Files.createDirectories(f.getParent());
        Files.writeString(f, "{\"format\":1,\"state\":" + Json.GSON.toJson(s) + "}");
        return f;
    }

    static Map<String, Long> serials(List<ZoneState> states) {
        Map<String, Long> m = new TreeMap<>();
        states.forEach(s -> m.put(s.zone(), s.serial()));
        return m;
    }

    @Test
    void roundTripsEveryField() throws Exception {
        StateStore store = new StateStore(dir);
        ZoneState s = state("d1.aa");
        store.save(s);
        store.save(state("0/25.2.0.192.in-addr.arpa"));
        store.save(state("."));
        List<ZoneState> loaded = new StateStore(dir).loadAll();
        assertEquals(3, loaded.size());
        assertEquals(s, loaded.stream().filter(z -> z.zone().equals("d1.aa")).findFirst().orElseThrow());
        try (var files = Files.list(dir.resolve("zones"))) {
            assertEquals(List.of("states.journal"), files.map(f -> f.getFileName().toString()).toList());
        }
    }

    @Test
    void aBatchIsOneAppendAndOneFsync() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(state("first.aa")); // creates the journal (and syncs the directory once)
        long before = store.syncs();
        List<ZoneState> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            batch.add(state("z" + i + ".aa"));
        }
        store.saveAll(batch);
        assertEquals(before + 1, store.syncs());
        assertEquals(501, new StateStore(dir).loadAll().size());
    }

    @Test
    void theLastSaveOfAZoneWins() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(state("a.aa", 1));
        store.save(state("b.aa", 1));
        store.saveAll(List.of(state("a.aa", 2), state("a.aa", 3)));
        assertEquals(Map.of("a.aa", 3L, "b.aa", 1L), serials(new StateStore(dir).loadAll()));
    }

    @Test
    void anUnfinishedLastLineIsIgnoredAndCutBeforeTheNextSave() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(state("a.aa", 1));
        Path journal = dir.resolve("zones/states.journal");
        long whole = Files.size(journal);
        store.save(state("a.aa", 2));
        // a kill in the middle of the second append
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.WRITE)) {
            ch.truncate(whole + (Files.size(journal) - whole) / 2);
        }
        try (LogCapture logs = LogCapture.start()) {
            StateStore again = new StateStore(dir);
            assertEquals(Map.of("a.aa", 1L), serials(again.loadAll()));
            assertTrue(logs.text().contains("ignored the unfinished last line of " + journal), logs.text());
            assertFalse(logs.text().contains("WARN"), logs.text());
            // a line shorter than the unfinished one: nothing of that may stay behind it
            again.save(Fixtures.state("b.aa", 1, List.of(), NOW));
        }
        assertEquals(Map.of("a.aa", 1L, "b.aa", 1L), serials(new StateStore(dir).loadAll()));
        assertTrue(Files.readString(journal).endsWith("\n"));
    }

    @Test
    void aLineWhoseChecksumDoesNotMatchIsSkippedWithAWarning() throws Exception {
        StateStore store = new StateStore(dir);
        store.saveAll(List.of(state("a.aa", 1), state("b.aa", 1), state("c.aa", 1)));
        store.save(state("b.aa", 2));
        Path journal = dir.resolve("zones/states.journal");
        List<String> lines = Files.readAllLines(journal);
        // a flipped bit in line 4 (b.aa's newer state): same length, other serial
        lines.set(3, lines.get(3).replace("\"serial\":2", "\"serial\":6"));
        Files.write(journal, lines);
        try (LogCapture logs = LogCapture.start()) {
            assertEquals(Map.of("a.aa", 1L, "b.aa", 1L, "c.aa", 1L), serials(new StateStore(dir).loadAll()));
            String text = logs.text();
            assertTrue(text.contains("WARN"), text);
            assertTrue(text.contains("line 4 of " + journal + " is damaged (its checksum does not match) and was skipped;"
                    + " that zone keeps its state from before, if any, and is checked afresh"), text);
            assertFalse(text.contains("Exception"), text);
        }
    }

    @Test
    void aForgottenZoneIsATombstoneThatCompactionDrops() throws Exception {
        StateStore store = new StateStore(dir);
        store.saveAll(List.of(state("a.aa"), state("b.aa")));
        store.delete("a.aa");
        long syncs = store.syncs();
        store.delete("never.saved.aa");
        assertEquals(syncs, store.syncs(), "nothing to forget: nothing written");
        assertEquals(List.of("b.aa"), new StateStore(dir).loadAll().stream().map(ZoneState::zone).toList());
        String journal = Files.readString(dir.resolve("zones/states.journal"));
        assertTrue(journal.contains("{\"format\":2,\"forget\":\"a.aa\"}"), journal);
        store.compact();
        assertEquals("", Files.readString(dir.resolve("zones/states.journal")));
        assertEquals(1, Files.readAllLines(dir.resolve("zones/states.snapshot")).size());
        // forgotten, then seen again: a new zone
        store.save(state("a.aa", 7));
        assertEquals(Map.of("a.aa", 7L, "b.aa", 42L), serials(new StateStore(dir).loadAll()));
    }

    @Test
    void theJournalIsCompactedIntoTheSnapshotWhenItOutgrowsIt() throws Exception {
        StateStore store = new StateStore(dir, 64 * 1024);
        for (int round = 1; round <= 30; round++) {
            List<ZoneState> batch = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                batch.add(state("z" + i + ".aa", round));
            }
            store.saveAll(batch);
        }
        store.delete("z0.aa");
        assertTrue(store.compactions() >= 2, "compactions: " + store.compactions());
        Path snapshot = dir.resolve("zones/states.snapshot");
        long snapshotLines = Files.readAllLines(snapshot).size();
        assertTrue(snapshotLines <= 20, "one line per zone in the snapshot: " + snapshotLines);
        assertTrue(Files.size(dir.resolve("zones/states.journal")) <= Math.max(64 * 1024, Files.size(snapshot)) + 4096);
        Map<String, Long> want = new TreeMap<>();
        for (int i = 1; i < 20; i++) {
            want.put("z" + i + ".aa", 30L);
        }
        assertEquals(want, serials(new StateStore(dir).loadAll()));
        try (var files = Files.list(dir.resolve("zones"))) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".tmp")));
        }
    }

    @Test
    void statesSpanningSeveralReadChunksLoadAndCompactWhole() throws Exception {
        // ~2.5 KB a state: 4,000 of them are more than two of the 4 MB chunks a start reads at once
        StateStore store = new StateStore(dir, Long.MAX_VALUE); // no compaction yet
        List<ZoneState> batch = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            batch.add(state("z" + i + ".aa", i));
        }
        store.saveAll(batch);
        assertTrue(Files.size(dir.resolve("zones/states.journal")) > 8 << 20, "more than two chunks");
        Map<String, Long> want = serials(batch);
        assertEquals(want, serials(new StateStore(dir).loadAll()));
        StateStore again = new StateStore(dir);
        again.loadAll();
        again.compact(); // copies each line by the offset the chunked read found
        assertEquals(want, serials(new StateStore(dir).loadAll()));
    }

    @Test
    void aCrashAfterTheSnapshotButBeforeTheJournalIsEmptiedChangesNothing() throws Exception {
        StateStore store = new StateStore(dir);
        store.saveAll(List.of(state("a.aa", 1), state("b.aa", 1), state("c.aa", 1)));
        store.delete("b.aa");
        store.save(state("b.aa", 2));
        store.delete("c.aa");
        Path journal = dir.resolve("zones/states.journal");
        byte[] before = Files.readAllBytes(journal);
        store.compact();
        Files.write(journal, before); // the journal as it was when the kill came
        assertEquals(Map.of("a.aa", 1L, "b.aa", 2L), serials(new StateStore(dir).loadAll()));
        Files.writeString(dir.resolve("zones/states.snapshot.tmp"), "half a snapsh"); // a kill during a compaction
        StateStore again = new StateStore(dir);
        assertEquals(Map.of("a.aa", 1L, "b.aa", 2L), serials(again.loadAll()));
        assertFalse(Files.exists(dir.resolve("zones/states.snapshot.tmp")));
    }

    @Test
    void aOneFilePerZoneDirectoryIsMovedInOnceAndSaidSo() throws Exception {
        oldFile(dir, state("a.aa", 1));
        oldFile(dir, state("0/25.2.0.192.in-addr.arpa", 1));
        Path bad = dir.resolve("zones/bad.aa.json");
        Files.writeString(bad, "{\"format\":1,\"state\":{\"zone\":\"bad.aa\",\"serial\":");
        try (LogCapture logs = LogCapture.start()) {
            StateStore store = new StateStore(dir);
            assertEquals(Map.of("a.aa", 1L, "0/25.2.0.192.in-addr.arpa", 1L), serials(store.loadAll()));
            new StateStore(dir).loadAll();
            String text = logs.text();
            assertEquals(1, text.split("moved 2 zone state files of", -1).length - 1, text);
            assertTrue(text.contains("INFO"), text);
            assertTrue(text.contains("(a one-time upgrade of the data directory)"), text);
        }
        try (var files = Files.list(dir.resolve("zones"))) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(3, names.size(), names.toString());
            assertTrue(names.get(0).startsWith("bad.aa.json.corrupt-"), names.toString());
            assertEquals(List.of("states.journal", "states.snapshot"), names.subList(1, 3));
        }
        assertEquals(2, Files.readAllLines(dir.resolve("zones/states.snapshot")).size());
    }

    @Test
    void aCrashBetweenTheMigratedSnapshotAndTheRemovalOfTheOldFiles() throws Exception {
        Path a = oldFile(dir, state("a.aa", 1));
        Path b = oldFile(dir, state("b.aa", 1));
        String oldA = Files.readString(a);
        String oldB = Files.readString(b);
        StateStore store = new StateStore(dir);
        assertEquals(Map.of("a.aa", 1L, "b.aa", 1L), serials(store.loadAll()));
        store.save(state("a.aa", 2));
        // the kill came after the snapshot was on the disk but before the files were removed
        Files.writeString(a, oldA);
        Files.writeString(b, oldB);
        Files.writeString(dir.resolve("zones/a.aa.json.tmp"), "{\"format\":1,"); // an old writer's leftover
        StateStore again = new StateStore(dir);
        Map<String, Long> loaded = serials(again.loadAll());
        // nothing doubled or lost; a newer line of the journal wins over an old file; the files are gone
        assertEquals(Map.of("a.aa", 2L, "b.aa", 1L), loaded);
        try (var files = Files.list(dir.resolve("zones"))) {
            assertEquals(List.of("states.journal", "states.snapshot"),
                    files.map(f -> f.getFileName().toString()).sorted().toList());
        }
        assertEquals(loaded, serials(new StateStore(dir).loadAll()));
    }

    @Test
    void aDataDirThatCannotBeWrittenIsNamedInTheError() throws Exception {
        Path notADir = dir.resolve("data");
        Files.writeString(notADir, "a file where the data directory should be");
        IOException e = assertThrows(IOException.class, () -> new StateStore(notADir));
        assertTrue(e.getMessage().startsWith("data.dir: cannot create or write the state directory " + notADir.resolve("zones")),
                e.getMessage());
        assertFalse(e.getMessage().contains("Exception"), e.getMessage());
        Path data = dir.resolve("data2");
        Files.createDirectories(data);
        Files.writeString(data.resolve("zones"), "a file where the state directory should be");
        e = assertThrows(IOException.class, () -> new StateStore(data));
        assertEquals("data.dir: cannot create or write the state directory " + data.resolve("zones")
                + ": a file of that name is in the way", e.getMessage());
    }

    @Test
    void rolloverTimingAndSignerSignalsSurviveARestart() throws Exception {
        StateStore store = new StateStore(dir);
        ZoneState plain = state("d1.aa");
        KeyInfo ksk = plain.keys().stream().filter(k -> k.sep() && !k.revoked()).findFirst().orElseThrow();
        RolloverTimer.Result r = new RolloverTimer(java.time.Duration.ofHours(1))
                .evaluate("d1.aa", plain.keys(), List.of(), RolloverRecord.EMPTY, NOW);
        ZoneState s = plain.withSignals(ZoneSignals.NONE.withRollover(r)
                .withSigner(List.of(ksk.keytag()), "Knot's DNSSEC validation of the zone failed", 42L));
        assertTrue(s.signals().awaitingDsSubmit().contains(ksk.keytag()), s.signals().toString());
        assertTrue(!s.signals().rollover().keys().isEmpty() && s.signals().rolloverDue() != null, s.signals().toString());
        store.save(s);
        assertEquals(List.of(s), new StateStore(dir).loadAll());
    }

    @Test
    void aStateFileFromBeforeRolloverTimingReadsAsNothingFollowedYet() throws Exception {
        Path f = oldFile(dir, state("old.aa"));
        String json = Files.readString(f);
        int at = json.indexOf(",\"signals\":");
        assertTrue(at > 0, json);
        Files.writeString(f, json.substring(0, at) + "}}"); // signals were the last field
        ZoneState loaded = new StateStore(dir).loadAll().get(0);
        assertEquals(ZoneSignals.NONE, loaded.signals());
        assertEquals(RolloverRecord.EMPTY, loaded.signals().rollover());
    }

    /** What a caller sees of each key: the texts made again included (equals compares what is held). */
    static List<List<Object>> seen(ZoneState s) {
        return s.keys().stream().map(k -> List.<Object>of(String.valueOf(k.topicId()), String.valueOf(k.dnskey()),
                String.valueOf(k.zone()), String.valueOf(k.dsSha256()), String.valueOf(k.dsSha384()), k)).toList();
    }

    /** A line as a format-1 writer (every version before this one) wrote it. */
    static String formatOneLine(ZoneState s) {
        String json = "{\"format\":1,\"state\":" + Json.GSON.toJson(s) + "}";
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return String.format("%08x %s%n", crc.getValue(), json);
    }

    @Test
    void theVerifiedSignatureSurvivesARestart() throws Exception {
        ZoneState p = state("d1.aa");
        ZoneState s = new ZoneState(p.zone(), p.serial(), p.server(), p.checkedAt(), p.changedAt(), p.reachable(),
                p.status(), p.problem(), p.keys(), p.validation(), p.rrsigExpires(), p.rrsigAlert(), p.rrsigAlertedAt(),
                p.soaExpire(), p.serialChangedAt(), p.stale(), p.cds(), p.cdnskey(), p.parentDs(), p.dsValidated(),
                p.servers(), p.dnskeyRrsigExpires(), p.soaRrsigExpires(), p.signals(),
                "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=");
        new StateStore(dir).save(s);
        ZoneState loaded = new StateStore(dir).loadAll().get(0);
        assertEquals(s, loaded);
        assertEquals("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=", loaded.verified());
    }

    @Test
    void aLineLeavesOutWhatTheKeysOwnFieldsMakeAgain() throws Exception {
        ZoneState s = state("d1.aa");
        new StateStore(dir).save(s);
        String line = Files.readString(dir.resolve("zones/states.journal"));
        assertTrue(line.contains("{\"format\":2,\"state\":{\"zone\":\"d1.aa\""), line);
        for (String made : List.of("\"dnskey\"", "\"topicId\"", "\"dsSha256\"", "\"dsSha384\"", "DNSKEY\t")) {
            assertFalse(line.contains(made), made + " is made again from the key, not written: " + line);
        }
        assertEquals(1, line.split("\"zone\":", -1).length - 1, "the zone once, not again in every key: " + line);
        int full = formatOneLine(s).length();
        assertTrue(line.length() * 5 < full * 3, line.length() + " bytes against " + full + " with every text written");
        ZoneState loaded = new StateStore(dir).loadAll().get(0);
        assertEquals(s, loaded);
        assertEquals(seen(s), seen(loaded));
        assertTrue(seen(loaded).stream().anyMatch(k -> ((String) k.get(3)).startsWith("20179 8 2 512A692D")), seen(loaded).toString());
    }

    @Test
    void textsTheKeysFieldsDoNotGiveAreKeptAsGiven() throws Exception {
        ZoneState plain = state("d1.aa");
        List<KeyInfo> keys = new ArrayList<>();
        for (KeyInfo k : plain.keys()) {
            boolean unrevokedSep = k.sep() && !k.revoked();
            keys.add(new KeyInfo(k.identity(), k.keytag() + "-2", k.dnskey().replace('\t', ' '), k.zone(), k.keytag(),
                    k.flags(), k.role(), k.state(), k.revoked(), k.originalKeytag(), k.algorithm(), k.algorithmName(),
                    k.bits(), k.ttl(), unrevokedSep && k.algorithm() == 8 ? null : unrevokedSep ? "1 2 3 ABCD" : null,
                    unrevokedSep && k.algorithm() == 8 ? null : k.dsSha384(), k.firstSeen(), k.cds(), k.dsAtParent(),
                    k.addHolddownUntil(), k.revokedAt(), k.removeHolddownUntil()));
        }
        keys.set(1, keys.get(1).withTopicId(null));
        ZoneState s = new ZoneState(plain.zone(), plain.serial(), plain.server(), plain.checkedAt(), plain.changedAt(),
                plain.reachable(), plain.status(), plain.problem(), keys, plain.validation(), plain.rrsigExpires(),
                plain.rrsigAlert(), plain.rrsigAlertedAt(), plain.soaExpire(), plain.serialChangedAt(), plain.stale(),
                plain.cds(), plain.cdnskey(), plain.parentDs(), plain.dsValidated(), plain.servers());
        new StateStore(dir).save(s);
        ZoneState loaded = new StateStore(dir).loadAll().get(0);
        assertEquals(seen(s), seen(loaded));
        KeyInfo rsa = loaded.keys().stream().filter(k -> k.algorithm() == 8).findFirst().orElseThrow();
        assertEquals(null, rsa.dsSha256(), "a SEP key without a DS stays without one");
        assertEquals(null, loaded.keys().get(1).topicId());
    }

    @Test
    void aFormatOneLineIsReadAndTheZonesNextSaveWritesFormatTwo() throws Exception {
        ZoneState old = state("old.aa", 1);
        Files.createDirectories(dir.resolve("zones"));
        Path journal = dir.resolve("zones/states.journal");
        Files.writeString(journal, formatOneLine(old) + formatOneLine(state("other.aa", 1)));
        StateStore store = new StateStore(dir);
        List<ZoneState> loaded = store.loadAll();
        assertEquals(Map.of("old.aa", 1L, "other.aa", 1L), serials(loaded));
        ZoneState back = loaded.stream().filter(z -> z.zone().equals("old.aa")).findFirst().orElseThrow();
        assertEquals(seen(old), seen(back));
        store.save(state("old.aa", 2));
        List<String> lines = Files.readAllLines(journal);
        assertTrue(lines.get(2).contains("{\"format\":2,\"state\":{\"zone\":\"old.aa\""), lines.get(2));
        assertEquals(Map.of("old.aa", 2L, "other.aa", 1L), serials(new StateStore(dir).loadAll()));
    }

    @Test
    void aLineOfANewerFormatIsSkippedWithAWarningThatSaysSo() throws Exception {
        Files.createDirectories(dir.resolve("zones"));
        Path journal = dir.resolve("zones/states.journal");
        Files.writeString(journal, formatOneLine(state("a.aa", 1)) + formatOneLine(state("b.aa", 1)).replace(
                "{\"format\":1,", "{\"format\":3,").replaceFirst("^[0-9a-f]{8}", "00000000"));
        List<String> lines = Files.readAllLines(journal);
        String json = lines.get(1).substring(9);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        lines.set(1, String.format("%08x %s", crc.getValue(), json));
        Files.write(journal, lines);
        try (LogCapture logs = LogCapture.start()) {
            assertEquals(Map.of("a.aa", 1L), serials(new StateStore(dir).loadAll()));
            String text = logs.text();
            assertTrue(text.contains("line 2 of " + journal + " is damaged (format 3 is not one this version reads"
                    + " (1 to 2; a newer version wrote it?)) and was skipped"), text);
        }
    }
}
