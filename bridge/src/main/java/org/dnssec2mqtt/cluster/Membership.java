package org.dnssec2mqtt.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.mqtt.ReconnectWatchdog;
import org.dnssec2mqtt.mqtt.Topics;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This bridge as one node of a cluster on one broker (issue "hot standby"): a connection of its
 * own whose last will marks the node {@code offline} on {@code <prefix>/_bridge/nodes/<node>},
 * the other nodes' topics followed to decide who is active ({@link Election}), and, while standing
 * by, the active node's replica topics handed on so this node's state equals what the active
 * published. The broker is the only coordinator: retained messages, last wills, QoS 1.
 *
 * <p>Every decision runs on one "cluster" thread, in the order the broker's messages arrived.
 * After each connect the node waits for the echo of its own node topic (everything retained
 * arrives before it) and then {@link #SETTLE_MS} more ({@link #RESETTLE_MS} after a reconnect), so
 * that the other nodes, reconnecting after a broker restart, are heard before it decides that
 * nobody is active.
 */
public final class Membership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Membership.class);
    private static final int QOS = 1;
    /** Wait after the first connect's retained replay before deciding that nobody is active. */
    static final long SETTLE_MS = 1_500;
    /**
     * The same after a reconnect (the broker restarted, say): longer than the longest reconnect
     * delay (4 s), so the active node is back and heard before a standby decides it is gone.
     */
    static final long RESETTLE_MS = 5_000;
    /**
     * After the echo of {@link #confirmThenTakeOver}, how long the connection must stay up before
     * the node takes the role: a broker that shuts down may still echo right after sending the
     * wills, then closes every connection at once.
     */
    static final long CONFIRM_MS = 300;

    /** What the node does when its role changes, and what it follows while standing by. */
    public interface Listener {
        /** This node is the active one from now on: check, publish, answer commands. */
        void becomeActive();

        /** Another node is active: stop publishing, follow it. */
        void becomeStandby();

        /** Standing by: the active node's state of one zone ({@code payload} empty: the zone was forgotten). */
        void replica(String zoneLevel, String payload);

        /**
         * Active: {@code <prefix>/_bridge/state} says something else than this node's online (a
         * dead node's late will, or the old online of a node that stood by again): publish ours again.
         */
        void bridgeStateElsewhere();

        /** The set of node names seen on the broker changed (sorted). */
        void nodesChanged(List<String> nodes);
    }

    private final String node;
    private final Topics topics;
    private final MqttLink.Settings settings;
    private final Listener listener;
    private final Clock clock;
    private final MqttAsyncClient client;
    private final ScheduledExecutorService thread;
    /** On the cluster thread only: the other nodes as their topics say. */
    private final Map<String, Election.Node> nodes = new TreeMap<>();
    /** On the cluster thread only. */
    private Instant activeSince;
    private boolean settled;
    private boolean duplicateWarned;
    /** On the cluster thread: this connect's time, in the node payload so each connect's differs. */
    private Instant connectedAt;
    /** On the cluster thread: nodes heard live (not as a retained copy) since this node's latest connect. */
    private final java.util.Set<String> heard = new java.util.HashSet<>();
    /** On the cluster thread: each other node's latest payload as sent. */
    private final Map<String, String> raw = new java.util.HashMap<>();
    /** Payloads this node published on its own topic since its latest connect (one per role change). */
    private final java.util.Set<String> sent = new java.util.HashSet<>();
    /**
     * On the cluster thread: about to take the active role, waiting for the echo of its own topic
     * published once more (see {@link #confirmThenTakeOver}).
     */
    private boolean confirming;
    /**
     * On the cluster thread: the node named by the bridge state's latest {@code online} message
     * (the node whose bridge connection is up to publish zones), null after {@code offline}; and
     * whether that message was heard live since this node's latest connect (a retained copy alone
     * may be stale, see {@link #dropUnheard}).
     */
    private String publishing;
    private boolean publishingHeard;
    private long connects;
    private volatile boolean closing;
    private final ReconnectWatchdog watchdog;
    /** How often the connection was lost (any thread). */
    private final java.util.concurrent.atomic.AtomicLong losses = new java.util.concurrent.atomic.AtomicLong();

    public Membership(String node, Topics topics, MqttLink.Settings settings, Listener listener, Clock clock)
            throws MqttException {
        this.node = node;
        this.topics = topics;
        this.settings = settings;
        this.listener = listener;
        this.clock = clock;
        this.nodeNames = List.of(node);
        this.client = new MqttAsyncClient(settings.url(), settings.clientId(), new MemoryPersistence());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cluster");
            t.setDaemon(true);
            return t;
        });
        this.watchdog = new ReconnectWatchdog(client, "cluster node " + node, () -> !closing);
        client.setCallback(new Callback());
    }

    private volatile List<String> nodeNames;

    /** Every node name seen on the broker, this one's included, sorted (any thread). */
    public List<String> nodes() {
        return nodeNames;
    }

    /** Connects in the background, retrying until the broker answers; the node starts as standby. */
    public void start() throws IOException {
        MqttConnectOptions options = MqttLink.connectOptions(settings, topics.node(node), payload(false));
        Thread connector = new Thread(() -> MqttLink.connectUntilUp(client, options, () -> closing, (e, delay) ->
                log.warn("cluster: node {} cannot connect to {}: {}; retrying in {} ms", node, settings.url(),
                        e.getMessage(), delay)), "cluster-connect");
        connector.setDaemon(true);
        connector.start();
    }

    private String payload(boolean online) {
        return Payloads.node(node, online, online && activeSince != null, activeSince, connectedAt);
    }

    /** On the cluster thread, after each connect. */
    private void onConnected() {
        long connect = ++connects;
        log.info("cluster: node {} {} to {}", node, connect == 1 ? "connected" : "reconnected", settings.url());
        settled = false;
        confirming = false;
        connectedAt = clock.instant();
        heard.clear();
        publishing = null; // the broker's retained copy, if any, arrives with the subscribe
        publishingHeard = false;
        sent.clear(); // this connect's payloads differ from all earlier ones (its "since")
        try {
            client.subscribe(new String[] {topics.nodesFilter(), topics.bridgeState()}, new int[] {QOS, QOS})
                    .waitForCompletion(10_000);
            if (activeSince == null) {
                client.subscribe(topics.replicaFilter(), QOS).waitForCompletion(10_000);
            }
            publishOwn();
        } catch (MqttException e) {
            log.warn("cluster: node {} cannot subscribe: {}", node, e.getMessage());
            return;
        }
        // our own topic's echo ends the retained replay; decide a little later (see SETTLE_MS)
        thread.schedule(() -> {
            if (client.isConnected()) {
                settle(connect);
            }
        }, SETTLE_MS + 10_000, TimeUnit.MILLISECONDS); // in case the echo never comes (no read access)
    }

    /** On the cluster thread: the wait after connect {@code connect} is over (unless a newer connect began): decide. */
    private void settle(long connect) {
        if (connect == connects && !settled) {
            settled = true;
            log.info("cluster: node {} has heard the other nodes: {}", node, nodes.isEmpty() ? "none"
                    : String.join(", ", nodes.values().stream().map(n -> n.name() + (!n.online() ? " offline"
                            : n.active() ? " active" : " standby")).toList())
                    + (publishing == null || publishing.equals(node) ? ""
                            : "; node " + publishing + "'s bridge connection says online"));
            elect();
        }
    }

    private void publishOwn() throws MqttException {
        sent.add(payload(true));
        client.publish(topics.node(node), payload(true).getBytes(StandardCharsets.UTF_8), QOS, true);
    }

    /** On the cluster thread. */
    private void arrived(String topic, String text, boolean retained) {
        String name = topics.nodeOf(topic);
        if (name != null) {
            if (name.equals(node)) {
                if (settled && confirming && text.equals(payload(true))) {
                    // the broker still serves this connection; still so a moment later?
                    long lost = losses.get();
                    thread.schedule(() -> confirmed(lost), CONFIRM_MS, TimeUnit.MILLISECONDS);
                } else if (!settled && text.equals(payload(true))) {
                    long connect = connects;
                    long settle = connect == 1 ? SETTLE_MS : RESETTLE_MS;
                    thread.schedule(() -> settle(connect), settle, TimeUnit.MILLISECONDS);
                    thread.schedule(() -> dropUnheard(connect), settle + staleMs(), TimeUnit.MILLISECONDS);
                } else if (settled && !text.isEmpty() && !saysOnline(text) && !closing && client.isConnected()) {
                    // another node took this one for a stale copy and cleared it (see dropUnheard): say online again
                    log.info("cluster: node {} was marked offline on {} while it is online; publishing its state again",
                            node, topic);
                    announce();
                } else if (settled && !sent.contains(text) && !duplicateWarned && saysOnline(text)) {
                    duplicateWarned = true; // answering would make two nodes of one name fight forever
                    log.warn("cluster: something else publishes on {} ({}): is another bridge running with"
                            + " cluster.node = {}? Node names must be unique", topic, text, node);
                }
                return;
            }
            Election.Node before = nodes.get(name);
            Election.Node now = text.isEmpty() ? null : Election.Node.parse(name, text);
            String previous = raw.put(name, text);
            if (!retained) {
                heard.add(name);
                if (!text.equals(previous) && now != null && now.online() && client.isConnected()) {
                    // a node (re)connected or changed: answer live, so it knows this node is alive too
                    try {
                        publishOwn();
                    } catch (MqttException e) {
                        log.debug("cluster: answer: {}", e.getMessage());
                    }
                }
            }
            if (now == null) {
                nodes.remove(name);
            } else {
                nodes.put(name, now);
            }
            if (before == null || now == null) {
                nodeNames = names();
                listener.nodesChanged(nodeNames);
            }
            if (before == null || now == null || before.online() != now.online() || before.active() != now.active()) {
                log.info("cluster: node {} is {}", name, now == null ? "gone" : !now.online() ? "offline"
                        : now.active() ? "online, active" : "online, standby");
            }
            if (settled) {
                elect();
            }
            return;
        }
        if (topic.equals(topics.bridgeState())) {
            String before = publishing;
            publishing = publisher(text);
            publishingHeard = !retained;
            if (publishing != null && !publishing.equals(before) && !publishing.equals(node)) {
                log.info("cluster: node {}'s bridge connection says online on {}", publishing, topic);
            }
            if (settled) {
                elect();
            }
            if (activeSince != null && !node.equals(publishing) && !text.isEmpty()) {
                listener.bridgeStateElsewhere();
            }
            return;
        }
        if (activeSince == null) {
            String level = topics.zoneLevelOf(topic);
            if (level != null) {
                listener.replica(level, text);
            }
        }
    }

    /** The node an {@code online} bridge state message names; null for {@code offline}, an empty or foreign payload. */
    static String publisher(String text) {
        try {
            com.google.gson.JsonElement e = com.google.gson.JsonParser.parseString(text);
            if (!e.isJsonObject()) {
                return null;
            }
            com.google.gson.JsonObject o = e.getAsJsonObject();
            boolean online = o.has("state") && "online".equals(o.get("state").getAsString());
            return online && o.has("node") ? o.get("node").getAsString() : null;
        } catch (RuntimeException ex) {
            return null;
        }
    }

    /** How long after settling a node that says online must have been heard live: twice the keepalive, plus slack. */
    private long staleMs() {
        return 2_000L * settings.keepaliveSeconds() + RESETTLE_MS;
    }

    /**
     * A node topic that says online but was not heard live since this node connected is a stale
     * retained copy (its node died while the broker was down, so no will was sent): taken for offline.
     */
    private void dropUnheard(long connect) {
        if (connect != connects || !client.isConnected()) {
            return;
        }
        boolean changed = false;
        if (publishing != null && !publishingHeard && !publishing.equals(node)) {
            log.warn("cluster: {} says node {} is online but nothing of it was heard since this node connected;"
                    + " taking it for an old copy", topics.bridgeState(), publishing);
            publishing = null;
            changed = true;
        }
        for (Election.Node n : new ArrayList<>(nodes.values())) {
            if (n.online() && !heard.contains(n.name())) {
                log.warn("cluster: node {} says online but has not answered since this node connected; taking it"
                        + " for offline (it stopped while the broker was away?)", n.name());
                nodes.put(n.name(), new Election.Node(n.name(), false, false, null));
                clearStale(n.name());
                changed = true;
            }
        }
        if (changed && settled) {
            elect();
        }
    }

    /**
     * Publishes {@code offline} on a stale node topic for the node that cannot (its will never came),
     * so that Home Assistant's availability and other subscribers stop counting it. Were the node
     * alive after all, it says online again at once (see {@link #arrived}).
     */
    private void clearStale(String name) {
        try {
            publishOffline(name);
        } catch (MqttException e) {
            log.debug("cluster: clearing the stale topic of {}: {}", name, e.getMessage());
        }
    }

    /** Retains {@code offline} on node {@code name}'s topic (this node's on a clean stop, a stale one's). */
    private IMqttDeliveryToken publishOffline(String name) throws MqttException {
        return client.publish(topics.node(name), Payloads.node(name, false, false, null).getBytes(StandardCharsets.UTF_8),
                QOS, true);
    }

    private List<String> names() {
        List<String> out = new ArrayList<>(nodes.keySet());
        out.add(node);
        out.sort(String::compareTo);
        return out;
    }

    /** Whether a node payload says online (this node's own will, say, does not). */
    private boolean saysOnline(String text) {
        Election.Node n = Election.Node.parse(node, text);
        return n != null && n.online();
    }

    /**
     * On the cluster thread: takes or gives up the active role as {@link Election} says. Taking it
     * waits for {@link #confirmThenTakeOver}.
     */
    private void elect() {
        boolean want = Election.shouldBeActive(node, activeSince, nodes.values(), publishing);
        if (want == (activeSince != null)) {
            return;
        }
        if (want && !confirming) {
            confirmThenTakeOver();
        } else if (want) {
            log.debug("cluster: node {} waits for the broker's echo before taking over", node);
        } else {
            activeSince = null;
            log.warn("cluster: node {} stands by again: another node is active too and stays", node);
            listener.becomeStandby();
            announce();
            try {
                client.subscribe(topics.replicaFilter(), QOS);
            } catch (MqttException e) {
                log.warn("cluster: node {} cannot follow the active node: {}", node, e.getMessage());
            }
        }
    }

    /**
     * Before taking the role, the node publishes its own topic once more (the same payload) and
     * takes it only when the echo comes back. A broker that is shutting down sends every client's
     * last will (the active node's {@code offline} among them) and then closes the connections:
     * without the echo such a will would make a standby active while the active node lives, two
     * actives once the broker is back. The echo proves the broker still serves this connection; a
     * connection lost first means a reconnect, which settles anew.
     */
    private void confirmThenTakeOver() {
        if (!client.isConnected()) {
            return; // the next connect settles and elects again
        }
        confirming = true;
        try {
            publishOwn();
        } catch (MqttException e) {
            confirming = false;
            log.warn("cluster: node {} cannot publish its role: {}", node, e.getMessage());
        }
    }

    /**
     * On the cluster thread, {@link #CONFIRM_MS} after the echo: takes the role if the connection
     * has not been lost meanwhile (no loss since {@code lost}; a reconnect always follows one) and
     * the election still says so.
     */
    private void confirmed(long lost) {
        confirming = false;
        if (lost == losses.get() && client.isConnected() && activeSince == null
                && Election.shouldBeActive(node, null, nodes.values(), publishing)) {
            takeOver();
        }
    }

    /** On the cluster thread, once the broker's echo confirmed that this node should be active. */
    private void takeOver() {
        activeSince = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        log.info("cluster: node {} is now active (no other online node is)", node);
        unsubscribeReplicas();
        announce();
        listener.becomeActive();
    }

    private void unsubscribeReplicas() {
        try {
            client.unsubscribe(topics.replicaFilter());
        } catch (MqttException e) {
            log.debug("cluster: unsubscribe: {}", e.getMessage());
        }
    }

    private void announce() {
        if (!client.isConnected()) {
            return; // the next connect publishes the role
        }
        try {
            publishOwn();
        } catch (MqttException e) {
            log.warn("cluster: node {} cannot publish its role: {}", node, e.getMessage());
        }
    }

    /** Marks the node offline (a clean stop sends no last will) and disconnects. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.submit(() -> {
                activeSince = null;
                if (client.isConnected()) {
                    try {
                        publishOffline(node).waitForCompletion(2_000);
                    } catch (MqttException e) {
                        log.debug("cluster: offline not sent: {}", e.getMessage());
                    }
                }
            }).get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("cluster: close: {}", e.getMessage());
        }
        thread.shutdownNow();
        watchdog.close();
        MqttLink.disconnect(client, true);
    }

    private final class Callback implements MqttCallbackExtended {
        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            watchdog.connected();
            thread.execute(Membership.this::onConnected);
        }

        @Override
        public void connectionLost(Throwable cause) {
            losses.incrementAndGet();
            watchdog.lost();
            log.warn("cluster: node {} lost the broker: {}; reconnecting", node,
                    cause == null ? "unknown reason" : cause.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            String text = new String(message.getPayload(), StandardCharsets.UTF_8);
            boolean retained = message.isRetained();
            thread.execute(() -> {
                try {
                    arrived(topic, text, retained);
                } catch (RuntimeException e) {
                    log.error("cluster: handling {} failed: {}", topic, e.getMessage());
                    log.debug("cluster", e);
                }
            });
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {}
    }
}
