package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.Fixtures;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;

/** The publish stage against a recording outbox: what goes out, and only once. */
class MqttPublisherTest {
    static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");

    /** Records what would go to the broker and keeps a broker's retained store. */
    static final class Broker implements Outbox {
        final List<String> sent = new ArrayList<>();
        final Map<String, String> retained = new LinkedHashMap<>();
        long session;
        boolean connected;

        @Override
        public void retain(String topic, String payload) {
            if (!connected) {
                return;
            }
            sent.add(topic + " " + payload);
            if (payload.isEmpty()) {
                retained.remove(topic);
            } else {
                retained.put(topic, payload);
            }
        }

        @Override
        public void send(String topic, String payload) {
            sent.add(topic + " " + payload);
        }

        @Override
        public long session() {
            return session;
        }

        @Override
        public boolean isConnected() {
            return connected;
        }

        void connect() {
            session++;
            connected = true;
        }

        long keyPublishes(String zone) {
            return sent.stream().filter(s -> s.startsWith("dnssec/" + zone + "/keys/")).count();
        }
    }

    final Broker broker = new Broker();
    final Topics topics = new Topics("dnssec");
    final MqttPublisher publisher = new MqttPublisher(topics, broker, null);

    static ZoneState state(String zone, int keys, Instant checkedAt) throws Exception {
        var records = Fixtures.keys("d1.aa.dnskey").subList(0, keys);
        List<KeyInfo> infos = KeyAnalyzer.analyze(Fixtures.snapshot(records, records.subList(0, 1), List.of()),
                List.of(), NOW);
        ZoneState s = Fixtures.state(zone, 42, infos, NOW);
        return new ZoneState(s.zone(), s.serial(), s.server(), checkedAt, s.changedAt(), s.reachable(), s.status(),
                s.problem(), s.keys(), s.validation(), s.rrsigExpires(), s.rrsigAlert(), s.rrsigAlertedAt(),
                s.soaExpire(), s.serialChangedAt(), s.stale(), s.cds(), s.cdnskey(), s.parentDs(), s.dsValidated(),
                s.servers());
    }

    List<MqttPublisher.Found> reconcile(ZoneState... known) {
        return publisher.reconcile(new HashMap<>(broker.retained), List.of(known));
    }

    @Test
    void aCheckBeforeTheFirstConnectIsPublishedOnceByTheReconcile() throws Exception {
        // issue 10 fault 1: the NOTIFY that arrives while the bridge is still connecting
        ZoneState s = state("d1.aa", 2, NOW);
        publisher.publish(s, List.of());
        assertEquals(List.of(), broker.sent, "nothing retained goes out before the connect");
        broker.connect();
        reconcile(s);
        assertEquals(2, broker.keyPublishes("d1.aa"));
        broker.sent.clear();
        // a reconnect (the broker kept everything): nothing is sent again
        broker.connect();
        reconcile(s);
        assertEquals(List.of(), broker.sent);
    }

    @Test
    void aRestartKeepsTheLaterCheckTimeTheBrokerHoldsButNothingElseOfIt() throws Exception {
        // issue 11: a check of an unchanged zone publishes its check time without saving it, so a
        // restart's reconcile republished the state topic and set checked_at back
        ZoneState saved = state("d1.aa", 2, NOW);
        broker.connect();
        reconcile();
        publisher.publish(state("d1.aa", 2, NOW.plusSeconds(600)), List.of()); // rechecked, not saved
        MqttPublisher restarted = new MqttPublisher(topics, broker, null);
        broker.connect();
        broker.sent.clear();
        restarted.reconcile(new HashMap<>(broker.retained), List.of(saved));
        assertEquals(List.of(), broker.sent, "the broker's copy differs by a later check time only");

        // a state that differs otherwise is the saved one, check time and all
        ZoneState failing = saved.withStatus("error", "the zone's servers answer REFUSED");
        MqttPublisher again = new MqttPublisher(topics, broker, null);
        broker.connect();
        broker.sent.clear();
        again.reconcile(new HashMap<>(broker.retained), List.of(failing));
        assertEquals(List.of("dnssec/d1.aa/state"), broker.sent.stream().map(t -> t.split(" ")[0]).toList());
        assertTrue(broker.retained.get("dnssec/d1.aa/state").contains("\"checked_at\":\"" + Json.time(NOW) + "\""),
                broker.retained.get("dnssec/d1.aa/state"));

        // a broker's copy checked earlier than the saved state is replaced too
        MqttPublisher later = new MqttPublisher(topics, broker, null);
        broker.connect();
        broker.sent.clear();
        later.reconcile(new HashMap<>(broker.retained), List.of(state("d1.aa", 2, NOW.plusSeconds(60))));
        assertEquals(List.of("dnssec/d1.aa/state"), broker.sent.stream().map(t -> t.split(" ")[0]).toList());
    }

    @Test
    void anUnchangedKeyIsNotRepublishedButTheStateIs() throws Exception {
        broker.connect();
        reconcile();
        publisher.publish(state("d1.aa", 2, NOW), List.of());
        broker.sent.clear();
        publisher.publish(state("d1.aa", 2, NOW.plusSeconds(60)), List.of());
        assertEquals(List.of("dnssec/d1.aa/state"), broker.sent.stream().map(t -> t.split(" ")[0]).toList());
    }

    @Test
    void thePublisherKeepsADigestOfEachTopicNotItsPayload() throws Exception {
        // issue 11: the payloads kept per topic were ~2.6 KB of heap per zone; a payload must be
        // collectable once it went out, while the publisher still knows not to send it again
        List<java.lang.ref.WeakReference<String>> gone = new ArrayList<>();
        List<String> sent = new ArrayList<>();
        Outbox counting = new ConnectedOutbox((topic, payload) -> {
            sent.add(new String(topic)); // a copy: the test must not hold the publisher's strings
            gone.add(new java.lang.ref.WeakReference<>(payload));
            if (topic.startsWith("dnssec/")) {
                // the zone's own topics are what its state renders to: not kept either
                sent.add(topic + " (topic)");
                gone.add(new java.lang.ref.WeakReference<>(topic));
            }
        }, (topic, payload) -> { });
        MqttPublisher p = new MqttPublisher(topics, counting, new HomeAssistant("homeassistant", topics, "test"), false);
        p.reconcile(Map.of(), List.of());
        p.publish(state("d1.aa", 2, NOW), List.of());
        p.publish(state("d1.aa", 2, NOW.plusSeconds(60)), List.of());
        assertTrue(gone.size() > 4, "keys, discovery configs, server and state went out: " + sent);
        for (int i = 0; i < 50 && gone.stream().anyMatch(r -> r.get() != null); i++) {
            System.gc(); // a full collection: HotSpot clears what nothing holds strongly
        }
        List<String> held = new ArrayList<>();
        for (int i = 0; i < gone.size(); i++) {
            if (gone.get(i).get() != null) {
                held.add(sent.get(i));
            }
        }
        assertEquals(List.of(), held, "payloads the publisher still holds");
        sent.clear();
        gone.clear();
        p.publish(state("d1.aa", 2, NOW.plusSeconds(120)), List.of());
        assertEquals(List.of("dnssec/d1.aa/state", "dnssec/d1.aa/state (topic)"), sent,
                "and still only what changed goes out");
    }

    @Test
    void aTopicTheBrokerHoldsWithAnotherPayloadIsSentAgainAnEqualOneIsNot() throws Exception {
        ZoneState s = state("d1.aa", 2, NOW);
        broker.connect();
        reconcile(s);
        broker.sent.clear();
        String key = "dnssec/d1.aa/keys/" + s.keys().get(0).topicId();
        String other = "dnssec/d1.aa/keys/" + s.keys().get(1).topicId();
        String right = broker.retained.get(key);
        // one byte differs (the TTL), as after a crash between publishing and saving
        broker.retained.put(key, right.replace("\"ttl\":", "\"ttl\":1"));
        broker.connect();
        reconcile(s);
        assertEquals(List.of(key + " " + right), broker.sent, "only the key whose payload differs: " + broker.sent);
        assertTrue(broker.retained.containsKey(other));
        // a key that changed (now in the zone's CDS) goes out once, the other one not
        ZoneState cds = withKeys(s, List.of(s.keys().get(0).withPublication(true, null), s.keys().get(1)));
        broker.sent.clear();
        publisher.publish(cds, List.of());
        assertEquals(List.of(key, "dnssec/d1.aa/state"), broker.sent.stream().map(t -> t.split(" ")[0]).toList());
        broker.sent.clear();
        publisher.publish(cds, List.of());
        assertEquals(List.of(), broker.sent);
    }

    static ZoneState withKeys(ZoneState s, List<KeyInfo> keys) {
        return new ZoneState(s.zone(), s.serial(), s.server(), s.checkedAt(), s.changedAt(), s.reachable(), s.status(),
                s.problem(), keys, s.validation(), s.rrsigExpires(), s.rrsigAlert(), s.rrsigAlertedAt(),
                s.soaExpire(), s.serialChangedAt(), s.stale(), s.cds(), s.cdnskey(), s.parentDs(), s.dsValidated(),
                s.servers());
    }

    @Test
    void aRemovedKeyIsClearedAndEventsGoFirst() throws Exception {
        broker.connect();
        reconcile();
        ZoneState two = state("d1.aa", 2, NOW);
        publisher.publish(two, List.of());
        broker.sent.clear();
        ZoneState one = state("d1.aa", 1, NOW);
        Event e = Event.of("key_removed", "d1.aa", NOW).text("t", "m", Event.HIGH);
        publisher.publish(one, List.of(e));
        assertTrue(broker.sent.get(0).startsWith("dnssec/d1.aa/events "), broker.sent.toString());
        List<String> kept = one.keys().stream().map(KeyInfo::topicId).toList();
        String gone = "dnssec/d1.aa/keys/" + two.keys().stream().map(KeyInfo::topicId)
                .filter(t -> !kept.contains(t)).findFirst().orElseThrow();
        assertTrue(broker.sent.contains(gone + " "), broker.sent.toString());
        assertTrue(!broker.retained.containsKey(gone));
    }

    @Test
    void aReconnectClearsWhatTheBrokerHoldsButTheStateDoesNot() throws Exception {
        // e.g. a crash between publishing a key and saving the state that removed it
        ZoneState one = state("d1.aa", 1, NOW);
        broker.connect();
        broker.retained.put("dnssec/d1.aa/keys/99", "{\"zone\":\"d1.aa\"}");
        reconcile(one);
        assertTrue(broker.sent.contains("dnssec/d1.aa/keys/99 "), broker.sent.toString());
        assertEquals(1, broker.keyPublishes("d1.aa") - 1);
    }

    @Test
    void aZoneOnTheBrokerWithoutAStateIsFoundNotWiped() throws Exception {
        // issue 10 fault 0: the state file was lost; the broker's retained topics are a second copy
        broker.connect();
        reconcile();
        ZoneState s = state("d1.aa", 2, NOW);
        publisher.publish(s, List.of());
        MqttPublisher other = new MqttPublisher(topics, broker, null); // a restart that lost its state
        broker.connect();
        broker.sent.clear();
        List<MqttPublisher.Found> found = other.reconcile(new HashMap<>(broker.retained), List.of());
        assertEquals(List.of(), broker.sent, "nothing of the zone is cleared");
        assertEquals(1, found.size());
        assertEquals("d1.aa", found.get(0).zone());
        assertEquals(s.server(), found.get(0).server());
        assertEquals(2, found.get(0).keys().size());
        assertEquals(NOW, found.get(0).keys().get(0).firstSeen());
        // the adopting check publishes the same keys: nothing but the state goes out
        other.publish(s, List.of());
        assertEquals(List.of(), broker.sent.stream().filter(t -> t.contains("/keys/")).toList());
    }

    @Test
    void aForgottenZoneIsClearedAndNotAdoptedAtTheNextConnect() throws Exception {
        broker.connect();
        reconcile();
        publisher.publish(state("d1.aa", 2, NOW), List.of());
        broker.connected = false; // the clears cannot reach the broker now
        publisher.clear("d1.aa");
        broker.connect();
        List<MqttPublisher.Found> found = reconcile();
        assertEquals(List.of(), found);
        assertEquals(Map.of(), broker.retained, "cleared at the reconcile");
    }

    @Test
    void homeAssistantConfigsAreRetainedTopicsOfTheZone() throws Exception {
        HomeAssistant ha = new HomeAssistant("homeassistant", topics, "test");
        MqttPublisher withHa = new MqttPublisher(topics, broker, ha);
        broker.connect();
        withHa.reconcile(Map.of(), List.of());
        withHa.publish(state("d1.aa", 2, NOW), List.of());
        List<String> configs = broker.sent.stream().filter(t -> t.startsWith("homeassistant/")).toList();
        assertEquals(5, configs.size());
        broker.sent.clear();
        withHa.publish(state("d1.aa", 2, NOW.plusSeconds(1)), List.of());
        assertEquals(0, broker.sent.stream().filter(t -> t.startsWith("homeassistant/")).count());
        withHa.rediscover(); // Home Assistant restarted
        // the configs are not kept: rendered again, byte for byte what went out first
        assertEquals(configs, broker.sent.stream().filter(t -> t.startsWith("homeassistant/")).toList());
        broker.sent.clear();
        withHa.clear("d1.aa");
        assertEquals(5, broker.sent.stream().filter(t -> t.startsWith("homeassistant/") && t.endsWith(" ")).count());
    }

    @Test
    void inClusterModeEachZonesReplicaGoesOutLastAndReadsBackAsTheSameState() throws Exception {
        MqttPublisher active = new MqttPublisher(topics, broker, null, true);
        broker.connect();
        active.reconcile(Map.of(), List.of());
        ZoneState s = state("d1.aa", 2, NOW);
        active.publish(s, List.of());
        String last = broker.sent.get(broker.sent.size() - 1);
        assertTrue(last.startsWith("dnssec/_bridge/replica/d1.aa "), broker.sent.toString());
        assertEquals(s, org.dnssec2mqtt.cluster.Replica.decode(broker.retained.get("dnssec/_bridge/replica/d1.aa")));
        active.clear("d1.aa");
        assertTrue(!broker.retained.containsKey("dnssec/_bridge/replica/d1.aa"), "a forgotten zone's replica is cleared");
    }

    @Test
    void aTakeoverKeepsTheBrokersNewerCopyUntilTheZonesCheck() throws Exception {
        // issue 13: the dead node published two keys; the standby followed only its one-key state
        MqttPublisher dead = new MqttPublisher(topics, broker, null, true);
        broker.connect();
        dead.reconcile(Map.of(), List.of());
        dead.publish(state("d1.aa", 1, NOW), List.of());
        String followed = broker.retained.get("dnssec/_bridge/replica/d1.aa");
        ZoneState two = state("d1.aa", 2, NOW.plusSeconds(5));
        dead.publish(two, List.of()); // published, but it died before its replica reached the standby
        ZoneState standbyState = org.dnssec2mqtt.cluster.Replica.decode(followed);

        MqttPublisher taking = new MqttPublisher(topics, broker, null, true);
        taking.takeover(List.of(standbyState));
        broker.connect();
        broker.sent.clear();
        taking.reconcile(new HashMap<>(broker.retained), List.of(standbyState));
        assertEquals(List.of(), broker.sent, "no key topic goes back to the older state");
        taking.publish(two, List.of()); // the takeover's check finds the two keys
        assertEquals(0, broker.keyPublishes("d1.aa"), "and then nothing is republished unchanged: " + broker.sent);
    }
}
