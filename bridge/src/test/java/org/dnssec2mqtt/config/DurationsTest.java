package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "30s,   30",
        "5m,    300",
        "1h,    3600",
        "2d,    172800",
        "90,    90",
        "0,     0",
        "0s,    0",
        "' 10s ', 10",
    })
    void parsesUnitsAndBareSeconds(String text, long seconds) {
        assertEquals(Duration.ofSeconds(seconds), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5 m", "1w", "-1", "1.5h", "s", "5M", "1234567890", "1h30m"})
    void rejectsWithAClearMessage(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals("expected a duration such as 30s, 5m, 1h, 2d or a number of seconds; got '" + text.trim() + "'",
                e.getMessage());
    }
}
