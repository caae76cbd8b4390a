package org.dnssec2mqtt.support;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * A Paho MQTT v3 client that subscribes to a topic filter at QoS 1 and records every message, so a
 * test can wait for what the bridge publishes and print everything it saw when the wait fails.
 *
 * <pre>{@code
 * try (MqttRecorder mqtt = new MqttRecorder(broker.url(), "dnssec/#")) {
 *     MqttRecorder.Received state = mqtt.await(m -> m.topic().equals("dnssec/example.test/state"), Duration.ofSeconds(10));
 * }
 * }</pre>
 */
public final class MqttRecorder implements AutoCloseable {
    /**
     * One message as it arrived: {@code retained} is the RETAIN flag on delivery (true only for the
     * retained message replayed at subscribe time), {@code nanos} is {@link System#nanoTime()},
     * {@code duplicate} the DUP flag (the broker delivers a QoS 1 message again, e.g. after its
     * restart, because it never saw our acknowledgement).
     */
    public record Received(String topic, String payload, boolean retained, int qos, long nanos, boolean duplicate) {
        public Received(String topic, String payload, boolean retained, int qos, long nanos) {
            this(topic, payload, retained, qos, nanos, false);
        }

        @Override
        public String toString() {
            return topic + (retained ? " [retained] " : " ") + (duplicate ? "[dup] " : "") + payload;
        }
    }

    private static final long TIME_TO_WAIT_MS = 10_000;

    private final MqttClient client;
    private final String filter;
    /** Guarded by itself; Paho's callback thread appends, test threads read and wait on it. */
    private final List<Received> messages = new ArrayList<>();

    /** Connects to {@code url} (e.g. {@code tcp://127.0.0.1:1883}) anonymously and subscribes to {@code filter}. */
    public MqttRecorder(String url, String filter) {
        this(url, filter, null, null);
    }

    /** Connects with a user name and password (null for anonymous) and subscribes to {@code filter}. */
    public MqttRecorder(String url, String filter, String user, String password) {
        this(url, filter, user, password, null);
    }

    /**
     * A recorder with a persistent session ({@code cleanSession=false}) under {@code clientId} that
     * reconnects by itself: it survives a broker restart (with broker persistence) without losing
     * the QoS 1 messages published while it was away.
     */
    public static MqttRecorder persistent(String url, String filter, String clientId) {
        return new MqttRecorder(url, filter, null, null, clientId);
    }

    private MqttRecorder(String url, String filter, String user, String password, String persistentId) {
        this.filter = filter;
        try {
            // MemoryPersistence: the default file persistence would write folders into the working directory
            client = new MqttClient(url, persistentId != null ? persistentId : "recorder-" + UUID.randomUUID(),
                    new MemoryPersistence());
            client.setTimeToWait(TIME_TO_WAIT_MS); // the default waits forever
            client.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                    record(new Received("(connection lost)", String.valueOf(cause), false, 0, System.nanoTime()));
                }

                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    // no blocking calls in here: Paho's callback thread would deadlock
                    record(new Received(topic, new String(message.getPayload(), StandardCharsets.UTF_8),
                            message.isRetained(), message.getQos(), System.nanoTime(), message.isDuplicate()));
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {}
            });
            MqttConnectOptions options = new MqttConnectOptions();
            options.setCleanSession(persistentId == null);
            options.setAutomaticReconnect(persistentId != null);
            options.setMaxReconnectDelay(500);
            options.setConnectionTimeout(10);
            options.setMaxInflight(100); // the default 10 fails quick bursts of QoS 1 publishes
            if (user != null) {
                options.setUserName(user);
                options.setPassword(password.toCharArray());
            }
            for (int attempt = 1; ; attempt++) {
                try {
                    client.connect(options);
                    client.subscribe(filter, 1);
                    if (user != null || !filter.endsWith("#") || subscriptionWorks()) {
                        break;
                    }
                    // Moquette 0.17 sometimes takes a connection in its first moments but never
                    // delivers to it: start again
                    client.disconnect();
                    if (attempt == 3) {
                        throw new IllegalStateException("the broker at " + url + " delivers nothing to " + filter);
                    }
                } catch (MqttException e) {
                    // Moquette 0.17 now and then drops a connection that arrives while it is still
                    // settling in (the subscribe then meets Paho still tearing it down: "currently
                    // disconnecting"); a refused login is not retried
                    boolean dropped = e.getReasonCode() == MqttException.REASON_CODE_CONNECTION_LOST
                            || e.getReasonCode() == MqttException.REASON_CODE_CLIENT_DISCONNECTING;
                    if (!dropped || attempt == 5) {
                        throw e;
                    }
                    if (client.isConnected()) {
                        client.disconnect();
                    }
                    try {
                        Thread.sleep(100L * attempt); // back-off before the next attempt, while Paho's teardown ends
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        } catch (MqttException e) {
            throw new IllegalStateException("cannot subscribe to " + filter + " at " + url + ": " + e, e);
        }
    }

    /** Publishes at QoS 1 from the test thread (e.g. a command to the bridge, or a stale retained message). */
    public void publish(String topic, String payload, boolean retained) {
        try {
            client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, retained);
        } catch (MqttException e) {
            throw new IllegalStateException("cannot publish to " + topic + ": " + e, e);
        }
    }

    /** Publishes at QoS 0: no wait for an acknowledgement, so a loop of these is a real burst. */
    public void publishBurst(String topic, String payload) {
        try {
            client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 0, false);
        } catch (MqttException e) {
            throw new IllegalStateException("cannot publish to " + topic + ": " + e, e);
        }
    }

    /** Publishes raw bytes at QoS 1 (binary or huge payloads). */
    public void publish(String topic, byte[] payload) {
        try {
            client.publish(topic, payload, 1, false);
        } catch (MqttException e) {
            throw new IllegalStateException("cannot publish to " + topic + ": " + e, e);
        }
    }

    /**
     * Waits until the bridge using {@code prefix} on this broker has subscribed to its requests: a
     * request published before that is lost (requests are not retained), so a test must call this
     * before its first request. Asks an unknown command, which the bridge answers with an error
     * and nothing else, until an answer comes; then forgets the probe's answers. The recorder's
     * filter must cover {@code <prefix>/_bridge/response/probe}.
     */
    public void awaitBridgeListening(String prefix, Duration timeout) {
        String response = prefix + "/_bridge/response/probe";
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            publish(prefix + "/_bridge/request/probe", "probe", false);
            try {
                await(response, Duration.ofMillis(250));
                break;
            } catch (AssertionError notYet) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the bridge did not answer a request on " + prefix
                            + "/_bridge/request/probe within " + timeout + "; received:\n" + dump(), notYet);
                }
            }
        }
        synchronized (messages) {
            messages.removeIf(m -> m.topic().equals(response));
        }
    }

    /** Everything received so far, in arrival order. */
    public List<Received> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** Forgets everything received so far. */
    public void clear() {
        synchronized (messages) {
            messages.clear();
        }
    }

    /** Waits for the first message (received before or during the wait) that matches; fails with a dump on timeout. */
    public Received await(Predicate<Received> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            while (true) {
                for (Received message : messages) {
                    if (match.test(message)) {
                        return message;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching message on " + filter + " within " + timeout
                            + "; received:\n" + dump());
                }
                waitOn(left);
            }
        }
    }

    /** Waits for the first message on exactly {@code topic}. */
    public Received await(String topic, Duration timeout) {
        return await(message -> message.topic().equals(topic), timeout);
    }

    /** Fails if a matching message arrives within {@code window} (or has already arrived). */
    public void expectNone(Predicate<Received> match, Duration window) {
        long deadline = System.nanoTime() + window.toNanos();
        synchronized (messages) {
            while (true) {
                for (Received message : messages) {
                    if (match.test(message)) {
                        throw new AssertionError("unexpected message " + message + "; received:\n" + dump());
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                waitOn(left);
            }
        }
    }

    /**
     * The latest payload received on {@code topic} (what a new subscriber would get as retained,
     * if the publisher retains); empty when nothing came or the last payload was empty (a cleared topic).
     */
    public Optional<String> retained(String topic) {
        synchronized (messages) {
            for (int i = messages.size() - 1; i >= 0; i--) {
                Received message = messages.get(i);
                if (message.topic().equals(topic)) {
                    return message.payload().isEmpty() ? Optional.empty() : Optional.of(message.payload());
                }
            }
        }
        return Optional.empty();
    }

    /** Every message received so far, one a line, with milliseconds since the first. */
    public String dump() {
        List<Received> all = messages();
        if (all.isEmpty()) {
            return "  (nothing)";
        }
        long start = all.get(0).nanos();
        StringBuilder text = new StringBuilder();
        for (Received message : all) {
            text.append(String.format("  +%5d ms %s%n", (message.nanos() - start) / 1_000_000, message));
        }
        return text.toString();
    }

    /** Disconnects (with a time limit) and releases Paho's threads. */
    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnect(2_000);
            }
        } catch (MqttException e) {
            try {
                client.disconnectForcibly(1_000, 1_000);
            } catch (MqttException ignored) {
                // closing anyway
            }
        }
        try {
            client.close();
        } catch (MqttException ignored) {
            // Paho threads are gone or going; nothing left to do
        }
    }

    /** Publishes a probe under the filter and waits for it (then forgets it): the subscription is live. */
    private boolean subscriptionWorks() throws MqttException {
        String probe = filter.substring(0, filter.length() - 1).replace("+", "_probe") + "_probe/" + UUID.randomUUID();
        client.publish(probe, new byte[] {'p'}, 1, false);
        long deadline = System.nanoTime() + 2_000_000_000L;
        synchronized (messages) {
            while (messages.stream().noneMatch(m -> m.topic().equals(probe))) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                waitOn(left);
            }
            messages.removeIf(m -> m.topic().equals(probe));
        }
        return true;
    }

    private void record(Received message) {
        synchronized (messages) {
            messages.add(message);
            messages.notifyAll();
        }
    }

    private void waitOn(long nanos) {
        try {
            // wakes on every new message (notifyAll in record) or at the deadline
            messages.wait(Math.max(1, nanos / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for MQTT messages", e);
        }
    }
}
