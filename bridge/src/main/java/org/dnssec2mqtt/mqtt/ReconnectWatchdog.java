package org.dnssec2mqtt.mqtt;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one Paho client's automatic reconnect. Paho 1.2.5 (its last release) can hang a
 * reconnect for good: when the new connection drops while its connect is still starting (a broker
 * restarted twice in a row, or closing connections as it comes up), Paho's connect thread waits
 * forever for a sender thread that has already stopped; the attempt never ends and no other is
 * made. Seen in the cluster test: a node whose broker restarted twice never came back. A client
 * disconnected for longer than {@link #HUNG_MS} gets its attempt dropped and a new one started.
 * (The hung Paho thread itself cannot be freed; it stays asleep.) Each watchdog has its own timer
 * thread: dropping an attempt goes through Paho, and a drop that blocks there must not stop the
 * other connection's watchdog.
 */
public final class ReconnectWatchdog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReconnectWatchdog.class);
    /**
     * Longer than one attempt of Paho's that is not hung (the connect timeout, 10 s). While the
     * broker stays away the watchdog restarts Paho's cycle this often: harmless, the attempts fail fast.
     */
    static final long HUNG_MS = 12_000;
    private static final long CHECK_MS = 2_000;

    private final MqttAsyncClient client;
    private final String what;
    private final BooleanSupplier wanted;
    /** {@link System#nanoTime()} of the loss, or of the latest restarted attempt; 0 while connected. */
    private final AtomicLong lostAt = new AtomicLong();
    private final ScheduledExecutorService timer;

    /**
     * @param what the connection in log lines ("cluster node a", say)
     * @param wanted whether the connection should be up now (false while paused or closing)
     */
    public ReconnectWatchdog(MqttAsyncClient client, String what, BooleanSupplier wanted) {
        this.client = client;
        this.what = what;
        this.wanted = wanted;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mqtt-watchdog");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
    }

    /** The connection was lost (Paho's connectionLost). */
    public void lost() {
        lostAt.compareAndSet(0, System.nanoTime());
    }

    /** The connection is up (Paho's connectComplete). */
    public void connected() {
        lostAt.set(0);
    }

    void check() {
        long at = lostAt.get();
        if (at == 0 || client.isConnected() || !wanted.getAsBoolean()) {
            return;
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - at);
        if (ms < HUNG_MS) {
            return;
        }
        log.warn("mqtt: {} has not reconnected to {} for {} s; dropping the attempt and starting a new one",
                what, client.getServerURI(), ms / 1000);
        lostAt.set(System.nanoTime());
        restart(client);
    }

    /** Drops the client's current connect attempt, hung or not, and starts a new one. */
    static void restart(MqttAsyncClient client) {
        dropAttempt(client);
        try {
            client.reconnect();
        } catch (MqttException e) {
            log.warn("mqtt: a new connect attempt to {} could not start: {}", client.getServerURI(), e.getMessage());
        }
    }

    /** Ends a connect attempt that did not finish in time, so that the next {@code connect} may start. */
    static void dropAttempt(MqttAsyncClient client) {
        try {
            client.disconnectForcibly(0, 0, false);
        } catch (MqttException e) {
            log.debug("mqtt: dropping a connect attempt: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
