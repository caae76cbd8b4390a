package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.SignedZone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.DNSKEYRecord;

/**
 * Hot standby (issue 13) with everything real: bridges as separate processes (the shaded jar),
 * one real mosquitto, one real NSD that NOTIFYs every node of each change. The active node is
 * killed with SIGKILL during a loop of key changes; a standby must take over within 2 s of the
 * will, and afterwards the retained key topics equal the zone's keys, every change has its event
 * (at least once) and no other key event exists, no key topic was ever republished unchanged, and
 * each recheck request got exactly one response. Then the broker restarts under the cluster, with
 * and without its persistence: the node that was active stays the only active one, the retained
 * state is complete, and a change made while the broker was away is reported.
 */
@Timeout(600)
class ClusterIT {
    static final int TAKEOVERS = Integer.getInteger("cluster.takeovers", 20);
    static final long SEED = Long.getLong("cluster.seed", System.nanoTime());
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String ZONE = "example.test";
    static final String NODES = "dnssec/_bridge/nodes/";
    static final String EVENTS = "dnssec/" + ZONE + "/events";
    static final String KEYS = "dnssec/" + ZONE + "/keys/";
    /** The issue's bound from seeing the will to the new active node's role on its topic. */
    static final long TAKEOVER_MS = 2_000;

    @TempDir
    Path dir;

    /** One bridge process of the cluster. */
    final class Node {
        final String name;
        final int notifyPort = FreePorts.tcpAndUdp();
        Process process;
        Path log;
        int runs;

        Node(String name) {
            this.name = name;
        }

        void start(MosquittoBroker broker, NsdServer nsd) throws Exception {
            Path config = dir.resolve(name + ".properties");
            Files.writeString(config, """
                    notify.listen = 127.0.0.1:%d
                    dns.timeout = 2s
                    poll.full-interval = 0
                    mqtt.url = %s
                    mqtt.keepalive = 2s
                    cluster.enabled = true
                    cluster.node = %s
                    data.dir = %s
                    zones.%s.servers = 127.0.0.1:%d
                    """.formatted(notifyPort, broker.url(), name, dir.resolve("data-" + name), ZONE, nsd.port()));
            log = dir.resolve(name + "-" + (runs++) + ".log");
            process = CrashIT.launch(config, log);
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL: no shutdown hook, the broker sends the will
            assertTrue(process.waitFor(10, TimeUnit.SECONDS), name + " did not die");
        }

        /** Waits until this run's log has {@code text} (the node's own account of a step). */
        void awaitLog(String text) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!logText().contains(text)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(name + " never logged '" + text + "':\n" + logText());
                }
                Thread.sleep(50); // polling the log file
            }
        }

        String logText() {
            try {
                return log == null ? "(never started)" : Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }
    }

    /** Everything one scenario runs on; closes the nodes, then NSD, then the broker. */
    final class Cluster implements AutoCloseable {
        final MosquittoBroker broker;
        final SignedZone zone;
        final NsdServer nsd;
        final List<Node> nodes = new ArrayList<>();
        final Random random = new Random(SEED);
        /** Each key event a change made must produce ("key_added 12345"), in the order made. */
        final Set<String> expected = new LinkedHashSet<>();
        MqttRecorder all;
        int transactions;
        /** From each will to the new active node's role, as the recorder saw them. */
        final List<Long> takeoverMs = new ArrayList<>();

        Cluster(String brokerConfig, String... names) throws Exception {
            broker = MosquittoBroker.start(brokerConfig, Map.of());
            zone = new SignedZone(ZONE, dir.resolve("zone"));
            zone.addKsk();
            zone.addZsk();
            zone.sign();
            for (String n : names) {
                nodes.add(new Node(n));
            }
            nsd = new NsdServer(dir.resolve("nsd"))
                    .zone(ZONE, zone.signedFile(), nodes.stream().map(n -> n.notifyPort).toList(), null).start();
            all = MqttRecorder.persistent(broker.url(), "dnssec/#", "cluster-it-recorder");
        }

        Node node(String name) {
            return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
        }

        void startAll() throws Exception {
            for (Node n : nodes) {
                n.start(broker, nsd);
            }
        }

        /** The node topics as the broker retains them now (a fresh subscriber's view). */
        Map<String, JsonObject> retainedNodes() throws InterruptedException {
            try (MqttRecorder fresh = new MqttRecorder(broker.url(), NODES + "+")) {
                Thread.sleep(300); // retained messages arrive right after SUBACK
                Map<String, JsonObject> out = new TreeMap<>();
                for (MqttRecorder.Received m : fresh.messages()) {
                    if (!m.payload().isEmpty()) {
                        out.put(m.topic().substring(NODES.length()), JsonParser.parseString(m.payload()).getAsJsonObject());
                    }
                }
                return out;
            }
        }

        /** Waits until the broker holds exactly one online active node topic and every running node's topic is online; returns the active one. */
        Node awaitOneActive() throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            Map<String, JsonObject> seen = Map.of();
            while (System.nanoTime() < deadline) {
                seen = retainedNodes();
                List<String> active = new ArrayList<>();
                boolean allUp = true;
                for (Node n : nodes) {
                    JsonObject o = seen.get(n.name);
                    boolean online = o != null && "online".equals(o.get("state").getAsString());
                    allUp &= online || !n.process.isAlive();
                    if (online && "active".equals(o.get("role").getAsString())) {
                        active.add(n.name);
                    }
                }
                if (active.size() == 1 && allUp) {
                    return node(active.get(0));
                }
            }
            throw new AssertionError("expected exactly one active node; the broker holds " + seen + logs());
        }

        /** Waits until a fresh subscriber sees exactly the zone's keys and the state of its current serial. */
        void awaitRetainedTruth(String when) throws Exception {
            long serial = zone.serial();
            all.await(m -> m.topic().equals("dnssec/" + ZONE + "/state") && m.payload().contains("\"serial\":" + serial), WAIT);
            Set<Integer> truth = new TreeSet<>();
            zone.keys().forEach(k -> truth.add(zone.keyTag(k)));
            Map<String, Integer> retained = BrokerOutageIT.awaitRetainedKeys(broker.url(), truth);
            assertEquals(truth, new TreeSet<>(retained.values()), when + " (seed " + SEED + "): retained " + retained + logs());
            assertEquals(truth.size(), retained.size(), when + ": stale key topics " + retained);
        }

        /** One random key change, signed, loaded by NSD (which NOTIFYs every node); its event expected. */
        void change() {
            List<SignedZone.Key> keys = zone.keys();
            // the first KSK and the first ZSK sign the zone throughout: only the keys after them change
            List<SignedZone.Key> extra = keys.subList(2, keys.size());
            int op = extra.isEmpty() ? 0 : random.nextInt(3);
            if (op == 0 || extra.size() > 4) {
                if (extra.size() > 4) {
                    SignedZone.Key k = extra.get(random.nextInt(extra.size()));
                    expected.add("key_removed " + zone.keyTag(k));
                    zone.remove(k);
                }
                SignedZone.Key k = random.nextBoolean() ? zone.addKsk() : zone.addZsk();
                expected.add("key_added " + zone.keyTag(k));
            } else {
                SignedZone.Key k = extra.get(random.nextInt(extra.size()));
                boolean revocable = k.ksk() && (zone.dnskey(k).getFlags() & DNSKEYRecord.Flags.REVOKE) == 0;
                if (op == 1 && revocable) {
                    zone.revoke(k); // RFC 5011: a new tag, the same key
                    expected.add("key_revoked " + zone.keyTag(k));
                } else {
                    expected.add("key_removed " + zone.keyTag(k));
                    zone.remove(k);
                }
            }
            zone.bumpSerial();
            zone.sign();
            nsd.reload(ZONE);
        }

        /** Asks the active node for a recheck; returns the transaction to count answers of at the end. */
        String recheck() {
            all.awaitBridgeListening("dnssec", WAIT); // a request sent before the new active subscribed is lost
            String transaction = "t" + (++transactions);
            all.publish("dnssec/_bridge/request/recheck",
                    "{\"zone\":\"" + ZONE + "\",\"transaction\":\"" + transaction + "\"}", false);
            all.await(m -> m.topic().equals("dnssec/_bridge/response/recheck") && m.payload().contains("\"" + transaction + "\""), WAIT);
            return transaction;
        }

        /** What the whole recording must show, whatever happened in between. */
        void assertRecording() {
            List<MqttRecorder.Received> messages = all.messages();
            // each change's event at least once, and no key event for a change that did not happen
            Set<String> seen = new LinkedHashSet<>();
            for (MqttRecorder.Received m : messages) {
                if (m.topic().equals(EVENTS)) {
                    JsonObject e = JsonParser.parseString(m.payload()).getAsJsonObject();
                    String type = e.get("event").getAsString();
                    if (type.startsWith("key_")) {
                        seen.add(type + " " + e.get("keytag").getAsInt());
                    }
                }
            }
            String events = "\nexpected: " + expected + "\nevents published: " + messages.stream()
                    .filter(m -> m.topic().equals(EVENTS)).map(MqttRecorder.Received::payload).toList();
            Set<String> missing = new LinkedHashSet<>(expected);
            missing.removeAll(seen);
            assertTrue(missing.isEmpty(), "changes without their event (seed " + SEED + "): " + missing + events + logs());
            Set<String> invented = new LinkedHashSet<>(seen);
            invented.removeAll(expected);
            assertTrue(invented.isEmpty(), "events for changes that did not happen (seed " + SEED + "): " + invented + events + logs());
            assertEquals(1, messages.stream().filter(m -> m.topic().equals(EVENTS) && m.payload().contains("\"zone_added\"")).count(),
                    "zone_added once, before any takeover");
            // no key topic republished with the content it already had
            Map<String, String> last = new HashMap<>();
            for (MqttRecorder.Received m : messages) {
                if (m.topic().startsWith(KEYS) && !m.duplicate()) {
                    String before = last.put(m.topic(), m.payload());
                    assertTrue(!m.payload().equals(before), "republished unchanged: " + m);
                }
            }
            // every recheck answered exactly once
            for (int t = 1; t <= transactions; t++) {
                String transaction = "\"t" + t + "\"";
                // the broker's own redelivery to this recorder (DUP, after its restart) is not a second answer
                List<MqttRecorder.Received> answers = messages.stream().filter(m -> m.topic().equals("dnssec/_bridge/response/recheck")
                        && m.payload().contains(transaction) && !m.duplicate()).toList();
                assertEquals(1, answers.size(), "answers to recheck " + transaction + ": " + answers + logs());
            }
        }

        String logs() {
            StringBuilder out = new StringBuilder();
            for (Node n : nodes) {
                out.append("\n---- node ").append(n.name).append(" (").append(n.log).append(") ----\n").append(n.logText());
            }
            return out.toString();
        }

        @Override
        public void close() throws Exception {
            for (Node n : nodes) {
                if (n.process != null) {
                    n.process.destroyForcibly();
                    n.process.waitFor(10, TimeUnit.SECONDS);
                }
            }
            try (MosquittoBroker b = broker; NsdServer s = nsd; MqttRecorder r = all) {
                // closed in reverse order
            }
        }
    }

    /** The first message on {@code topic} after {@code from} that matches; its index. */
    static int indexOf(List<MqttRecorder.Received> messages, int from, String topic, String contains) {
        for (int i = from; i < messages.size(); i++) {
            if (messages.get(i).topic().equals(topic) && messages.get(i).payload().contains(contains)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Kills the active node (a change made just before or just after), waits for the takeover and
     * checks its bounds; starts the killed node again as a standby.
     */
    static Node killActiveAndTakeOver(Cluster c, Node active, int round) throws Exception {
        boolean changeBefore = round % 2 == 0;
        if (changeBefore) {
            c.change();
            Thread.sleep(c.random.nextInt(400)); // the random moment of the kill: published or not yet
        }
        int mark = c.all.messages().size();
        active.kill();
        if (!changeBefore) {
            c.change(); // made while nobody is active
        }
        MqttRecorder.Received will = c.all.await(m -> m.topic().equals(NODES + active.name)
                && m.payload().contains("\"offline\"") && c.all.messages().indexOf(m) >= mark, WAIT);
        MqttRecorder.Received taken = c.all.await(m -> m.topic().startsWith(NODES) && !m.topic().equals(NODES + active.name)
                && m.payload().contains("\"role\":\"active\"") && m.nanos() >= will.nanos(), WAIT);
        long ms = TimeUnit.NANOSECONDS.toMillis(taken.nanos() - will.nanos());
        c.takeoverMs.add(ms);
        assertTrue(ms <= TAKEOVER_MS, "round " + round + ": takeover " + ms + " ms after the will" + c.logs());
        Node next = c.node(taken.topic().substring(NODES.length()));
        c.all.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("\"node\":\"" + next.name + "\"")
                && m.nanos() >= will.nanos(), WAIT);
        c.awaitRetainedTruth("round " + round + " after " + next.name + " took over");
        active.start(c.broker, c.nsd); // back as a standby: an active node stays active
        assertEquals(next, c.awaitOneActive(), "round " + round + ": the restarted node took the role back");
        active.awaitLog("has heard the other nodes"); // settled: the next takeover is a standby's, not a start-up's
        return next;
    }

    @Test
    void twoNodesSurviveKillsOfTheActiveDuringKeyChanges() throws Exception {
        try (Cluster c = new Cluster("allow_anonymous true\n", "a", "b")) {
            c.startAll();
            Node active = c.awaitOneActive();
            assertEquals("a", active.name, "with nobody active the lowest name takes the role");
            c.awaitRetainedTruth("first start");
            for (int round = 0; round < TAKEOVERS; round++) {
                active = killActiveAndTakeOver(c, active, round);
                c.recheck();
            }
            c.change();
            c.awaitRetainedTruth("after the last change");
            c.assertRecording();
            List<Long> sorted = c.takeoverMs.stream().sorted().toList();
            System.out.printf("cluster: %d kill -9 takeovers, will -> new active median %d ms, max %d ms;"
                    + " %d key events expected and seen, seed %d%n",
                    TAKEOVERS, sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), c.expected.size(), SEED);
        }
    }

    @Test
    void threeNodesKeepOneActive() throws Exception {
        try (Cluster c = new Cluster("allow_anonymous true\n", "c", "a", "b")) {
            c.startAll();
            Node active = c.awaitOneActive();
            c.awaitRetainedTruth("first start");
            for (int round = 0; round < 4; round++) {
                active = killActiveAndTakeOver(c, active, round);
                c.recheck();
            }
            // two nodes die at once: the last one takes over
            Node last = c.nodes.stream().filter(n -> !n.name.equals("a")).findFirst().orElseThrow();
            for (Node n : c.nodes) {
                if (n != last) {
                    n.kill();
                }
            }
            c.change();
            assertEquals(last, c.awaitOneActive());
            c.awaitRetainedTruth("after two of three died");
            c.recheck();
            c.assertRecording();
        }
    }

    /**
     * The active node dies while the broker (with persistence) is away, so its will is never sent
     * and the broker comes back with its topic still saying online: the standby takes that for a
     * stale copy (no live answer within twice the keepalive plus 5 s), clears it to offline on the
     * broker and takes over.
     */
    @Test
    void anActiveNodeThatDiedWhileTheBrokerWasAwayIsTakenForOfflineAndCleared() throws Exception {
        try (Cluster c = new Cluster("allow_anonymous true\npersistence true\npersistence_location ${dir}/\n", "a", "b")) {
            c.startAll();
            Node active = c.awaitOneActive();
            c.awaitRetainedTruth("first start");
            c.broker.stop();
            active.kill();
            c.broker.restart();
            Node other = c.nodes.stream().filter(n -> n != active).findFirst().orElseThrow();
            assertEquals(other, c.awaitOneActive(), "the standby takes over from the stale active");
            JsonObject stale = c.retainedNodes().get(active.name);
            assertEquals("offline", stale.get("state").getAsString(), "the stale topic is cleared: " + stale);
            c.change();
            c.awaitRetainedTruth("after the takeover from a stale node");
        }
    }

    @ParameterizedTest(name = "persistence {0}")
    @ValueSource(booleans = {false, true})
    void aBrokerRestartKeepsOneActiveAndTheStateComplete(boolean persistence) throws Exception {
        String config = "allow_anonymous true\n" + (persistence ? "persistence true\npersistence_location ${dir}/\n" : "");
        try (Cluster c = new Cluster(config, "a", "b")) {
            c.startAll();
            Node active = c.awaitOneActive();
            c.awaitRetainedTruth("first start");
            for (int restart = 0; restart < 2; restart++) {
                c.broker.stop();
                c.change(); // while the broker is away: the active node checks it and must publish it later
                c.broker.restart();
                if (!persistence) {
                    c.all.close(); // its session went with the broker
                    c.all = MqttRecorder.persistent(c.broker.url(), "dnssec/#", "cluster-it-recorder-" + restart);
                }
                int mark = c.all.messages().size();
                assertEquals(active, c.awaitOneActive(), "restart " + restart + ": the active node stays active");
                c.awaitRetainedTruth("restart " + restart);
                c.all.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("\"online\""), WAIT);
                c.recheck();
                List<MqttRecorder.Received> after = c.all.messages().subList(mark, c.all.messages().size());
                for (Node n : c.nodes) {
                    if (n != active) {
                        assertEquals(-1, indexOf(after, 0, NODES + n.name, "\"role\":\"active\""),
                                "restart " + restart + ": standby " + n.name + " became active too" + c.logs());
                    }
                }
            }
            if (persistence) {
                c.assertRecording(); // one recording across both restarts (persistent session on a persistent broker)
            }
        }
    }
}
