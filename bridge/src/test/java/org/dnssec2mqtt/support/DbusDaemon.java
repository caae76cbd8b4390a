package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A private {@code dbus-daemon} (Debian package {@code dbus}) with the system bus's type but its
 * own config, listening on a unix socket in a temporary directory, and letting everyone own names
 * and send and receive everything. Programs find it through {@code DBUS_SYSTEM_BUS_ADDRESS}
 * ({@link #address()}), as knotd does. No system bus, root or systemd needed.
 */
public final class DbusDaemon implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Path dir;
    private Process process;

    private DbusDaemon(Path dir) {
        this.dir = dir;
    }

    /** Starts a bus and waits until its socket exists. */
    public static DbusDaemon start() {
        Peers.require("/usr/bin/dbus-daemon");
        try {
            DbusDaemon bus = new DbusDaemon(Files.createTempDirectory("dbus"));
            Files.writeString(bus.dir.resolve("bus.conf"), """
                    <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
                     "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
                    <busconfig>
                      <type>system</type>
                      <listen>unix:path=%s</listen>
                      <auth>EXTERNAL</auth>
                      <policy context="default">
                        <allow user="*"/>
                        <allow own="*"/>
                        <allow send_destination="*"/>
                        <allow receive_sender="*"/>
                      </policy>
                    </busconfig>
                    """.formatted(bus.socket()), StandardCharsets.UTF_8);
            bus.launch();
            return bus;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code unix:path=...}, for DBUS_SYSTEM_BUS_ADDRESS or {@code knot.dbus}. */
    public String address() {
        return "unix:path=" + socket();
    }

    private Path socket() {
        return dir.resolve("bus.sock");
    }

    /** Stops the daemon (every client loses its connection); the config stays for {@link #restart()}. */
    public void stop() {
        if (process != null) {
            NsdServer.stopTree(process);
            process = null;
        }
        try {
            Files.deleteIfExists(socket());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the daemon again on the same socket. */
    public void restart() {
        stop();
        launch();
    }

    private void launch() {
        try {
            process = new ProcessBuilder(Peers.require("/usr/bin/dbus-daemon").toString(),
                    "--config-file=" + dir.resolve("bus.conf"), "--nofork", "--nopidfile")
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("dbus.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start dbus-daemon", e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.exists(socket())) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String log = log();
                close();
                throw new IllegalStateException("dbus-daemon did not create " + socket() + "\n" + log);
            }
            try {
                Thread.sleep(20); // polling: the socket file appears when the daemon listens
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    public String log() {
        try {
            Path f = dir.resolve("dbus.log");
            return "---- dbus-daemon log ----\n" + (Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "");
        } catch (IOException e) {
            return "(no dbus-daemon log: " + e + ")";
        }
    }

    @Override
    public void close() {
        stop();
        NsdServer.deleteTree(dir);
    }
}
