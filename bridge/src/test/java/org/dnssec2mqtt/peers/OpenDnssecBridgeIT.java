package org.dnssec2mqtt.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.support.AuthoritativeServer;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.OpenDnssecSigner;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Type;

/**
 * A real OpenDNSSEC 2.1 (enforcer + signer, keys in SoftHSM2) behind a real NSD, as deployed: the
 * signer's DNS output adapter NOTIFYs NSD and serves it the signed zone by IXFR/AXFR, NSD NOTIFYs
 * the bridge and answers its queries (the signer's own listener answers SOA without the RRSIG, which
 * the bridge rightly rejects). Key changes come from OpenDNSSEC's own machinery: {@code ods-enforcer
 * key rollover} for the ZSK, whose timing the enforcer drives from the test policy
 * ({@link OpenDnssecSigner#POLICY}); the whole test takes some 8-14 s.
 *
 * <p>Not a {@link PeerScenario}: OpenDNSSEC has no RFC 5011 revocation, and the fixture does not
 * sign NOTIFYs with TSIG. One broker (embedded Moquette): the peer's behaviour, not the broker's,
 * is under test here, and the broker paths are covered by the other peers.
 */
@Timeout(90)
class OpenDnssecBridgeIT {
    private static final String ZONE = "ods.test";
    private static final Duration WAIT = Duration.ofSeconds(15);
    /** The old ZSK leaves once the enforcer counts its signatures gone: 10-25 s with the test policy. */
    private static final Duration REMOVAL_WAIT = Duration.ofSeconds(40);

    @TempDir
    Path dir;

    @Test
    void zskRolloverIsReported() throws Exception {
        int notifyPort = FreePorts.tcpAndUdp();
        long t0 = System.nanoTime();
        // start order: whoever receives a NOTIFY listens before the sender starts (the signer's port
        // is chosen before it starts). NSD's NOTIFY to the bridge is the one the bridge hears.
        try (OpenDnssecSigner ods = new OpenDnssecSigner(dir.resolve("ods"));
                NsdServer nsd = new NsdServer(dir.resolve("nsd")).secondary(ZONE, ods.port(), notifyPort).start()) {
            int embeddedPort = FreePorts.tcp();
            var config = TestConfig.load(dir, """
                    notify.listen = 127.0.0.1:%d
                    notify.allow = 127.0.0.0/8
                    dns.query-port = %d
                    dns.timeout = 2s
                    poll.soa-interval = 0
                    poll.full-interval = 0
                    mqtt.embedded.listen = 127.0.0.1:%d
                    data.dir = %s
                    keylog.file = %s
                    """.formatted(notifyPort, nsd.port(), embeddedPort, dir.resolve("data"), dir.resolve("keys.log")));
            try (Main.Running bridge = Main.start(config, Clock.systemUTC());
                    MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + embeddedPort, "dnssec/#")) {
                long t1 = System.nanoTime();
                ods.zone(ZONE, nsd.port(), null).start();
                System.out.printf("OpenDnssecBridgeIT: OpenDNSSEC serving after %d ms%n", (System.nanoTime() - t1) / 1_000_000);
                try {
                    scenario(ods, nsd, mqtt);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\n--- MQTT ---\n" + mqtt.dump() + "\n" + ods.log()
                            + "\n" + nsd.log(), e);
                }
            }
        } finally {
            System.out.printf("OpenDnssecBridgeIT: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    private static void scenario(OpenDnssecSigner ods, NsdServer nsd, MqttRecorder mqtt) throws InterruptedException {
        // 1. the signer NOTIFYs after its first signing (and once more after ods-signer sign, a new
        //    serial with the same keys): the bridge adds the zone with the KSK and ZSK the enforcer made
        List<DNSKEYRecord> served = awaitServed(nsd, keys -> AuthoritativeServer.count(keys, 257) == 1
                && AuthoritativeServer.count(keys, 256) == 1);
        ods.sign(ZONE);
        List<Integer> tags = served.stream().map(DNSKEYRecord::getFootprint).sorted().toList();
        JsonObject added = PeerScenario.json(PeerScenario.event(mqtt, ZONE, "zone_added", -1));
        List<Integer> announced = new ArrayList<>();
        added.getAsJsonArray("keytags").forEach(tag -> announced.add(tag.getAsInt()));
        assertEquals(tags, announced.stream().sorted().toList(), "zone_added keytags");
        DNSKEYRecord ksk = served.stream().filter(k -> k.getFlags() == 257).findFirst().orElseThrow();
        DNSKEYRecord zsk = served.stream().filter(k -> k.getFlags() == 256).findFirst().orElseThrow();
        JsonObject kskTopic = PeerScenario.json(mqtt.await("dnssec/" + ZONE + "/keys/" + ksk.getFootprint(), WAIT));
        assertEquals("KSK", kskTopic.get("role").getAsString());
        assertTrue(kskTopic.get("ds_sha256").getAsString().startsWith(ksk.getFootprint() + " 13 2 "), kskTopic.toString());
        assertEquals("ZSK", PeerScenario.json(mqtt.await("dnssec/" + ZONE + "/keys/" + zsk.getFootprint(), WAIT))
                .get("role").getAsString());
        assertTrue(mqtt.retained("dnssec/" + ZONE + "/keys/" + ksk.getFootprint()).isPresent(), "KSK topic retained");
        assertTrue(mqtt.retained("dnssec/" + ZONE + "/keys/" + zsk.getFootprint()).isPresent(), "ZSK topic retained");

        // 2. ZSK rollover (pre-publication): the enforcer makes a key in the HSM, the signer publishes
        //    it under a new serial and NOTIFYs NSD, NSD transfers and NOTIFYs the bridge: key_added.
        //    With the test policy the old ZSK may already be gone by the bridge's check (2-25 s
        //    later, depending on how old its signatures are), so the new tag comes from the event.
        ods.enforcer("key", "rollover", "--zone", ZONE, "--keytype", "ZSK");
        JsonObject keyAdded = PeerScenario.json(PeerScenario.event(mqtt, ZONE, "key_added", -1));
        int newZsk = keyAdded.get("keytag").getAsInt();
        assertEquals("ZSK", keyAdded.get("role").getAsString(), keyAdded.toString());
        assertFalse(tags.contains(newZsk), "key_added for a key the zone had: " + keyAdded);
        assertFalse(mqtt.await("dnssec/" + ZONE + "/keys/" + newZsk, WAIT).payload().isEmpty());

        // 3. the enforcer retires the old ZSK by itself once its signatures are replaced: the signer
        //    drops it under a new serial: key_removed, topic cleared
        PeerScenario.event(mqtt, ZONE, "key_removed", zsk.getFootprint(), REMOVAL_WAIT);
        mqtt.await(m -> m.topic().equals("dnssec/" + ZONE + "/keys/" + zsk.getFootprint()) && m.payload().isEmpty(), WAIT);
        assertTrue(mqtt.retained("dnssec/" + ZONE + "/keys/" + zsk.getFootprint()).isEmpty(), "old ZSK topic cleared");
        awaitServed(nsd, keys -> keys.stream().map(DNSKEYRecord::getFootprint).collect(Collectors.toSet())
                .equals(Set.of(ksk.getFootprint(), newZsk)));
    }

    /** Polls the DNSKEY set NSD serves (transferred from the signer) until it matches. */
    private static List<DNSKEYRecord> awaitServed(NsdServer nsd, Predicate<List<DNSKEYRecord>> match)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<DNSKEYRecord> seen = List.of();
        while (true) {
            try {
                seen = AuthoritativeServer.dnskeysIn(nsd.query(ZONE, Type.DNSKEY));
                if (match.test(seen)) {
                    return seen;
                }
            } catch (UncheckedIOException notYet) {
                // NSD closed a pooled connection: ask again
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("NSD's DNSKEY set of " + ZONE + " did not match within " + WAIT + "; last:\n"
                        + AuthoritativeServer.describe(seen));
            }
            Thread.sleep(50); // polling another process: there is no event to wait for
        }
    }
}
