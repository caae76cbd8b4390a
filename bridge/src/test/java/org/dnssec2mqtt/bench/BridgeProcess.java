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
 * The bridge as its own process, started exactly as the README's run command does:
 * {@code java -jar bridge/target/dnssec2mqtt.jar --config FILE} (plus {@code BENCH_BRIDGE_JVM_OPTS}
 * only when profiling; the published figures use none).
 */
final class BridgeProcess implements AutoCloseable {
    private final Process process;
    final long startNanos;
    final Path log;

    /** The JVM options of the README's run command: the contract counts them as part of the product. */
    static final List<String> README_JVM_OPTIONS = List.of("-Xms16m", "-Xmx256m", "-XX:+UseSerialGC");

    BridgeProcess(Path jar, Path config, List<String> jvmOptions, Path log) {
        this.log = log;
        List<String> command = new ArrayList<>();
        command.add("java");
        command.addAll(README_JVM_OPTIONS);
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString(), "--config", config.toString()));
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("DNSSEC2MQTT_")); // the file decides
            startNanos = System.nanoTime();
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        String out = jcmd("GC.heap_info");
        Matcher m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(out);
        if (m.find()) {
            return new double[] {Long.parseLong(m.group(2)) / 1024.0, Long.parseLong(m.group(1)) / 1024.0};
        }
        return new double[] {-1, -1};
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
