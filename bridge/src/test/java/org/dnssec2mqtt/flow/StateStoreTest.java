package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
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
        var keys = Fixtures.keys("d1.aa.dnskey");
        List<KeyInfo> infos = KeyAnalyzer.analyze(Fixtures.snapshot(keys, keys.subList(0, 1), List.of()), List.of(), NOW);
        return Fixtures.state(zone, 42, infos, NOW);
    }

    @Test
    void roundTripsEveryField() throws Exception {
        StateStore store = new StateStore(dir);
        ZoneState s = state("d1.aa");
        store.save(s);
        store.save(state("0/25.2.0.192.in-addr.arpa"));
        store.save(state("."));
        List<ZoneState> loaded = store.loadAll();
        assertEquals(3, loaded.size());
        assertEquals(s, loaded.stream().filter(z -> z.zone().equals("d1.aa")).findFirst().orElseThrow());
        assertTrue(Files.exists(dir.resolve("zones/0%2F25.2.0.192.in-addr.arpa.json")));
        assertTrue(Files.exists(dir.resolve("zones/%2E.json")));
        try (var files = Files.list(dir.resolve("zones"))) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".tmp")));
        }
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
        StateStore store = new StateStore(dir);
        store.save(state("old.aa"));
        Path f = dir.resolve("zones/old.aa.json");
        String json = Files.readString(f);
        int at = json.indexOf(",\"signals\":");
        assertTrue(at > 0, json);
        Files.writeString(f, json.substring(0, at) + "}}"); // signals were the last field
        ZoneState loaded = store.loadAll().get(0);
        assertEquals(ZoneSignals.NONE, loaded.signals());
        assertEquals(RolloverRecord.EMPTY, loaded.signals().rollover());
    }

    @Test
    void corruptFileIsSetAsideNotOverwritten() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(state("good.aa"));
        Path bad = dir.resolve("zones/bad.aa.json");
        Files.writeString(bad, "{\"format\":1,\"state\":{\"zone\":\"bad.aa\",\"serial\":");
        Path empty = dir.resolve("zones/empty.aa.json");
        Files.writeString(empty, "");
        List<ZoneState> loaded = store.loadAll();
        assertEquals(List.of("good.aa"), loaded.stream().map(ZoneState::zone).toList());
        try (var files = Files.list(dir.resolve("zones"))) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(3, names.size(), names.toString());
            assertTrue(names.get(0).startsWith("bad.aa.json.corrupt-"), names.toString());
            assertTrue(names.get(1).startsWith("empty.aa.json.corrupt-"), names.toString());
        }
    }
}
