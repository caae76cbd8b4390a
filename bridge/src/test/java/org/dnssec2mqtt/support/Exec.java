package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived tool (ldns-keygen, nsd-control, ...) and returns what it printed. */
final class Exec {
    private Exec() {}

    /**
     * Runs {@code command} in {@code dir} and returns its standard output; throws with the tool's
     * output when it fails or takes longer than 30 s.
     */
    static String run(Path dir, List<String> command) {
        try {
            // Output goes to files, not pipes: a tool blocked on a full pipe would never exit.
            Path out = Files.createTempFile("exec", ".out");
            Path err = Files.createTempFile("exec", ".err");
            try {
                Process process = new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .start();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("timed out after 30 s: " + String.join(" ", command));
                }
                String stdout = Files.readString(out, StandardCharsets.UTF_8);
                if (process.exitValue() != 0) {
                    throw new IllegalStateException("expected exit 0; got " + process.exitValue()
                            + " from: " + String.join(" ", command) + "\n" + stdout
                            + Files.readString(err, StandardCharsets.UTF_8));
                }
                return stdout;
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }
}
