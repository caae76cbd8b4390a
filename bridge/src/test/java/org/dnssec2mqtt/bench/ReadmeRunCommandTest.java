package org.dnssec2mqtt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JVM options live in one place, the launcher {@code bridge/packaging/dnssec2mqtt} (installed
 * as {@code /usr/bin/dnssec2mqtt}); the README's run command and the benchmark start the bridge
 * through it, so the benchmark measures the bridge as users launch it.
 */
class ReadmeRunCommandTest {
    @Test
    void readmeRunsTheLauncherWhichCarriesTheMemoryOptions() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(readme.contains("bridge/packaging/dnssec2mqtt --config bridge/dnssec2mqtt.properties"),
                "README's run command should use the launcher");
        assertFalse(readme.contains("java -Xms16m"), "the JVM options belong in the launcher only");
        List<String> options = Files.readAllLines(BridgeProcess.launcher()).stream()
                .filter(l -> l.startsWith("JVM_OPTIONS=")).toList();
        assertEquals(List.of("JVM_OPTIONS=\"-Xms16m -Xmx256m -XX:+UseSerialGC -XX:MinHeapFreeRatio=20"
                + " -XX:MaxHeapFreeRatio=40 -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.05\""), options);
    }

    @Test
    void theLauncherRunsTheBuiltJarAndPassesItsArguments() throws Exception {
        Path jar = Path.of("target/dnssec2mqtt.jar");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(jar), "mvn package has not built the jar");
        Process p = new ProcessBuilder(BridgeProcess.launcher().toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.matches("dnssec2mqtt \\d+\\.\\d+\\.\\d+\\S*\\n"), out);
    }
}
