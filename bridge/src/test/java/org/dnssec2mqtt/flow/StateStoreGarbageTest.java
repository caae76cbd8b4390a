package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: a burst of new zones saves many small batches (group commit), so what one save
 * allocates besides its lines is paid thousands of times: a 1 MiB write buffer per append was
 * ~1 GB of garbage in a 10,000-zone burst (JFR), and the young collections it caused ~18 % of the
 * bridge's CPU. Counted in bytes this thread allocated (not timed).
 */
class StateStoreGarbageTest {
    @TempDir
    Path dir;

    @Test
    void savingOneZoneAllocatesLittleMoreThanItsLine() throws Exception {
        StateStore store = new StateStore(dir);
        ZoneState first = StateStoreTest.state("garbage.example");
        store.apply(List.of(first), List.of()); // class loading and the journal's creation out of the way
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            ZoneState s = StateStoreTest.state("garbage.example", 100 + i);
            long before = threads.getThreadAllocatedBytes(id);
            store.apply(List.of(s), List.of());
            least = Math.min(least, threads.getThreadAllocatedBytes(id) - before);
        }
        assertTrue(least < 128 << 10, "one zone's save allocated " + least + " bytes");
        assertEquals(100 + 19, new StateStore(dir).loadAll().get(0).serial(), "and the last save is what loads");
    }
}
