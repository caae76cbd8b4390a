package org.dnssec2mqtt.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The benchmark measures the bridge as the README launches it, JVM options included. */
class ReadmeRunCommandTest {
    @Test
    void benchmarkUsesTheReadmeJvmOptions() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        String command = "java " + String.join(" ", BridgeProcess.README_JVM_OPTIONS) + " -jar bridge/target/dnssec2mqtt.jar";
        assertTrue(readme.contains(command), "README's run command should read: " + command);
    }
}
