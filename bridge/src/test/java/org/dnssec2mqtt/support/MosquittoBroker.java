package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BiFunction;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * An MQTT broker for integration tests: the {@code eclipse-mosquitto:2} container where a Docker
 * engine exists, else the local {@code /usr/sbin/mosquitto} (Debian package) on a free loopback port.
 * Either way the test talks to {@link #url()}.
 *
 * <pre>{@code
 * try (MosquittoBroker broker = MosquittoBroker.start()) {            // anonymous access
 *     new MqttClient(broker.url(), "id", new MemoryPersistence());
 * }
 * MosquittoBroker.start("allow_anonymous false\npassword_file ${dir}/passwd\nacl_file ${dir}/acl\n",
 *         Map.of("passwd", hashedLines, "acl", aclText));
 * }</pre>
 *
 * <p>Persistence is off (except with {@link #startLocalExact}, whose config decides), so every
 * broker starts without retained messages.
 */
public final class MosquittoBroker implements AutoCloseable {
    private static final String IMAGE = "eclipse-mosquitto:2";
    private static final String CONTAINER_DIR = "/mosquitto/config";
    private static final int MQTT_PORT = 1883;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static Boolean dockerAvailable;

    private final String host;
    private final int port;
    private volatile Process process;
    private final Path dir;
    private final GenericContainer<?> container;

    private MosquittoBroker(String host, int port, Process process, Path dir, GenericContainer<?> container) {
        this.host = host;
        this.port = port;
        this.process = process;
        this.dir = dir;
        this.container = container;
    }

    /** A broker that lets anyone connect, publish and subscribe. */
    public static MosquittoBroker start() {
        return start("allow_anonymous true\n", Map.of());
    }

    /**
     * A broker with {@code config} (mosquitto.conf lines, without any {@code listener}: that is
     * added here) and {@code files} (name to content) placed in one directory; {@code ${dir}} in
     * the config stands for that directory, which differs between the local and container broker.
     * Password files must hold hashed lines (as {@code mosquitto_passwd} writes them).
     */
    public static MosquittoBroker start(String config, Map<String, String> files) {
        return isDockerAvailable() ? startContainer(config, files) : startLocal(config, files);
    }

    /** {@code tcp://HOST:PORT}; the host is 127.0.0.1 for the local broker. */
    public String url() {
        return "tcp://" + host + ":" + port;
    }

    /** The host the broker is reached at. */
    public String host() {
        return host;
    }

    /** The port the broker listens on, as seen from the test. */
    public int port() {
        return port;
    }

    /** True when the broker runs in a container, false for the local mosquitto. */
    public boolean inContainer() {
        return container != null;
    }

    /** The broker's log so far, for failure messages. */
    public String log() {
        if (container != null) {
            return "---- mosquitto container log ----\n" + container.getLogs();
        }
        try {
            return "---- mosquitto log (" + dir + ") ----\n"
                    + Files.readString(dir.resolve("mosquitto.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no mosquitto log: " + e + ")";
        }
    }

    /** Stops the broker and deletes its files. */
    @Override
    public void close() {
        if (container != null) {
            container.stop();
        }
        if (process != null) {
            NsdServer.stopTree(process);
        }
        if (dir != null) {
            NsdServer.deleteTree(dir);
        }
    }

    /**
     * The local {@code /usr/sbin/mosquitto} with {@code config} as its <em>whole</em> mosquitto.conf
     * (nothing added, unlike {@link #start(String, Map)}), after replacing {@code ${port}} with a
     * free port and {@code ${dir}} with the directory holding {@code files}. For testing a config
     * file as shipped: it must contain its own {@code listener ${port} 127.0.0.1}. No container
     * variant, because the shipped paths and user are those of a local install.
     */
    public static MosquittoBroker startLocalExact(String config, Map<String, String> files) {
        return startLocal(files, (port, dir) -> config.replace("${port}", Integer.toString(port))
                .replace("${dir}", dir.toString()));
    }

    private static MosquittoBroker startLocal(String config, Map<String, String> files) {
        // mosquitto 2 needs an explicit listener, and run as root it would switch to the user
        // "mosquitto", who cannot read our private temp directory: stay who we are.
        return startLocal(files, (port, dir) -> "listener " + port + " 127.0.0.1\n"
                + "persistence false\n"
                + "log_dest stderr\n"
                + "user " + System.getProperty("user.name") + "\n"
                + config.replace("${dir}", dir.toString()));
    }

    private static MosquittoBroker startLocal(Map<String, String> files,
            BiFunction<Integer, Path, String> config) {
        Path mosquitto = Peers.require("/usr/sbin/mosquitto");
        int port = FreePorts.tcp();
        try {
            Path dir = Files.createTempDirectory("mosquitto");
            for (Map.Entry<String, String> file : files.entrySet()) {
                Files.writeString(dir.resolve(file.getKey()), file.getValue(), StandardCharsets.UTF_8);
            }
            Path confFile = dir.resolve("mosquitto.conf");
            Files.writeString(confFile, config.apply(port, dir), StandardCharsets.UTF_8);
            Process process = launch(dir);
            MosquittoBroker broker = new MosquittoBroker("127.0.0.1", port, process, dir, null);
            broker.awaitListening();
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Process launch(Path dir) throws IOException {
        return new ProcessBuilder(Peers.require("/usr/sbin/mosquitto").toString(), "-c", dir.resolve("mosquitto.conf").toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mosquitto.log").toFile()))
                .start();
    }

    /**
     * Stops the local broker (SIGTERM, so a broker with {@code persistence true} writes its store),
     * keeping its directory and port for {@link #restart()}. Local broker only.
     */
    public void stop() {
        if (container != null) {
            throw new UnsupportedOperationException("stop/restart needs the local mosquitto, not a container");
        }
        NsdServer.stopTree(process);
    }

    /** Starts the local broker again with the same configuration on the same port. */
    public void restart() {
        if (container != null) {
            throw new UnsupportedOperationException("stop/restart needs the local mosquitto, not a container");
        }
        try {
            process = launch(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitListening();
    }

    /** The directory holding the local broker's config, log and (if enabled) persistence file. */
    public Path dir() {
        return dir;
    }

    private static MosquittoBroker startContainer(String config, Map<String, String> files) {
        String conf = "listener " + MQTT_PORT + "\n"
                + "persistence false\n"
                + "log_dest stdout\n"
                + config.replace("${dir}", CONTAINER_DIR);
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withExposedPorts(MQTT_PORT)
                .withCopyToContainer(Transferable.of(conf), CONTAINER_DIR + "/mosquitto.conf")
                .waitingFor(Wait.forListeningPort().withStartupTimeout(START_TIMEOUT.multipliedBy(4)));
        files.forEach((name, content) ->
                container.withCopyToContainer(Transferable.of(content), CONTAINER_DIR + "/" + name));
        container.start();
        return new MosquittoBroker(container.getHost(), container.getMappedPort(MQTT_PORT), null, null, container);
    }

    private void awaitListening() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String log = log();
                NsdServer.deleteTree(dir);
                throw new IllegalStateException("mosquitto exited with " + process.exitValue() + "\n" + log);
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(50); // polling interval
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
        String log = log();
        close();
        throw new IllegalStateException("mosquitto not listening on " + url() + " within " + START_TIMEOUT + "\n" + log);
    }

    /** Whether a Docker engine answers; any Error from a broken set-up counts as "no". */
    static synchronized boolean isDockerAvailable() {
        if (dockerAvailable == null) {
            try {
                dockerAvailable = DockerClientFactory.instance().isDockerAvailable();
            } catch (Throwable noDocker) {
                dockerAvailable = false;
            }
        }
        return dockerAvailable;
    }
}
