package org.dnssec2mqtt.mqtt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
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
 * QoS 1 and go out in the order they were made: a message made while nothing waits is handed to
 * Paho on the caller's thread (a check's first key message then reaches the broker without waking
 * another thread first); otherwise it waits in the queue for the "mqtt-send" thread, which hands
 * messages over one at a time within the in-flight window. While connected, a caller that finds
 * {@link #HIGH_WATER} messages queued waits for the sender to take half of them (at most
 * {@link #MAX_WAIT_MS}): checks that outrun the broker are held back rather than growing the queue
 * or dropping events (a 100,000-zone burst dropped 30,000 {@code zone_added} events to a broker that
 * was there, with the queue's messages most of the heap's growth).
 *
 * <p>After every connect the link first reads back what the broker retains under the bridge's
 * own topics ({@link Session#ownFilters}): it subscribes to them, publishes its {@code online}
 * state (which carries the time of this connect, so it is told apart from an older one), and
 * everything that arrives before that echo is the broker's retained copy. {@link
 * Session#reconcile} then publishes only what differs. So a restart, a reconnect or a broker that
 * lost its store all end with the retained topics equal to the bridge's state and nothing sent
 * twice. Retained messages queued when the connection drops are discarded (the next reconcile
 * covers them); events wait for the broker, up to {@link #MAX_PARKED_EVENTS}.
 *
 * <p>Paho deadlocks when a callback makes a blocking client call, so every callback only hands
 * work to our own single "mqtt-session" thread.
 */
public final class MqttLink implements Outbox, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MqttLink.class);
    private static final int QOS = 1;
    /** Publishes awaiting PUBACK at once; Paho's own limit is set above this. */
    private static final int IN_FLIGHT = 1000;
    /** Events kept while the broker is away; beyond it the oldest are dropped (and counted). */
    static final int MAX_PARKED_EVENTS = 10_000;
    /**
     * Queued messages at which a caller waits for the sender while connected (backpressure), until
     * half of them are gone: the waiting checks wake once per 5,000 messages, not for each. No more
     * than the events the queue may park, so a connected broker never has events dropped.
     */
    static final int HIGH_WATER = 10_000;
    /** The longest a caller waits for room; a broker that takes nothing for this long counts as away. */
    static final long MAX_WAIT_MS = 10_000;
    /**
     * How long a connect's read-back of the broker's retained copy may receive nothing before it
     * reconciles with what came (the copy then counts as empty). Not a bound on the whole
     * read-back, which grows with the zones (237,000 topics take several seconds).
     */
    static final long READ_BACK_IDLE_MS = 10_000;

    /** What the bridge does when the session (re)starts and when a request arrives. */
    public interface Session {
        /** Subscription filters of the bridge's own retained topics, read back after each connect. */
        List<String> ownFilters();

        /** An empty copy for the link to fill with what the broker retains under {@link #ownFilters}. */
        RetainedCopy newCopy();

        /**
         * Called on the session thread after every connect with what the broker retained under
         * {@link #ownFilters}, as {@link #newCopy} made it: publish what differs.
         */
        void reconcile(RetainedCopy retained);

        /** Called on the session thread for each message on the request filter or an extra filter. */
        void request(String topic, byte[] payload);
    }

    /** Told of the connection going up and down and of each acknowledged publish (metrics). */
    public interface Observer {
        void connection(boolean up);

        void published();
    }

    /** Connection settings, from the config. */
    public record Settings(String url, String clientId, String username, String password, Path caFile,
                           int keepaliveSeconds) {
        /** The same settings with another client id (a second connection of the same bridge). */
        public Settings withClientId(String id) {
            return new Settings(url, id, username, password, caFile, keepaliveSeconds);
        }
    }

    private record Out(String topic, byte[] payload, boolean retained) {}

    private final Settings settings;
    private final Topics topics;
    private final MqttAsyncClient client;
    private final ExecutorService sessionThread;
    private final Thread sender;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
    /**
     * Held by whoever hands a message to Paho (the sender thread, or a caller while the queue is
     * empty), so that messages go out in the order they were made. Taken after {@link #queue}'s
     * monitor only with {@code tryLock}, never waited for there.
     */
    private final ReentrantLock handing = new ReentrantLock();
    /** Guarded by itself: what waits to be sent, in order. */
    private final Deque<Out> queue = new ArrayDeque<>();
    /** Guarded by {@link #queue}: the sender may send (connected, retained queue purged). */
    private boolean sending;
    /** Guarded by {@link #queue}: how many of its messages are events (not retained). */
    private int queuedEvents;
    /** Guarded by {@link #queue}: callers waiting for room ({@link #HIGH_WATER}). */
    private int waitingForRoom;
    private final AtomicLong droppedEvents = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();
    private final AtomicLong reconciles = new AtomicLong();
    private final List<String> extraFilters = new CopyOnWriteArrayList<>();
    private volatile Session session;
    private volatile Observer observer = new Observer() {
        @Override
        public void connection(boolean up) {}

        @Override
        public void published() {}
    };
    private volatile boolean closing;
    /** Between {@link #pause} and {@link #start}: nothing is queued. */
    private volatile boolean paused;
    private Thread connector;
    /** {@link System#nanoTime()} when the connection was lost; 0 while connected. */
    private final AtomicLong lostAt = new AtomicLong();
    private final AtomicLong outages = new AtomicLong();
    /** While a connect reads back the retained topics: what arrived, and the echo to wait for. */
    private volatile RetainedCopy readBack;
    private volatile String onlineMarker;
    /** Messages of the current read-back so far (its progress). */
    private final AtomicLong readBackArrived = new AtomicLong();
    private volatile long readBackIdleMs = READ_BACK_IDLE_MS;
    /** The time of the current connect's online message; null before the first. */
    private volatile java.time.Instant onlineSince;
    /** Fields other parts add to the online message ({@link #onlineFields}). */
    private volatile java.util.function.Supplier<Map<String, Object>> onlineFields = Map::of;
    private volatile CountDownLatch echoed;
    /** {@link System#nanoTime()} when the broker took the latest online message (a DEBUG timing). */
    private volatile long onlineSent;
    private final ReconnectWatchdog watchdog;

    public MqttLink(Settings settings, Topics topics) throws MqttException {
        this.settings = settings;
        this.topics = topics;
        // MemoryPersistence: the default file persistence writes folders into the working directory.
        this.client = new MqttAsyncClient(settings.url(), settings.clientId(), new MemoryPersistence());
        this.sessionThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mqtt-session");
            t.setDaemon(true);
            return t;
        });
        this.sender = new Thread(this::sendLoop, "mqtt-send");
        sender.setDaemon(true);
        this.watchdog = new ReconnectWatchdog(client, "the bridge's connection", () -> !closing && !paused);
        client.setCallback(new Callback());
    }

    /** The bridge side of the session; call before {@link #start}. */
    public void attach(Session s) {
        this.session = s;
    }

    /** Who hears of connects, disconnects and publishes; call before {@link #start}. */
    public void observe(Observer o) {
        this.observer = o;
    }

    /** Also subscribes to the exact topic {@code filter} on every connect (e.g. Home Assistant's status), its messages going to {@link Session#request}; call before {@link #start}. */
    public void subscribe(String filter) {
        extraFilters.add(filter);
    }

    /** Fields after {@code state}, {@code version} and {@code since} in each online message; call before {@link #start}. */
    public void onlineFields(java.util.function.Supplier<Map<String, Object>> fields) {
        this.onlineFields = fields;
    }

    /**
     * Publishes the online message again with the fields as they are now (a part's state
     * changed); nothing while not connected: the next connect's online message has them.
     */
    public void republishOnline() {
        java.time.Instant since = onlineSince;
        if (since != null && client.isConnected()) {
            retain(topics.bridgeState(), Payloads.online(since, onlineFields.get()));
        }
    }

    /**
     * Connects in the background, retrying until the broker answers; returns at once. Also
     * connects again after {@link #pause}.
     */
    public synchronized void start() throws IOException {
        MqttConnectOptions options = options();
        paused = false;
        if (!sender.isAlive()) {
            sender.start();
        }
        connector = new Thread(() -> connectLoop(options), "mqtt-connect");
        connector.setDaemon(true);
        connector.start();
    }

    /**
     * Stops publishing without going offline: a clean disconnect (the last will is not sent) and
     * nothing queued is kept, nor anything published until {@link #start}. For a cluster node that
     * stands by again while another node is active.
     */
    public synchronized void pause() {
        paused = true;
        if (connector != null) {
            connector.interrupt();
        }
        synchronized (queue) {
            sending = false;
            queue.clear();
            queuedEvents = 0;
            queue.notifyAll(); // callers waiting for room: nothing is sent now
        }
        disconnect(client, false);
        log.info("mqtt: disconnected from {}: standing by", settings.url());
    }

    /**
     * A clean disconnect (the broker does not send the last will) when connected; {@code close}
     * then releases the client for good. Failures only at DEBUG: the connection is going anyway.
     */
    public static void disconnect(MqttAsyncClient client, boolean close) {
        try {
            if (client.isConnected()) {
                client.disconnect(500).waitForCompletion(1_000);
            }
        } catch (MqttException e) {
            log.debug("mqtt: disconnect: {}", e.getMessage());
        }
        if (close) {
            try {
                client.close(true);
            } catch (MqttException e) {
                log.debug("mqtt: close: {}", e.getMessage());
            }
        }
    }

    private MqttConnectOptions options() throws IOException {
        return connectOptions(settings, topics.bridgeState(), Payloads.offline());
    }

    /**
     * Connect options for a connection of the bridge to its broker: clean session, automatic
     * reconnect within seconds, the keepalive of the settings, and a retained last will.
     */
    public static MqttConnectOptions connectOptions(Settings settings, String willTopic, String willPayload)
            throws IOException {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setAutomaticReconnect(true);
        // Paho's default doubles up to two minutes; a broker back after an outage should see us in seconds.
        o.setMaxReconnectDelay(4_000);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(settings.keepaliveSeconds());
        o.setMaxInflight(IN_FLIGHT * 2);
        o.setWill(willTopic, willPayload.getBytes(StandardCharsets.UTF_8), QOS, true);
        if (settings.username() != null) {
            o.setUserName(settings.username());
        }
        if (settings.password() != null) {
            o.setPassword(settings.password().toCharArray());
        }
        if (settings.caFile() != null) {
            o.setSocketFactory(Tls.trusting(settings.caFile()).getSocketFactory());
        }
        return o;
    }

    private void connectLoop(MqttConnectOptions options) {
        connectUntilUp(client, options, () -> closing || paused, (e, delay) -> {
            connectFailures.incrementAndGet();
            log.warn("mqtt: cannot connect to {}: {} (reason {}); retrying in {} ms",
                    settings.url(), e.getMessage(), e.getReasonCode(), delay);
        });
    }

    /**
     * The first connect of a connection of the bridge: retried with a delay doubling from 250 ms to
     * 4 s until it succeeds, {@code stop} says so or the thread is interrupted; Paho's automatic
     * reconnect takes over after it.
     *
     * @param failed told of each failed attempt and the delay before the next
     */
    public static void connectUntilUp(MqttAsyncClient client, MqttConnectOptions options,
                                      java.util.function.BooleanSupplier stop,
                                      java.util.function.ObjLongConsumer<MqttException> failed) {
        long delay = 250;
        while (!stop.getAsBoolean()) {
            try {
                client.connect(options).waitForCompletion(15_000);
                return;
            } catch (MqttException e) {
                failed.accept(e, delay);
                if (e.getReasonCode() == MqttException.REASON_CODE_CLIENT_TIMEOUT
                        || e.getReasonCode() == MqttException.REASON_CODE_CONNECT_IN_PROGRESS) {
                    ReconnectWatchdog.dropAttempt(client); // see ReconnectWatchdog: the attempt may hang for good
                }
            }
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            delay = Math.min(delay * 2, 4_000);
        }
    }

    @Override
    public boolean isConnected() {
        return client.isConnected();
    }

    /** Counts connects: a retained topic sent in an earlier session may not be on the broker now. */
    @Override
    public long session() {
        return sessions.get();
    }

    /** Queues a retained message (an empty payload clears the topic); dropped when not connected. */
    @Override
    public void retain(String topic, String payload) {
        enqueue(new Out(topic, payload.getBytes(StandardCharsets.UTF_8), true));
    }

    /** Queues a non-retained message (event, response); kept while the broker is away. */
    @Override
    public void send(String topic, String payload) {
        enqueue(new Out(topic, payload.getBytes(StandardCharsets.UTF_8), false));
    }

    /** Connects whose retained state was reconciled so far. */
    public long reconciles() {
        return reconciles.get();
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

    /** Messages waiting to be sent. */
    public int queued() {
        synchronized (queue) {
            return queue.size();
        }
    }

    private void enqueue(Out m) {
        if (closing || paused) {
            return;
        }
        boolean direct;
        synchronized (queue) {
            awaitRoom();
            if (m.retained() && !client.isConnected()) {
                return; // the reconcile after the next connect publishes it
            }
            if (!m.retained()) {
                if (queuedEvents >= MAX_PARKED_EVENTS) {
                    queue.stream().filter(o -> !o.retained()).findFirst().ifPresent(queue::remove);
                    queuedEvents--;
                    long n = droppedEvents.incrementAndGet();
                    if (n == 1 || n % 1000 == 0) {
                        log.warn("mqtt: the broker is away or took nothing for {} s; {} events dropped so far"
                                + " (the queue holds {})", MAX_WAIT_MS / 1000, n, MAX_PARKED_EVENTS);
                    }
                }
            }
            // nothing waits and nobody is handing a message over: this one goes out now, in order
            direct = sending && queue.isEmpty() && handing.tryLock();
            if (!direct) {
                queue.addLast(m);
                if (!m.retained()) {
                    queuedEvents++;
                }
                queue.notifyAll();
            }
        }
        if (direct) {
            try {
                if (inFlight.tryAcquire()) {
                    publish(m);
                } else {
                    // the window is full: first in the queue (whatever came meanwhile came after it)
                    synchronized (queue) {
                        queue.addFirst(m);
                        if (!m.retained()) {
                            queuedEvents++;
                        }
                        queue.notifyAll();
                    }
                }
            } finally {
                handing.unlock();
            }
        }
    }

    /**
     * Called holding {@link #queue}: while connected and {@link #HIGH_WATER} messages wait, waits
     * for the sender to take half of them (at most {@link #MAX_WAIT_MS}); not while the broker is away,
     * when events park and retained messages are left to the reconcile.
     */
    private void awaitRoom() {
        if (!sending || queue.size() < HIGH_WATER) {
            return;
        }
        long deadline = System.nanoTime() + MAX_WAIT_MS * 1_000_000;
        waitingForRoom++;
        try {
            while (sending && !closing && queue.size() > HIGH_WATER / 2) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                queue.wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            waitingForRoom--;
        }
    }

    /** The sender thread: what callers queued, one message at a time, in order, within the in-flight window. */
    private void sendLoop() {
        while (!closing) {
            synchronized (queue) {
                while (!closing && (!sending || queue.isEmpty())) {
                    try {
                        queue.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closing) {
                    return;
                }
            }
            try {
                handing.lockInterruptibly();
            } catch (InterruptedException e) {
                return;
            }
            try {
                Out m;
                synchronized (queue) {
                    if (!sending || queue.isEmpty()) {
                        continue; // purged meanwhile
                    }
                    m = queue.pollFirst();
                    if (!m.retained()) {
                        queuedEvents--;
                    }
                    if (waitingForRoom > 0 && queue.size() <= HIGH_WATER / 2) {
                        queue.notifyAll();
                    }
                }
                inFlight.acquire(); // callers queue meanwhile (they find the hand-over taken)
                publish(m);
            } catch (InterruptedException e) {
                return;
            } finally {
                handing.unlock();
            }
        }
    }

    /** Hands one message to Paho; the caller holds {@link #handing} and one in-flight permit. */
    private void publish(Out m) {
        try {
            client.publish(m.topic(), m.payload(), QOS, m.retained(), null, new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    inFlight.release();
                    published.incrementAndGet();
                    observer.published();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    inFlight.release();
                    requeue(m);
                }
            });
        } catch (MqttException e) {
            inFlight.release();
            requeue(m);
        }
    }

    /** A publish the broker did not take: an event waits for the next connect; a retained message is left to the reconcile. */
    private void requeue(Out m) {
        if (m.retained() || closing) {
            return;
        }
        synchronized (queue) {
            queue.addFirst(m);
            queuedEvents++;
            if (!client.isConnected()) {
                sending = false;
            }
            queue.notifyAll();
        }
    }

    private void onConnected(boolean reconnect) {
        long t0 = System.nanoTime();
        long sessionNo = sessions.incrementAndGet();
        long lost = lostAt.getAndSet(0);
        int heldEvents;
        synchronized (queue) {
            queue.removeIf(Out::retained); // from an earlier session: the reconcile below decides
            heldEvents = queue.size();
        }
        if (lost != 0) {
            outages.incrementAndGet();
            log.warn("mqtt: broker {} was away for {} s; reconnected, reconciling the retained state, "
                    + "{} events held meanwhile{}", settings.url(),
                    String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - lost) / 1e9), heldEvents,
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
        Session s = session;
        RetainedCopy retained = readBack(s, sessionNo);
        long read = System.nanoTime();
        synchronized (queue) {
            sending = true; // held events first, then the reconcile's differences
            queue.notifyAll();
        }
        if (s != null && retained != null) {
            try {
                s.reconcile(retained);
            } catch (RuntimeException e) {
                log.error("mqtt: reconciling the retained state failed: {}", e.getMessage());
                log.debug("mqtt: reconcile", e);
            }
        }
        reconciles.incrementAndGet();
        // where a slow (re)start spends its time after the connect
        log.debug("mqtt: after the connect: online published in {} ms, {} retained topics read back in {} ms,"
                + " reconciled in {} ms", (onlineSent - t0) / 1_000_000, retained == null ? 0 : retained.size(),
                (read - t0) / 1_000_000, (System.nanoTime() - read) / 1_000_000);
    }

    /**
     * What the broker retains under {@code filters}, read back by subscribing and waiting for the
     * echo of this connect's {@code online} message; null when the connection dropped meanwhile.
     *
     * <p>All filters go in one SUBSCRIBE and the marker right after its SUBACK: the broker
     * answers a SUBSCRIBE before it replays the retained messages (mosquitto, Moquette) and
     * handles one client's packets in order, so the echo still follows every replayed message,
     * and the online state is out before the replay is read (with one SUBSCRIBE per filter,
     * each SUBACK queued behind the replay sent before it: online seen elsewhere 1.7 s after the
     * start with 26,000 retained topics, 0.4 s with one SUBSCRIBE). The
     * wait ends at the echo or once nothing has arrived for {@link #readBackIdleMs}: a large
     * replay still arriving is never cut off.
     */
    private RetainedCopy readBack(Session s, long session) {
        List<String> filters = s == null ? List.of() : s.ownFilters();
        RetainedCopy found = s == null ? new RetainedCopy(t -> null, t -> false) : s.newCopy();
        java.time.Instant since = java.time.Instant.now();
        String marker = Payloads.online(since, onlineFields.get());
        onlineSince = since;
        CountDownLatch echo = new CountDownLatch(1);
        readBackArrived.set(0);
        readBack = found;
        onlineMarker = marker;
        echoed = echo;
        List<String> all = new ArrayList<>(filters);
        if (!all.contains(topics.bridgeState())) {
            all.add(topics.bridgeState());
        }
        String[] subscribed = all.toArray(String[]::new);
        int[] qos = new int[subscribed.length];
        java.util.Arrays.fill(qos, QOS);
        try {
            client.subscribe(subscribed, qos).waitForCompletion(10_000);
            // goes out directly, ahead of the queue: its echo marks the end of the retained replay
            client.publish(topics.bridgeState(), marker.getBytes(StandardCharsets.UTF_8), QOS, true)
                    .waitForCompletion(10_000);
            onlineSent = System.nanoTime();
            if (!awaitEcho(echo, marker.getBytes(StandardCharsets.UTF_8))) {
                log.warn("mqtt: the broker did not echo {} and sent nothing for {} s (does the bridge's account lack read "
                        + "access to its own topics? see broker-config/); publishing every retained topic",
                        topics.bridgeState(), readBackIdleMs / 1000.0);
                readBack = null; // nothing more goes in
                found.clear();
            }
            client.unsubscribe(subscribed);
        } catch (MqttException e) {
            log.warn("mqtt: cannot read back the retained topics: {}", e.getMessage());
            if (!client.isConnected()) {
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            readBack = null;
        }
        return found;
    }

    /**
     * Waits for the echo while the replay goes on; false once nothing arrived for {@link
     * #readBackIdleMs}. When the replay stops without the echo, the broker dropped it with part
     * of the replay (mosquitto drops what exceeds a client's queue, {@code max_queued_messages},
     * 1,000 by default): the marker goes out again, and the topics that did not come back are
     * published again by the reconcile, as for a broker that lost them.
     */
    private boolean awaitEcho(CountDownLatch echo, byte[] marker) throws InterruptedException, MqttException {
        long step = Math.max(1, readBackIdleMs / 5);
        long seen = 0; // the count starts at 0 with each read-back
        long quietSince = System.nanoTime();
        boolean resent = false;
        boolean dropped = false;
        while (!echo.await(step, TimeUnit.MILLISECONDS)) {
            long now = readBackArrived.get();
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
                resent = false;
                continue;
            }
            if (System.nanoTime() - quietSince >= readBackIdleMs * 1_000_000) {
                return false;
            }
            if (now > 0 && !resent) {
                client.publish(topics.bridgeState(), marker, QOS, true);
                resent = true;
                dropped = true;
            }
        }
        if (dropped) {
            log.warn("mqtt: the broker dropped part of its retained copy of the bridge's topics (its queue per client "
                    + "is full: for mosquitto raise max_queued_messages, see broker-config/mosquitto.conf); "
                    + "publishing every topic it did not send");
        }
        return true;
    }

    /** For tests: how long a read-back may receive nothing before it gives up (default {@link #READ_BACK_IDLE_MS}). */
    void readBackIdle(long ms) {
        this.readBackIdleMs = ms;
    }

    /** Waits up to {@code ms} for what is queued to be sent and acknowledged (when connected). */
    private void drain(long ms) {
        long deadline = System.nanoTime() + ms * 1_000_000;
        synchronized (queue) {
            while (sending && client.isConnected() && !queue.isEmpty() && System.nanoTime() < deadline) {
                try {
                    queue.wait(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        while (inFlight.availablePermits() < IN_FLIGHT && client.isConnected() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(2); // the acknowledgements arrive on Paho's thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Publishes offline (a retained last will is not stored by every broker), then disconnects. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        drain(1_000);
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
        synchronized (queue) {
            queue.notifyAll();
        }
        sender.interrupt();
        if (connector != null) {
            connector.interrupt();
        }
        watchdog.close();
        disconnect(client, true);
        sessionThread.shutdownNow();
    }

    private final class Callback implements MqttCallbackExtended {
        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            watchdog.connected();
            observer.connection(true);
            sessionThread.execute(() -> onConnected(reconnect));
        }

        @Override
        public void connectionLost(Throwable cause) {
            watchdog.lost();
            lostAt.compareAndSet(0, System.nanoTime());
            observer.connection(false);
            synchronized (queue) {
                sending = false;
                queue.removeIf(Out::retained);
                queue.notifyAll(); // callers waiting for room: events park now, retained ones wait for the reconcile
            }
            CountDownLatch echo = echoed;
            if (echo != null) {
                echo.countDown();
            }
            log.warn("mqtt: connection to {} lost: {}; reconnecting", settings.url(),
                    cause == null ? "unknown reason" : cause.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            byte[] payload = message.getPayload();
            RetainedCopy found = readBack;
            if (topics.commandOf(topic) == null && !extraFilters.contains(topic)) {
                // the broker's retained copy of our own topics, read back after a connect
                if (found != null) {
                    readBackArrived.incrementAndGet();
                    if (!topic.equals(topics.bridgeState())) {
                        found.put(topic, payload); // an empty payload: cleared
                    } else if (new String(payload, StandardCharsets.UTF_8).equals(onlineMarker)) {
                        echoed.countDown();
                    }
                }
                return;
            }
            sessionThread.execute(() -> {
                try {
                    session.request(topic, payload);
                } catch (RuntimeException e) {
                    log.error("mqtt: request on {} failed: {}", topic, e.getMessage());
                    log.debug("mqtt: request", e);
                }
            });
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
            // accounted in the per-publish listener
        }
    }
}
