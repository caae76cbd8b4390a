package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The short cuts of a start's read of the state files: instants read field by field, zones read
 * off the bytes of a line. Each gives what the general path gives, and leaves what it does not
 * know to it.
 */
class StateStoreReadTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {
        "2026-11-22T06:30:00Z", // as every instant is written
        "1970-01-01T00:00:00Z",
        "2024-02-29T23:59:59Z", // a leap day
        "1000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z", // before the epoch
        "2026-12-31T23:59:60Z", // a leap second, the end of a day: Instant.parse's own answers
        "2026-11-22T24:00:00Z",
        "2026-11-22T06:30:00.123Z", // fractions as Instant.toString writes them (a check's time)
        "2026-11-22T06:30:00.123456Z",
        "2026-11-22T06:30:00.123456789Z",
        "2026-11-22T06:30:00.000Z",
        "2026-11-22T06:30:00.007Z",
        "2026-12-31T23:59:60.500Z",
        "2026-11-22T06:30:00.12Z", // other fractions, years of other lengths: the general path
        "2026-11-22T06:30:00.1234Z",
        "0999-12-31T23:59:59Z",
        "+10000-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z"})
    void anInstantIsReadAsInstantParseReadsIt(String text) {
        assertEquals(Instant.parse(text), StateStore.instant(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-22T06:61:00Z",
        "2026-11-2xT06:30:00Z", "2026-11-22 06:30:00Z", "2026-11-22T06:30:00+", "",
        "2026-11-22T06:30:00.12aZ", "2026-11-22T06:30:00,123Z", "2026-11-22T06:30:00.123456-89Z", "2026-11-22T06:30:-1.123Z"})
    void anInstantThatInstantParseRejectsIsRejected(String text) {
        assertThrows(DateTimeException.class, () -> Instant.parse(text));
        assertThrows(DateTimeException.class, () -> StateStore.instant(text));
    }

    @Test
    void zoneNamesWithQuotesBackslashesAndOtherLettersLoadAndForgetAsWritten() throws Exception {
        List<String> zones = List.of("plain.example", "a\"quote.example", "back\\slash.example", "ünïcödé.example",
                "tab\t.example", "0/25.2.0.192.in-addr.arpa", ".",
                "x\"1.example", "x\"2.example"); // the same up to the escape: two zones all the same
        StateStore store = new StateStore(dir);
        for (String z : zones) {
            store.save(StateStoreTest.state(z, 1));
        }
        store.save(StateStoreTest.state("a\"quote.example", 2));
        store.delete("back\\slash.example");
        store.delete("plain.example");
        store.save(StateStoreTest.state("plain.example", 3));
        Map<String, Long> want = new TreeMap<>(Map.of("plain.example", 3L, "a\"quote.example", 2L, "ünïcödé.example", 1L,
                "tab\t.example", 1L, "0/25.2.0.192.in-addr.arpa", 1L, ".", 1L, "x\"1.example", 1L, "x\"2.example", 1L));
        List<ZoneState> loaded = new StateStore(dir).loadAll();
        assertEquals(want, StateStoreTest.serials(loaded));
        assertEquals(StateStoreTest.state("ünïcödé.example", 1),
                loaded.stream().filter(s -> s.zone().startsWith("ü")).findFirst().orElseThrow());
        new StateStore(dir).compact();
        assertEquals(want, StateStoreTest.serials(new StateStore(dir).loadAll()));
    }
}
