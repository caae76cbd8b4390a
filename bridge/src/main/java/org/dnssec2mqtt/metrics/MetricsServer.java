package org.dnssec2mqtt.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code /metrics} in the Prometheus text format with the official client's HTTP server,
 * bound to exactly the configured address (loopback unless the operator names another).
 * One daemon thread answers scrapes: Prometheus scrapes one at a time, and it must not keep the
 * JVM alive.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final HTTPServer server;
    private final ExecutorService executor;
    private final InetSocketAddress address;

    private MetricsServer(HTTPServer server, ExecutorService executor, InetSocketAddress address) {
        this.server = server;
        this.executor = executor;
        this.address = address;
    }

    /**
     * Binds {@code address} and starts serving {@code registry}.
     *
     * @throws IOException naming the address and, in the user's terms, why it cannot be bound
     */
    public static MetricsServer start(InetSocketAddress address, PrometheusRegistry registry) throws IOException {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-http");
            t.setDaemon(true);
            return t;
        });
        HTTPServer server;
        try {
            server = HTTPServer.builder()
                    .inetAddress(address.getAddress())
                    .port(address.getPort())
                    .registry(registry)
                    .executorService(executor)
                    .buildAndStart();
        } catch (IOException e) {
            executor.shutdownNow();
            String why = e instanceof BindException ? "address already in use or not on this machine"
                    : e.getMessage();
            throw new IOException("metrics.listen " + text(address) + ": cannot listen: " + why, e);
        }
        InetSocketAddress bound = new InetSocketAddress(address.getAddress(), server.getPort());
        log.info("metrics on http://{}/metrics", text(bound));
        return new MetricsServer(server, executor, bound);
    }

    /** The bound address (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        server.close();
        executor.shutdownNow();
    }

    static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
