package org.dnssec2mqtt.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.dnssec2mqtt.flow.StateStore;
import org.dnssec2mqtt.zone.ZoneState;

/**
 * One start's load of N zone states (two keys each, as {@link StoreBench} builds them) in this
 * JVM, wall and CPU time: run it with the launcher's JVM options, once per JVM, alternating two
 * builds to compare them (a start is always a cold JIT). Arguments: N, the data directory (filled
 * with N states on the first run, reused after), how many loads (default 1).
 *
 * <pre>
 * java -Xms16m -Xmx768m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp ... org.dnssec2mqtt.bench.StoreLoadBench 100000 bridge/target/load100k
 * </pre>
 */
public final class StoreLoadBench {
    private StoreLoadBench() {}

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        Path dir = Path.of(args[1]);
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        if (!Files.exists(dir.resolve("zones"))) {
            List<ZoneState> states = StoreBench.states(n, 1, true);
            StateStore store = new StateStore(dir);
            for (int i = 0; i < n; i += 1000) {
                store.saveAll(states.subList(i, Math.min(n, i + 1000)));
            }
        }
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (int r = 0; r < runs; r++) {
            long cpu = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            int loaded = new StateStore(dir).loadAll().size();
            System.out.printf(Locale.ROOT, "load of %d states: %.0f ms wall, %.0f ms CPU, load average %.2f%n", loaded,
                    (System.nanoTime() - t0) / 1e6, (os.getProcessCpuTime() - cpu) / 1e6, os.getSystemLoadAverage());
        }
    }
}
