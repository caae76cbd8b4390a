package org.dnssec2mqtt.support;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Captures what is written to {@code System.err} (where slf4j-simple logs: it looks the stream up
 * on every line) while still passing it through, so a test can assert on log lines.
 *
 * <pre>{@code
 * try (LogCapture log = LogCapture.start()) {
 *     ...;
 *     assertTrue(log.text().contains("WARN"));
 * }
 * }</pre>
 */
public final class LogCapture implements AutoCloseable {
    private final PrintStream original;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    private LogCapture() {
        original = System.err;
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (captured) {
                    captured.write(b);
                }
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (captured) {
                    captured.write(b, off, len);
                }
                original.write(b, off, len);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    public static LogCapture start() {
        return new LogCapture();
    }

    /** Everything logged so far. */
    public String text() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits (polling) until the log contains {@code needle}; fails with the log otherwise. */
    public String await(String needle, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String t = text();
            if (t.contains(needle)) {
                return t;
            }
            try {
                Thread.sleep(20); // polling interval
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("log has no '" + needle + "' within " + timeout + ":\n" + text());
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}
