package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.dnssec2mqtt.support.LogCapture;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class StateWriterTest {
    @TempDir
    Path dir;

    @Test
    void aSaveFromAnInterruptedThreadStillReachesTheDisk() throws Exception {
        // The lost state of issue 10 fault 0: a check thread interrupted by the shutdown wrote its
        // state with FileChannel, which threw ClosedByInterruptException (an IOException with no
        // message), and nothing retried it.
        StateStore store = new StateStore(dir);
        ZoneState s = StateStoreTest.state("example.test");
        try (StateWriter writer = new StateWriter(store)) {
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                writer.save(s);
            });
            t.start();
            t.join();
            assertTrue(writer.flush(Duration.ofSeconds(5)));
        }
        assertEquals(List.of(s), store.loadAll());
    }

    @Test
    void aFailedWriteIsRetriedUntilItSucceedsAndSaidOnce() throws Exception {
        StateStore store = new StateStore(dir);
        store.save(StateStoreTest.state("first.test"));
        Path zones = dir.resolve("zones");
        Path aside = dir.resolve("zones-aside");
        Files.move(zones, aside);
        Files.writeString(zones, "not a directory"); // every write fails, even for root
        try (LogCapture logs = LogCapture.start(); StateWriter writer = new StateWriter(store)) {
            writer.save(StateStoreTest.state("a.test"));
            writer.save(StateStoreTest.state("b.test"));
            logs.await("cannot write to", Duration.ofSeconds(5));
            assertTrue(writer.failures() >= 1);
            assertEquals(2, writer.pending(), "nothing dropped while the disk fails");
            Files.delete(zones);
            Files.move(aside, zones);
            assertTrue(writer.flush(Duration.ofSeconds(10)), "the retry writes them once the disk works");
            String text = logs.await("works again", Duration.ofSeconds(5));
            assertEquals(1, text.split("cannot write to", -1).length - 1, text);
            assertTrue(!text.contains("Exception"), text);
        }
        assertEquals(3, new StateStore(dir).loadAll().size());
    }

    @Test
    void savesQueuedTogetherShareOneFsync() throws Exception {
        StateStore store = new StateStore(dir);
        int n = 2000;
        List<ZoneState> states = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            states.add(StateStoreTest.state("z" + i + ".test"));
        }
        try (StateWriter writer = new StateWriter(store)) {
            states.forEach(writer::save); // faster than the disk: they queue up behind the first fsync
            assertTrue(writer.flush(Duration.ofSeconds(20)));
        }
        assertTrue(store.syncs() < n / 20, "fsyncs for " + n + " saves: " + store.syncs());
        assertEquals(n, new StateStore(dir).loadAll().size());
    }

    @Test
    void aDeleteQueuedAfterASaveWins() throws Exception {
        StateStore store = new StateStore(dir);
        try (StateWriter writer = new StateWriter(store)) {
            writer.save(StateStoreTest.state("a.test"));
            writer.delete("a.test");
            writer.save(StateStoreTest.state("b.test"));
            assertTrue(writer.flush(Duration.ofSeconds(5)));
        }
        assertEquals(List.of("b.test"), store.loadAll().stream().map(ZoneState::zone).toList());
    }
}
