package org.dnssec2mqtt.broker;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Moquette broker used when no {@code mqtt.url} is configured. The bridge still
 * talks to it through Paho over loopback, so embedded and external brokers share one code path.
 */
public final class EmbeddedBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);

    /** Quiet period of the broker's event loops at stop, see {@link #stopEventLoopsNow}. */
    private static final long QUIET_MS = 100;

    private final InetSocketAddress listen;
    private final Path dataDir;
    private Server server;

    /**
     * @param dataDir where retained messages persist across restarts ({@code <data.dir>/moquette})
     */
    public EmbeddedBroker(InetSocketAddress listen, Path dataDir) {
        this.listen = listen;
        this.dataDir = dataDir;
    }

    public void start() throws IOException {
        String host = listen.getAddress().getHostAddress();
        // Moquette logs a bind failure and carries on; find out first, with a clear message.
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(listen);
        } catch (IOException e) {
            throw new IOException("mqtt.embedded.listen: cannot bind " + host + ":" + listen.getPort()
                    + ": " + e.getMessage() + "; choose another port or set mqtt.url to use a running broker", e);
        }
        Files.createDirectories(dataDir);
        Properties p = new Properties();
        p.setProperty("host", host);
        p.setProperty("port", String.valueOf(listen.getPort()));
        p.setProperty("allow_anonymous", "true");
        // Moquette 0.17 posts telemetry to an outside host unless told not to.
        p.setProperty("telemetry_enabled", "false");
        p.setProperty("persistence_enabled", "true");
        p.setProperty("data_path", dataDir.toAbsolutePath().toString());
        p.setProperty("websocket_port", "disabled");
        // mosquitto_sub/_pub 2.x send an empty client id and let the broker assign one (MQTT 3.1.1 §3.1.3.1)
        p.setProperty("allow_zero_byte_client_id", "true");
        // Moquette's defaults (1,024 queued messages per session, 8,092-byte packets) disconnect a
        // dashboard that falls behind a burst of thousands of zones, and refuse a 64 KiB request.
        p.setProperty("session_queue_size", "65536");
        p.setProperty("netty.mqtt.message_size", "1048576");
        long t0 = System.nanoTime();
        server = new Server();
        server.startServer(new MemoryConfig(p));
        log.info("mqtt: embedded broker on {}:{} (data {}) started in {} ms", host, listen.getPort(), dataDir,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /** {@code tcp://host:port} for Paho. */
    public String url() {
        String host = listen.getAddress().getHostAddress();
        return "tcp://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + listen.getPort();
    }

    /**
     * Stops the broker; its retained store (H2) is written and closed. Call it after the bridge's
     * own client has published {@code offline} and disconnected.
     */
    @Override
    public void close() {
        if (server != null) {
            long t0 = System.nanoTime();
            stopEventLoopsNow(server);
            server.stopServer();
            server = null;
            log.debug("mqtt: embedded broker stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /**
     * Moquette 0.17's {@code stopServer()} ends its Netty event loops with Netty's default graceful
     * shutdown, which waits for a 2 s quiet period (no new task) before a loop may end: that was 2 of
     * the 2.2 s a SIGTERM took. Nothing needs that long here: the bridge's client has had
     * {@code offline} acknowledged (Moquette stores a retained message before it sends PUBACK) and
     * has disconnected, and the H2 store is written and closed by {@code stopServer()} after the
     * loops end. A quiet period is still needed, only shorter: Moquette handles a DISCONNECT on its
     * own session thread, which then posts to the Netty loop; a loop already gone logs a
     * {@code RejectedExecutionException} at ERROR (seen with no quiet period, 1 stop in 4). That
     * post came 2 ms after the stop began on a loaded machine: 100 ms leaves a wide margin. What
     * remains of the stop is mostly H2 writing and syncing its file (~120 ms), which must stay.
     * Started here first, Moquette's own {@code shutdownGracefully()} returns the termination
     * already under way (Netty ignores a second call). The fields are Moquette internals (pinned
     * to 0.17 in the parent POM): if they are not found, the stop is just slower.
     */
    private static void stopEventLoopsNow(Server server) {
        try {
            Field acceptorField = Server.class.getDeclaredField("acceptor");
            acceptorField.setAccessible(true);
            Object acceptor = acceptorField.get(server);
            for (String name : List.of("workerGroup", "bossGroup")) {
                Field groupField = acceptor.getClass().getDeclaredField(name);
                groupField.setAccessible(true);
                ((EventLoopGroup) groupField.get(acceptor)).shutdownGracefully(QUIET_MS, 1000, TimeUnit.MILLISECONDS);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("mqtt: cannot shorten the embedded broker's stop; it takes about 2 s", e);
        }
    }
}
