package org.dnssec2mqtt.bench;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.cluster.Replica;
import org.dnssec2mqtt.mqtt.HomeAssistant;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.mqtt.MqttPublisher;
import org.dnssec2mqtt.mqtt.ConnectedOutbox;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.Validator;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.dnssec2mqtt.zone.ZoneState;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;

/**
 * The CPU of one periodic check of an unchanged zone after its answers came in, through the
 * code a check runs: {@link ZoneEvaluator#full} with the checker's long-lived {@link Validator}
 * (and its parts alone), then {@link MqttPublisher#publish} rendering every retained topic of the
 * zone (keys, servers, state, Home Assistant configs, replica) and comparing it with what was
 * sent before. Zones of 2 keys (KSK + ZSK) and 5 keys (2 KSKs, 2 ZSKs, a stand-by ZSK), signed
 * ECDSAP256SHA256, asked of 2 servers. No JMH: warm-up, then the median of many timed batches
 * ({@link CryptoBench#medianMicros}). Pure CPU, no network.
 */
public final class CheckBench {
    private CheckBench() {}

    public static void main(String[] args) throws Exception {
        String provider = CryptoProvider.install(CryptoProvider.Mode.AUTO);
        System.out.println("Java " + System.getProperty("java.version") + " " + String.join(" ",
                java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) + ", " + provider
                + "; median µs of thread CPU time per operation");
        System.out.println();
        System.out.println("| operation | 2 keys | 5 keys |");
        System.out.println("|---|---:|---:|");
        List<Map<String, CryptoBench.Op>> sets = List.of(ops(2), ops(5));
        for (String name : sets.get(0).keySet()) {
            StringBuilder row = new StringBuilder("| " + name + " |");
            for (Map<String, CryptoBench.Op> ops : sets) {
                row.append(String.format(Locale.ROOT, " %.1f |", CryptoBench.medianMicros(ops.get(name))));
            }
            System.out.println(row);
        }
    }

    private static Map<String, CryptoBench.Op> ops(int keys) throws Exception {
        Instant signedAt = Instant.parse("2026-11-22T06:00:00Z");
        Name name = Name.fromConstantString("bench-" + keys + ".example.");
        DemoZone zone = new DemoZone(name, 1, Clock.fixed(signedAt, ZoneOffset.UTC));
        zone.addKey(true, true);
        zone.addKey(false, true);
        if (keys == 5) {
            zone.addKey(true, true);
            zone.addKey(false, true);
            zone.addKey(false, false);
        }
        DemoZone.Signed s = zone.signed();
        ZoneSnapshot answer = new ZoneSnapshot(name, "127.0.0.1:53", (SOARecord) s.soa().first(),
                s.dnskey().rrs(false).stream().map(r -> (DNSKEYRecord) r).toList(), s.dnskey().sigs(),
                s.soa().sigs(), List.of(), List.of());
        Instant now = signedAt.plusSeconds(600);
        List<Integer> tags = answer.keys().stream().map(DNSKEYRecord::getFootprint).sorted().toList();
        List<ServerState> servers = List.of(
                new ServerState("127.0.0.1:53", s.serial(), "", tags, true, false, now),
                new ServerState("127.0.0.2:53", s.serial(), "", tags, true, false, now));
        ZoneEvaluator.Observation obs = new ZoneEvaluator.Observation(answer, servers, null);
        Validator validator = new Validator();
        ZoneState first = ZoneEvaluator.full(null, false, obs, ZoneEvaluator.Settings.DEFAULTS, now, validator).state();
        ZoneState before = ZoneEvaluator.full(first, true, obs, ZoneEvaluator.Settings.DEFAULTS, now, validator).state();

        // two checks apart in time: each publish renders everything, and the state topic differs
        List<ZoneState> states = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            states.add(ZoneEvaluator.full(before, true, obs, ZoneEvaluator.Settings.DEFAULTS,
                    now.plusSeconds(60L * i), validator).state());
        }
        Topics topics = new Topics("dnssec");
        long[] sent = {0};
        // a connected link that keeps nothing: the publisher's own comparison decides what is sent
        ConnectedOutbox out = new ConnectedOutbox((t, p) -> sent[0] += p.length(), (t, p) -> sent[0] += p.length());
        MqttPublisher publisher = new MqttPublisher(topics, out,
                new HomeAssistant("homeassistant", topics, "bench"), true);
        publisher.reconcile(Map.of(), List.of());

        Map<String, CryptoBench.Op> ops = new java.util.LinkedHashMap<>();
        String verified = new Validator().check(answer, now, null).verified();
        ops.put("Validator.check (first check: verifies)", () -> new Validator().check(answer, now, null));
        ops.put("Validator.check (verified before)", () -> validator.check(answer, now, verified));
        ops.put("KeyAnalyzer.analyze", () -> KeyAnalyzer.analyze(answer, before.keys(), now));
        ops.put("ZoneEvaluator.full (whole evaluation)", () -> ZoneEvaluator.full(before, true, obs,
                ZoneEvaluator.Settings.DEFAULTS, now, validator));
        int[] turn = {0};
        ops.put("MqttPublisher.publish (render + compare, HA + replica)", () -> {
            publisher.publish(states.get(turn[0]++ & 1), List.of());
            return out;
        });
        // its parts, as render builds them
        HomeAssistant ha = new HomeAssistant("homeassistant", topics, "bench");
        ZoneState st = states.get(0);
        ops.put("  Home Assistant configs", () -> ha.configs(st.zone()));
        ops.put("  key payloads", () -> {
            List<String> p = new ArrayList<>();
            for (org.dnssec2mqtt.zone.KeyInfo k : st.keys()) {
                p.add(Json.object(Payloads.key(k)));
            }
            return p;
        });
        ops.put("  server payloads", () -> {
            List<String> p = new ArrayList<>();
            for (ServerState sv : st.servers()) {
                p.add(Json.object(Payloads.server(st.zone(), sv)));
            }
            return p;
        });
        ops.put("  state payload", () -> Json.object(Payloads.zoneState(st)));
        ops.put("  replica payload", () -> Replica.encode(st));
        return ops;
    }
}
