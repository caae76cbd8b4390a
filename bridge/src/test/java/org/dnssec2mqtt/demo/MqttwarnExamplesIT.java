package org.dnssec2mqtt.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.support.Peers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs {@code mqttwarn-examples/check.py} (as {@code .ci/run} does) so that {@code mvn verify}
 * alone catches an mqttwarn example that no longer fits the committed sample payloads.
 * {@link SamplePayloadsIT} keeps those samples true to the bridge.
 */
@Timeout(60)
class MqttwarnExamplesIT {
    @Test
    void everyScenarioRendersEverySample() throws Exception {
        Path python = Peers.require("python3");
        Path check = SamplePayloadsIT.examplesDir().resolve("check.py");
        Process p = new ProcessBuilder(python.toString(), check.toString(), "--show")
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "python3 " + check + " failed:\n" + output);
    }
}
