package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of the benchmark's own processes, by program: the bench JVM itself ({@code bench}) and
 * every process it started (the bridge's JVM, NSD and its server processes, mosquitto), read from
 * {@code /proc/PID/stat} (user + system time, with that of children already waited for: NSD's
 * reloads fork server processes that end). Taken before and after a scenario, the difference says
 * where its CPU went, which on 2 cores bounds how fast it can be.
 */
final class CpuTally {
    /** USER_HZ: the kernel reports these times in clock ticks of 1/100 s on Linux. */
    private static final double TICK_SECONDS = 0.01;

    private final Map<String, Long> ticks;
    /** The user-mode part of {@link #ticks} (the rest is the kernel's: sockets, wake-ups, fsync). */
    private final Map<String, Long> user;

    private CpuTally(Map<String, Long> ticks, Map<String, Long> user) {
        this.ticks = ticks;
        this.user = user;
    }

    /** The CPU used so far by this JVM and its descendants, by program name. */
    static CpuTally now() {
        Map<String, Long> t = new TreeMap<>();
        Map<String, Long> u = new TreeMap<>();
        add(t, u, "bench", ProcessHandle.current().pid());
        ProcessHandle.current().descendants().forEach(p -> add(t, u, null, p.pid()));
        return new CpuTally(t, u);
    }

    /** Seconds of CPU per program between {@code before} and this tally, and their user-mode part. */
    Map<String, double[]> since(CpuTally before) {
        Map<String, double[]> out = new TreeMap<>();
        for (Map.Entry<String, Long> e : ticks.entrySet()) {
            long d = e.getValue() - before.ticks.getOrDefault(e.getKey(), 0L);
            long du = user.getOrDefault(e.getKey(), 0L) - before.user.getOrDefault(e.getKey(), 0L);
            out.put(e.getKey(), new double[] {d * TICK_SECONDS, du * TICK_SECONDS});
        }
        return out;
    }

    /** "bridge 1.23 s (123 µs/zone, 60 % user), nsd …": {@link #since} per zone. */
    static String describe(Map<String, double[]> seconds, int zones) {
        StringBuilder b = new StringBuilder();
        double total = 0;
        for (Map.Entry<String, double[]> e : seconds.entrySet()) {
            double all = e.getValue()[0];
            if (all <= 0) {
                continue;
            }
            total += all;
            b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2f s (%.0f µs/zone, %.0f %% user)",
                    e.getKey(), all, all * 1e6 / Math.max(1, zones), 100 * e.getValue()[1] / all));
        }
        return b.append(String.format(Locale.ROOT, "; all %.2f s (%.0f µs/zone)", total, total * 1e6 / Math.max(1, zones)))
                .toString();
    }

    /** Adds one process's ticks under {@code name}, or under its program (java: the bridge). */
    private static void add(Map<String, Long> t, Map<String, Long> u, String name, long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        } catch (IOException | RuntimeException e) {
            return; // gone meanwhile
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) {
            return;
        }
        String program = stat.substring(open + 1, close);
        String[] f = stat.substring(close + 2).split(" ");
        // after the name: state(3) ppid … utime(14) stime(15) cutime(16) cstime(17), here 0-based from field 3
        long userTicks = Long.parseLong(f[11]) + Long.parseLong(f[13]);
        long used = userTicks + Long.parseLong(f[12]) + Long.parseLong(f[14]);
        String key = name != null ? name : program.equals("java") ? "bridge" : program;
        t.merge(key, used, Long::sum);
        u.merge(key, userTicks, Long::sum);
    }
}
