package org.dnssec2mqtt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The benchmark in miniature (20 zones, a 200-NOTIFY storm), so that CI notices when it breaks:
 * it must finish, print the table, lose no zone and keep the storm to two DNSKEY queries.
 * Figures are not asserted: CI machines are shared and noisy.
 */
class BenchSmokeIT {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void runsTheBenchmarkOnTwentyZones() throws Exception {
        Bench.Options o = new Bench.Options(20, List.of(20), 200, true, true, 5, 20, 3, 30, true, 2,
                jar(), List.of(), 30);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream both = new PrintStream(new Tee(bytes, System.out), true, StandardCharsets.UTF_8);

        List<Bench.Run> runs = Bench.run(o, both);

        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("| 1. NOTIFY → first key message, p50"), text);
        assertTrue(text.contains("| 3. storm 200 NOTIFYs/1 s, one zone: DNSKEY queries"), text);
        assertEquals(3, runs.size(), text);
        for (Bench.Run r : runs.subList(0, 2)) {
            assertEquals(20, r.latenciesMs.size(), r.name + "\n" + text);
            assertEquals(20, r.changeLatenciesMs.size(), r.name + "\n" + text);
            assertEquals(0, r.bursts.get(20).lost(), r.name + "\n" + text);
            assertTrue(r.storm.newKeySeen(), r.name + "\n" + text);
            assertTrue(r.storm.dnskeyQueries() <= 2, r.name + "\n" + text);
            assertEquals(0, r.storm.duplicates(), r.name + "\n" + text);
            assertEquals(2, r.shutdownMs.size(), r.name + "\n" + text);
        }
        Bench.Run mosquitto = runs.get(0);
        assertEquals(0, mosquitto.big.lost(), text);
        assertTrue(mosquitto.recheckAllResponse.contains("\"failed\":0"), text);
        assertTrue(text.contains("| 6. recheck * of "), text);
    }

    /** The jar {@code mvn package} built; {@code BENCH_JAR} points elsewhere (e.g. a patched build). */
    private static Path jar() {
        String given = System.getenv("BENCH_JAR");
        return (given == null || given.isBlank() ? Path.of("target/dnssec2mqtt.jar") : Path.of(given)).toAbsolutePath();
    }

    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
