package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory lock within one JVM; {@link EmbeddedBrokerProcessIT} has two processes. */
class DataDirLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondStartIsRefusedWithTheHoldersPidUntilTheFirstCloses() throws Exception {
        Path data = dir.resolve("not/yet/there");
        long pid = ProcessHandle.current().pid();
        try (DataDirLock first = DataDirLock.acquire(data)) {
            assertEquals(pid + "\n", Files.readString(data.resolve("lock"), StandardCharsets.US_ASCII));
            DataDirLock.InUseException e = assertThrows(DataDirLock.InUseException.class, () -> DataDirLock.acquire(data));
            assertEquals("data.dir " + data.toAbsolutePath() + " is in use by another dnssec2mqtt (pid " + pid + ")",
                    e.getMessage());
        }
        DataDirLock.acquire(data).close();
    }

    @Test
    void aStalePidFromACrashedBridgeIsOverwritten() throws Exception {
        Files.writeString(dir.resolve("lock"), "999999999\n");
        try (DataDirLock lock = DataDirLock.acquire(dir)) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(dir.resolve("lock")));
        }
    }

    @Test
    void mainRefusesToStartOnALockedDataDirWithOneLine() throws Exception {
        Path config = dir.resolve("c.properties");
        Files.writeString(config, "notify.listen = 127.0.0.1:0\nmqtt.url = tcp://127.0.0.1:1\ndata.dir = " + dir + "\n");
        try (DataDirLock held = DataDirLock.acquire(dir)) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.run(new String[] {"--config", config.toString()}, Map.of(),
                    new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(1, code);
            assertEquals("cannot start: data.dir " + dir.toAbsolutePath() + " is in use by another dnssec2mqtt (pid "
                    + ProcessHandle.current().pid() + ")\n", err.toString(StandardCharsets.UTF_8));
        }
    }
}
