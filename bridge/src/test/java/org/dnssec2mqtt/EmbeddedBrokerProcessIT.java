package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bridge with its embedded broker as its own JVM, as an operator runs it: a second bridge on
 * the same data directory (issue 10, fault 6) and a SIGTERM (fault 10). A {@code FileChannel} lock
 * is per process, so the second bridge must be a second process for the test to mean anything.
 */
@Timeout(120)
class EmbeddedBrokerProcessIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String STATE = "dnssec/_bridge/state";

    @TempDir
    Path dir;

    @Test
    void aSecondBridgeOnTheSameDataDirExitsOneNamingTheDirectoryAndTheFirstPid() throws Exception {
        Path data = dir.resolve("data");
        Path first = config("first.properties", data);
        Process a = CrashIT.launch(first, dir.resolve("first.log"));
        try (MqttRecorder state = whenOnline(a, first, dir.resolve("first.log"))) {
            Path secondLog = dir.resolve("second.log");
            Process b = CrashIT.launch(config("second.properties", data), secondLog);
            assertTrue(b.waitFor(30, TimeUnit.SECONDS), "the second bridge did not exit");
            String out = Files.readString(secondLog);
            assertEquals(1, b.exitValue(), out);
            assertTrue(out.contains("cannot start: data.dir " + data.toAbsolutePath()
                    + " is in use by another dnssec2mqtt (pid " + a.pid() + ")\n"), out);
            assertFalse(out.contains("Exception") || out.contains("\tat "), out);
            assertTrue(a.isAlive(), "the first bridge must keep running");
            state.expectNone(m -> m.payload().contains("offline"), Duration.ZERO);
        } finally {
            stop(a);
        }
        // released: the next bridge on that directory starts
        Path third = config("third.properties", data);
        Process c = CrashIT.launch(third, dir.resolve("third.log"));
        try (MqttRecorder state = whenOnline(c, third, dir.resolve("third.log"))) {
            assertTrue(c.isAlive());
        } finally {
            stop(c);
        }
    }

    @Test
    void sigtermLeavesOfflineRetainedInTheEmbeddedBrokersStore() throws Exception {
        Path data = dir.resolve("data");
        Path config = config("bridge.properties", data);
        Path log = dir.resolve("bridge.log");
        Process bridge = CrashIT.launch(config, log);
        try (MqttRecorder state = whenOnline(bridge, config, log)) {
            bridge.destroy(); // SIGTERM
            assertTrue(bridge.waitFor(30, TimeUnit.SECONDS), "no exit after SIGTERM\n" + Files.readString(log));
        } finally {
            bridge.destroyForcibly();
        }
        // the subscriber was cut off with the broker: read what the broker stored, as the next start sees it
        EmbeddedBroker broker = new EmbeddedBroker(new InetSocketAddress(InetAddress.getLoopbackAddress(), FreePorts.tcp()),
                data.resolve("moquette"));
        broker.start();
        try (MqttRecorder state = new MqttRecorder(broker.url(), STATE)) {
            MqttRecorder.Received m = state.await(STATE, WAIT);
            assertTrue(m.payload().contains("\"state\":\"offline\""), m + "\n" + Files.readString(log));
        } finally {
            broker.close();
        }
    }

    /** A config with its own free ports, the embedded broker and {@code data}. */
    private Path config(String name, Path data) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, """
                notify.listen = 127.0.0.1:%d
                mqtt.embedded.listen = 127.0.0.1:%d
                data.dir = %s
                """.formatted(FreePorts.tcpAndUdp(), FreePorts.tcp(), data));
        return file;
    }

    /** Subscribes to the bridge's state on its embedded broker once that listens, and waits for online. */
    private static MqttRecorder whenOnline(Process bridge, Path config, Path log) throws Exception {
        String listen = Files.readAllLines(config).stream().filter(l -> l.startsWith("mqtt.embedded.listen"))
                .findFirst().orElseThrow().split("=")[1].trim();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                MqttRecorder state = new MqttRecorder("tcp://" + listen, STATE);
                CrashIT.awaitOrShowLog(() -> state.await(m -> m.payload().contains("\"state\":\"online\""), WAIT), log);
                return state;
            } catch (IllegalStateException notYet) {
                if (!bridge.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("the bridge's broker never listened\n" + Files.readString(log), notYet);
                }
                Thread.sleep(20); // polling for the port to open
            }
        }
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }
}
