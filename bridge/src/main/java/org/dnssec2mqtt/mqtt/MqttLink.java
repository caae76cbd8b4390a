package org.dnssec2mqtt.mqtt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge's one MQTT connection, to the embedded or an external broker alike. Publishes are
 * QoS 1 and never block on a dead broker: what cannot be sent is parked (retained topics: latest
 * value per topic; events: a bounded queue) and sent after the next connect, right after the
 * {@link Session#connected} hook has republished the full retained state.
 *
 * <p>Paho deadlocks when a callback makes a blocking client call, so every callback only hands
 * work to our own single "mqtt-session" thread.
 */
public final class MqttLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MqttLink.class);
    private static final int QOS = 1;
    /** Publishes awaiting PUBACK at once; Paho's own limit is set above this. */
    private static final int IN_FLIGHT = 1000;
    /** Events kept while the broker is away; beyond it the oldest are dropped (and counted). */
    static final int MAX_PARKED_EVENTS = 10_000;
    /** How long after a connect retained key topics are collected for the sweep (see {@link #sweep}). */
    static final long SWEEP_WINDOW_MS = 2_000;

    /** What the bridge does when the session (re)starts and when a request arrives. */
    public interface Session {
        /** Called on the session thread after every connect: republish everything retained. */
        void connected();

        /** Called on the session thread for each message on the request filter or an extra filter. */
        void request(String topic, byte[] payload);
    }

    /** Connection settings, from the config. */
    public record Settings(String url, String clientId, String username, String password, Path caFile) {}

    private final Settings settings;
    private final Topics topics;
    private final Session session;
    private final MqttAsyncClient client;
    private final ExecutorService sessionThread;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    private final Map<String, byte[]> parkedRetained = new LinkedHashMap<>();
    private final Deque<Parked> parkedEvents = new ArrayDeque<>();
    private final AtomicLong droppedEvents = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    private final List<String> extraFilters = new CopyOnWriteArrayList<>();
    private volatile boolean closing;
    private Thread connector;
    /** {@link System#nanoTime()} when the connection was lost; 0 while connected. */
    private final AtomicLong lostAt = new AtomicLong();
    private final AtomicLong outages = new AtomicLong();
    /** A drain of parked messages is queued on the session thread (see {@link #park}). */
    private final java.util.concurrent.atomic.AtomicBoolean drainQueued = new java.util.concurrent.atomic.AtomicBoolean();

    /** Retained topics the bridge published (or cleared) since the latest connect. */
    private final java.util.Set<String> retainedSinceConnect = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Non-empty key topics the broker replayed after the latest connect that we did not publish. */
    private final java.util.Set<String> foundRetained = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicLong swept = new AtomicLong();
    private volatile boolean sweeping;

    private record Parked(String topic, byte[] payload) {}

    public MqttLink(Settings settings, Topics topics, Session session) throws MqttException {
        this.settings = settings;
        this.topics = topics;
        this.session = session;
        // MemoryPersistence: the default file persistence writes folders into the working directory.
        this.client = new MqttAsyncClient(settings.url(), settings.clientId(), new MemoryPersistence());
        this.sessionThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mqtt-session");
            t.setDaemon(true);
            return t;
        });
        client.setCallback(new Callback());
    }

    /** Also subscribes to the exact topic {@code filter} on every connect (e.g. Home Assistant's status), its messages going to {@link Session#request}; call before {@link #start}. */
    public void subscribe(String filter) {
        extraFilters.add(filter);
    }

    /** Connects in the background, retrying until the broker answers; returns at once. */
    public void start() throws IOException {
        MqttConnectOptions options = options();
        connector = new Thread(() -> connectLoop(options), "mqtt-connect");
        connector.setDaemon(true);
        connector.start();
    }

    private MqttConnectOptions options() throws IOException {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setAutomaticReconnect(true);
        // Paho's default doubles up to two minutes; a broker back after an outage should see us in seconds.
        o.setMaxReconnectDelay(4_000);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(30);
        o.setMaxInflight(IN_FLIGHT * 2);
        o.setWill(topics.bridgeState(), Payloads.offline().getBytes(StandardCharsets.UTF_8), QOS, true);
        if (settings.username() != null) {
            o.setUserName(settings.username());
        }
        if (settings.password() != null) {
            o.setPassword(settings.password().toCharArray());
        }
        if (settings.caFile() != null) {
            o.setSocketFactory(sslContext(settings.caFile()).getSocketFactory());
        }
        return o;
    }

    private void connectLoop(MqttConnectOptions options) {
        long delay = 250;
        while (!closing) {
            try {
                client.connect(options).waitForCompletion(15_000);
                return; // from here on Paho's automatic reconnect takes over
            } catch (MqttException e) {
                connectFailures.incrementAndGet();
                log.warn("mqtt: cannot connect to {}: {} (reason {}); retrying in {} ms",
                        settings.url(), e.getMessage(), e.getReasonCode(), delay);
            }
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            delay = Math.min(delay * 2, 4_000);
        }
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    /** Publishes a retained message; an empty payload clears the topic. */
    public void retain(String topic, String payload) {
        publish(topic, payload.getBytes(StandardCharsets.UTF_8), true);
    }

    /** Publishes a non-retained message. */
    public void send(String topic, String payload) {
        publish(topic, payload.getBytes(StandardCharsets.UTF_8), false);
    }

    /** First-connect attempts that failed so far. */
    public long connectFailures() {
        return connectFailures.get();
    }

    /** How many publishes the broker acknowledged. */
    public long published() {
        return published.get();
    }

    /** How many times the connection was lost and came back. */
    public long outages() {
        return outages.get();
    }

    /** How many events were dropped because the broker was away too long. */
    public long droppedEvents() {
        return droppedEvents.get();
    }

    private void publish(String topic, byte[] payload, boolean retained) {
        if (retained) {
            retainedSinceConnect.add(topic);
        }
        if (!client.isConnected()) {
            park(topic, payload, retained);
            return;
        }
        try {
            if (!inFlight.tryAcquire(5, TimeUnit.SECONDS)) {
                park(topic, payload, retained);
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            park(topic, payload, retained);
            return;
        }
        try {
            client.publish(topic, payload, QOS, retained, null, new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    inFlight.release();
                    published.incrementAndGet();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    inFlight.release();
                    park(topic, payload, retained);
                }
            });
        } catch (MqttException e) {
            inFlight.release();
            park(topic, payload, retained);
        }
    }

    private void park(String topic, byte[] payload, boolean retained) {
        if (closing) {
            return;
        }
        synchronized (this) {
            if (retained) {
                parkedRetained.remove(topic);
                parkedRetained.put(topic, payload);
            } else {
                if (parkedEvents.size() >= MAX_PARKED_EVENTS) {
                    parkedEvents.removeFirst();
                    long n = droppedEvents.incrementAndGet();
                    if (n == 1 || n % 1000 == 0) {
                        log.warn("mqtt: broker away too long; {} events dropped so far (queue holds {})",
                                n, MAX_PARKED_EVENTS);
                    }
                }
                parkedEvents.addLast(new Parked(topic, payload));
            }
        }
        // A publish that saw "disconnected" just before the reconnect drained the parking lot would
        // wait there until the next outage: if we are connected by now, drain again.
        if (client.isConnected() && drainQueued.compareAndSet(false, true)) {
            try {
                sessionThread.execute(this::drain);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                drainQueued.set(false); // closing
            }
        }
    }

    /** Sends what was parked while connected (session thread). */
    private void drain() {
        drainQueued.set(false);
        if (!client.isConnected()) {
            return; // the next connect drains
        }
        Held held = takeHeld();
        held.retained().forEach((t, p) -> publish(t, p, true));
        held.events().forEach(p -> publish(p.topic(), p.payload(), false));
    }

    /** What was parked while the broker was away: latest value per retained topic, and events. */
    private record Held(Map<String, byte[]> retained, Deque<Parked> events) {}

    private synchronized Held takeHeld() {
        Held held = new Held(new LinkedHashMap<>(parkedRetained), new ArrayDeque<>(parkedEvents));
        parkedRetained.clear();
        parkedEvents.clear();
        return held;
    }

    private void onConnected(boolean reconnect) {
        long lost = lostAt.getAndSet(0);
        int heldEvents;
        int heldRetained;
        synchronized (this) {
            heldEvents = parkedEvents.size();
            heldRetained = parkedRetained.size();
        }
        if (lost != 0) {
            outages.incrementAndGet();
            // Say how long subscribers were left without news, and what is caught up now.
            log.warn("mqtt: broker {} was away for {} s; reconnected, republishing the retained state, "
                    + "{} retained updates and {} events held meanwhile{}", settings.url(),
                    String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - lost) / 1e9),
                    heldRetained, heldEvents,
                    droppedEvents.get() == 0 ? "" : " (" + droppedEvents.get() + " events dropped: queue full)");
        } else {
            log.info("mqtt: {} to {}", reconnect ? "reconnected" : "connected", settings.url());
        }
        List<String> filters = new ArrayList<>(List.of(topics.requestFilter()));
        filters.addAll(extraFilters);
        for (String filter : filters) {
            try {
                client.subscribe(filter, QOS).waitForCompletion(10_000);
            } catch (MqttException e) {
                log.warn("mqtt: cannot subscribe to {}: {}", filter, e.getMessage());
            }
        }
        retainedSinceConnect.clear();
        foundRetained.clear();
        sweeping = true;
        try {
            client.subscribe(keysFilter(), QOS).waitForCompletion(10_000);
            CompletableFuture.runAsync(this::sweep,
                    CompletableFuture.delayedExecutor(SWEEP_WINDOW_MS, TimeUnit.MILLISECONDS, sessionThread));
        } catch (MqttException | java.util.concurrent.RejectedExecutionException e) {
            sweeping = false;
            log.debug("mqtt: no sweep of stale key topics: cannot subscribe to {}: {}", keysFilter(), e.getMessage());
        }
        retain(topics.bridgeState(), Payloads.online());
        Held held = takeHeld();
        Map<String, byte[]> retained = held.retained();
        Deque<Parked> events = held.events();
        // Parked values first (they hold clears of topics that are gone), then the truth.
        retained.forEach((t, p) -> publish(t, p, true));
        try {
            session.connected();
        } catch (RuntimeException e) {
            log.error("mqtt: republishing state after connect failed", e);
        }
        if (!events.isEmpty()) {
            log.info("mqtt: sending {} events held while the broker was away", events.size());
        }
        events.forEach(p -> publish(p.topic(), p.payload(), false));
    }

    private String keysFilter() {
        return topics.prefix() + "/+/keys/#";
    }

    /**
     * Clears retained key topics that the broker still holds but the bridge no longer publishes:
     * left behind when the process died after saving a zone's new state but before the clear of a
     * removed key reached the broker, or when state files were lost. Runs once per connect,
     * {@link #SWEEP_WINDOW_MS} after subscribing to the key topics (brokers replay retained
     * messages right after SUBACK); a topic the bridge published meanwhile is never touched.
     * Needs read access to {@code <prefix>/+/keys/#}; without it nothing arrives and nothing is swept.
     */
    private void sweep() {
        sweeping = false;
        try {
            if (client.isConnected()) {
                client.unsubscribe(keysFilter()).waitForCompletion(10_000);
            }
        } catch (MqttException e) {
            log.debug("mqtt: unsubscribe {}: {}", keysFilter(), e.getMessage());
        }
        int n = 0;
        for (String topic : foundRetained) {
            if (!retainedSinceConnect.contains(topic)) {
                log.info("mqtt: clearing stale retained topic {}: no such key in the bridge's state", topic);
                publish(topic, new byte[0], true);
                n++;
            }
        }
        foundRetained.clear();
        swept.addAndGet(n);
    }

    /** Stale retained key topics cleared by the sweeps after connects. */
    public long swept() {
        return swept.get();
    }

    /** Publishes offline (a retained last will is not stored by every broker), then disconnects. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        try {
            if (client.isConnected()) {
                IMqttDeliveryToken t = client.publish(topics.bridgeState(),
                        Payloads.offline().getBytes(StandardCharsets.UTF_8), QOS, true);
                t.waitForCompletion(2_000);
            }
        } catch (MqttException e) {
            log.debug("mqtt: offline state not sent: {}", e.getMessage());
        }
        closing = true;
        if (connector != null) {
            connector.interrupt();
        }
        try {
            if (client.isConnected()) {
                client.disconnect(2_000).waitForCompletion(3_000);
            }
        } catch (MqttException e) {
            log.debug("mqtt: disconnect: {}", e.getMessage());
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            log.debug("mqtt: close: {}", e.getMessage());
        }
        sessionThread.shutdownNow();
    }

    private static SSLContext sslContext(Path caFile) throws IOException {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new IOException("mqtt.ca-file: no certificate in " + caFile);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("mqtt.ca-file: cannot use " + caFile + ": " + e.getMessage(), e);
        }
    }

    private final class Callback implements MqttCallbackExtended {
        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            sessionThread.execute(() -> onConnected(reconnect));
        }

        @Override
        public void connectionLost(Throwable cause) {
            lostAt.compareAndSet(0, System.nanoTime());
            log.warn("mqtt: connection to {} lost: {}; reconnecting", settings.url(),
                    cause == null ? "unknown reason" : cause.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            byte[] payload = message.getPayload();
            if (topics.commandOf(topic) == null && !extraFilters.contains(topic)) {
                // a key topic replayed for the sweep (or our own publish echoed back)
                if (sweeping && payload.length > 0 && !retainedSinceConnect.contains(topic)) {
                    foundRetained.add(topic);
                }
                return;
            }
            sessionThread.execute(() -> {
                try {
                    session.request(topic, payload);
                } catch (RuntimeException e) {
                    log.error("mqtt: request on {} failed", topic, e);
                }
            });
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
            // accounted in the per-publish listener
        }
    }
}
