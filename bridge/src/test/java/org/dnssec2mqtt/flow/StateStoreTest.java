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
