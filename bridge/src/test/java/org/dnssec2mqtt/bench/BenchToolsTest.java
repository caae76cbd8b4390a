package org.dnssec2mqtt.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The benchmark asks {@link org.dnssec2mqtt.support.Peers} for every program it runs before it
 * starts anything, so a missing one skips it locally and fails it in CI, instead of the naive loop
 * waiting for keys that never come (a machine without {@code dig} hung BenchSmokeIT for 120 s).
 */
class BenchToolsTest {
    @Test
    void everyProgramTheNaiveLoopRunsIsRequiredUpFront() throws Exception {
        String script = Files.readString(Path.of("bench/naive-bridge.pl"));
        List<String> required = Bench.tools(true);
        assertTrue(required.contains("perl"), required.toString());
        // backticks and system('prog', ...) are how the script runs programs
        Matcher m = Pattern.compile("`([\\w./-]+)|system\\('([^']+)'").matcher(script);
        int programs = 0;
        while (m.find()) {
            String program = m.group(1) != null ? m.group(1) : m.group(2);
            assertTrue(required.contains(program), program + " is run by naive-bridge.pl but not required: " + required);
            programs++;
        }
        assertTrue(programs >= 2, "expected dig and mosquitto_pub in the script");
    }

    @Test
    void withoutTheNaiveLoopItNeedsOnlyTheServers() {
        List<String> required = Bench.tools(false);
        assertTrue(required.contains("/usr/sbin/nsd") && required.contains("/usr/sbin/mosquitto"), required.toString());
        assertFalse(required.contains("dig"), required.toString());
    }
}
