package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonTest {

    /** The hand-written ISO-8601 printer says exactly what java.time says, fraction rules included. */
    @Test
    void isoIsInstantToStringForEveryKindOfInstant() {
        List<Instant> edges = List.of(Instant.EPOCH, Instant.parse("1969-12-31T23:59:59Z"),
                Instant.parse("2000-02-29T23:59:59.999Z"), Instant.parse("2026-11-22T06:30:00Z"),
                Instant.parse("2026-11-22T06:30:00.000001Z"), Instant.parse("2026-11-22T06:30:00.100Z"),
                Instant.parse("2026-11-22T06:30:00.000000001Z"), Instant.parse("9999-12-31T23:59:59.999999999Z"),
                Instant.parse("+10000-01-01T00:00:00Z"), Instant.MIN, Instant.MAX);
        for (Instant t : edges) {
            assertEquals(t.toString(), Json.iso(t), t.toString());
        }
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 200_000; i++) {
            long second = random.nextLong(0, 253_402_300_800L);
            int nano = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant t = Instant.ofEpochSecond(second, nano);
            assertEquals(t.toString(), Json.iso(t));
        }
    }

    @Test
    void timeIsWholeSeconds() {
        assertEquals("2026-11-22T06:30:00Z", Json.time(Instant.parse("2026-11-22T06:30:00.999Z")));
        Instant now = Instant.now();
        assertEquals(now.truncatedTo(ChronoUnit.SECONDS).toString(), Json.time(now));
    }
}
