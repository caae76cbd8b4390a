package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.cluster.Replica;
import org.dnssec2mqtt.zone.Fixtures;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;

/**
 * The publisher reuses what its latest render of a zone made of unchanged parts (discovery
 * configs, key payloads, each key inside the replica): after every check the broker must hold
 * exactly what rendering the state from scratch gives, whatever changed in between.
 */
class MqttPublisherRenderTest {
    static final Instant NOW = MqttPublisherTest.NOW;

    final MqttPublisherTest.Broker broker = new MqttPublisherTest.Broker();
    final Topics topics = new Topics("dnssec");
    final List<String> nodes = new ArrayList<>(List.of("node-a"));
    final HomeAssistant ha = new HomeAssistant("homeassistant", topics, "test", () -> List.copyOf(nodes));
    final MqttPublisher publisher = new MqttPublisher(topics, broker, ha, true);

    /** Every retained topic of the zone, rendered from scratch as before the reuse. */
    Map<String, String> fromScratch(ZoneState s) {
        Map<String, String> out = new LinkedHashMap<>(ha.configs(s.zone()));
        for (KeyInfo k : s.keys()) {
            out.put(topics.key(s.zone(), k.topicId()), Json.object(Payloads.key(k)));
        }
        for (ServerState sv : s.servers()) {
            out.put(topics.server(s.zone(), sv.server()), Json.object(Payloads.server(s.zone(), sv)));
        }
        out.put(topics.zoneState(s.zone()), Json.object(Payloads.zoneState(s)));
        out.put(topics.replica(s.zone()), Replica.encode(s));
        return out;
    }

    static ZoneState with(ZoneState s, List<KeyInfo> keys, Instant checkedAt, List<ServerState> servers) {
        return new ZoneState(s.zone(), s.serial(), s.server(), checkedAt, s.changedAt(), s.reachable(), s.status(),
                s.problem(), keys, s.validation(), s.rrsigExpires(), s.rrsigAlert(), s.rrsigAlertedAt(),
                s.soaExpire(), s.serialChangedAt(), s.stale(), s.cds(), s.cdnskey(), s.parentDs(), s.dsValidated(),
                servers);
    }

    @Test
    void everyCheckLeavesOnTheBrokerWhatAFreshRenderGives() throws Exception {
        var records = Fixtures.keys("d1.aa.dnskey");
        List<KeyInfo> all = KeyAnalyzer.analyze(Fixtures.snapshot(records, records.subList(0, 1), records.subList(1, 2)),
                List.of(), NOW);
        ZoneState base = Fixtures.state("d1.aa", 42, all, NOW);
        ServerState one = new ServerState("127.0.0.1:53", 42, "", List.of(1, 2), true, false, NOW);
        ServerState two = new ServerState("127.0.0.2:53", 41, "", List.of(1), false, true, NOW);
        List<ZoneState> checks = new ArrayList<>();
        checks.add(with(base, all.subList(0, 2), NOW, List.of(one)));
        checks.add(with(base, all.subList(0, 2), NOW.plusSeconds(60), List.of(one))); // only the time moved
        checks.add(with(base, all, NOW.plusSeconds(120), List.of(one, two))); // keys and a server added
        List<KeyInfo> changed = new ArrayList<>();
        for (KeyInfo k : all) {
            changed.add(k.sep() ? k.withPublication(true, Boolean.TRUE) : k); // CDS and DS seen
        }
        checks.add(with(base, changed, NOW.plusSeconds(180), List.of(two)));
        checks.add(with(base, List.of(changed.get(0).withTopicId(changed.get(0).keytag() + "-2")),
                NOW.plusSeconds(240), List.of())); // a topic moved, keys and servers gone
        checks.add(with(base, all, NOW.plusSeconds(300), List.of(one)));
        broker.connect();
        publisher.reconcile(Map.of(), List.of());
        for (int i = 0; i < checks.size(); i++) {
            if (i == 3) {
                nodes.add("node-b"); // availability changes the discovery configs
            }
            ZoneState s = checks.get(i);
            publisher.publish(s, List.of());
            assertEquals(fromScratch(s), broker.retained, "check " + i);
        }
        // what changes only with the cluster's nodes, without a check
        nodes.remove("node-a");
        publisher.rerender(List.of(checks.get(checks.size() - 1)));
        assertEquals(fromScratch(checks.get(checks.size() - 1)), broker.retained);
    }

    @Test
    void aReplicaWithKeysRememberedIsTheSameAsOneWithout() throws Exception {
        var records = Fixtures.keys("d1.aa.dnskey");
        List<KeyInfo> all = KeyAnalyzer.analyze(Fixtures.snapshot(records, records.subList(0, 2), List.of()),
                List.of(), NOW);
        ZoneState s = Fixtures.state("d1.aa", 42, all, NOW);
        Map<KeyInfo, String> memo = new java.util.HashMap<>();
        assertEquals(Replica.encode(s), Replica.encode(s, memo));
        assertEquals(all.size(), memo.size());
        assertEquals(Replica.encode(s), Replica.encode(s, memo), "from the memo");
    }
}
