package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bridge as its own process, started exactly as the README's run command does: through the
 * launcher {@code bridge/packaging/dnssec2mqtt --config FILE}, which carries the JVM options (the
 * contract counts them as part of the product), with {@code BENCH_BRIDGE_JVM_OPTS} appended through
 * {@code JAVA_OPTS} only when profiling (the published figures use none).
 */
final class BridgeProcess implements AutoCloseable {
    private final Process process;
    final long startNanos;
    final Path log;

    BridgeProcess(Path jar, Path config, List<String> jvmOptions, Path log) {
        this.log = log;
        List<String> command = List.of(launcher().toString(), "--config", config.toString());
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("DNSSEC2MQTT_")); // the file decides
            pb.environment().put("DNSSEC2MQTT_JAR", jar.toString()); // the launcher's, not a config key
            pb.environment().put("JAVA_OPTS", String.join(" ", jvmOptions));
            startNanos = System.nanoTime();
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code bridge/packaging/dnssec2mqtt}, from the repository or from {@code bridge/}. */
    static Path launcher() {
        for (String p : List.of("bridge/packaging/dnssec2mqtt", "packaging/dnssec2mqtt")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p).toAbsolutePath();
            }
        }
        throw new IllegalStateException("the launcher bridge/packaging/dnssec2mqtt was not found (run from the repository or bridge/)");
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** A field of /proc/PID/status in MiB (VmRSS, VmHWM), or -1. */
    double statusMiB(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not on Linux, or gone
        }
        return -1;
    }

    /** Threads of the process, from /proc/PID/status, or -1. */
    int threads() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
                if (line.startsWith("Threads:")) {
                    return Integer.parseInt(line.substring(8).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone
        }
        return -1;
    }

    /** {used, committed} heap in MiB from {@code jcmd PID GC.heap_info}, or {-1, -1}. */
    double[] heapMiB() {
        return heapMiB(jcmd("GC.heap_info"));
    }

    /**
     * {used, committed} MiB summed over every generation {@code GC.heap_info} lists (the serial
     * collector's young and tenured are two lines; only the first, the young, was read before,
     * which gave 121 MiB committed for a heap of 400); {-1, -1} when it lists none.
     */
    static double[] heapMiB(String heapInfo) {
        Matcher m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(heapInfo);
        long total = 0;
        long used = 0;
        boolean found = false;
        while (m.find()) {
            total += Long.parseLong(m.group(1));
            used += Long.parseLong(m.group(2));
            found = true;
        }
        return found ? new double[] {used / 1024.0, total / 1024.0} : new double[] {-1, -1};
    }

    /** Output of {@code jcmd PID <command...>}; empty when jcmd is missing or fails. */
    String jcmd(String... command) {
        List<String> cmd = new ArrayList<>(List.of("jcmd", Long.toString(pid())));
        cmd.addAll(List.of(command));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** Sends SIGTERM and waits for the exit: the nanoseconds in between (SIGKILL after 10 s: fails). */
    long sigtermToExitNanos() throws InterruptedException {
        long t0 = System.nanoTime();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the bridge did not exit within 10 s of SIGTERM\n" + log);
        }
        return System.nanoTime() - t0;
    }

    /** SIGTERM (the bridge publishes offline and exits), SIGKILL after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
