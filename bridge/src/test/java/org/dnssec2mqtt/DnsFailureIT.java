package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.SpoofingServer;
import org.dnssec2mqtt.support.SpoofingServer.Mode;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * A zone's server fails or lies: answers with the wrong ID, the wrong question, a bad or missing
 * TSIG, each forging "every key is gone". The bridge must report the zone unreachable once, never
 * retract a key, and report recovery once. NOTIFYs from outside {@code notify.allow} or with bad
 * TSIG must not cost a single query.
 */
@Timeout(90)
class DnsFailureIT {
    static final Duration WAIT = Duration.ofSeconds(15);
    static final Name ZONE = Name.fromConstantString("example.test.");
    static final Name KEY_NAME = Name.fromConstantString("q-key.");
    static final String SECRET = Base64.getEncoder().encodeToString("query-secret-0123456789abcdefghij".getBytes());
    static final TSIG KEY = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, SECRET);
    static final TSIG WRONG = new TSIG(TSIG.HMAC_SHA256, KEY_NAME,
            Base64.getEncoder().encodeToString("not-the-secret-0123456789abcdefgh".getBytes()));

    @TempDir
    Path dir;
    DemoZone zone;
    DemoZone.Key ksk;
    DemoZone.Key zsk;
    SpoofingServer dns;
    Main.Running bridge;
    MqttRecorder mqtt;
    InetSocketAddress notifyAt;

    @BeforeEach
    void setUp() throws Exception {
        zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
        ksk = zone.addKey(true, true);
        zsk = zone.addKey(false, true);
        dns = new SpoofingServer(zone, KEY, WRONG);
        Path keyFile = dir.resolve("tsig.key");
        Files.writeString(keyFile, "key \"q-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + SECRET + "\";\n};\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        int mqttPort = FreePorts.tcp();
        bridge = Main.start(TestConfig.load(dir, """
                notify.listen = 127.0.0.1:0
                notify.allow = 127.0.0.2/32
                tsig.keyfile = %s
                dns.timeout = 1s
                # SpoofingServer answers over TCP only (forged UDP answers: UdpExchangeTest)
                dns.transport = tcp
                poll.full-interval = 0
                mqtt.embedded.listen = 127.0.0.1:%d
                data.dir = %s
                zones.example.test.servers = 127.0.0.1:%d
                zones.example.test.tsig-key = q-key
                """.formatted(keyFile, mqttPort, dir.resolve("data"), dns.port())), Clock.systemUTC());
        notifyAt = bridge.listener.udpAddresses().get(0);
        mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/#");
        // the start-up check of the configured zone, over TSIG (its zone_added event may come
        // before we subscribe: wait for the retained topics instead)
        mqtt.await("dnssec/example.test/keys/" + ksk.tag(), WAIT);
        mqtt.await("dnssec/example.test/state", WAIT);
    }

    @AfterEach
    void tearDown() {
        if (mqtt != null) {
            mqtt.close();
        }
        if (bridge != null) {
            bridge.close();
        }
        dns.close();
    }

    MqttRecorder.Received event(String type) {
        return mqtt.await(m -> m.topic().equals("dnssec/example.test/events") && m.payload().contains("\"event\":\"" + type + "\""), WAIT);
    }

    long events(String type) {
        return mqtt.messages().stream()
                .filter(m -> m.topic().equals("dnssec/example.test/events") && m.payload().contains("\"event\":\"" + type + "\""))
                .count();
    }

    JsonObject recheck() {
        mqtt.clear();
        mqtt.publish("dnssec/_bridge/request/recheck", "example.test", false);
        return JsonParser.parseString(mqtt.await("dnssec/_bridge/response/recheck", WAIT).payload()).getAsJsonObject();
    }

    @Test
    void forgedAnswersAreRejectedKeysKeptAndOutageAndRecoveryReportedOnce() {
        List<MqttRecorder.Received> seen = new java.util.ArrayList<>();
        for (Mode m : List.of(Mode.WRONG_ID, Mode.WRONG_QUESTION, Mode.BAD_TSIG, Mode.UNSIGNED, Mode.BAD_TSIG, Mode.WRONG_ID)) {
            dns.mode(m);
            JsonObject r = recheck();
            assertEquals("error", r.get("status").getAsString(), m + ": " + r);
            seen.addAll(mqtt.messages());
        }
        String all = seen.toString();
        // One zone_unreachable for six failed checks in a row; nothing retracted, nothing added.
        assertEquals(1, seen.stream().filter(x -> x.payload().contains("\"event\":\"zone_unreachable\"")).count(), all);
        assertFalse(all.contains("key_removed") || all.contains("key_added") || all.contains("key_changed"), all);
        assertTrue(seen.stream().noneMatch(x -> x.topic().contains("/keys/") && x.payload().isEmpty()), "a key topic was cleared: " + all);
        JsonObject state = JsonParser.parseString(mqtt.retained("dnssec/example.test/state").orElseThrow()).getAsJsonObject();
        // the last state published during the failures
        assertFalse(seen.stream().filter(x -> x.topic().equals("dnssec/example.test/state")).reduce((a, b) -> b)
                .map(x -> JsonParser.parseString(x.payload()).getAsJsonObject().get("reachable").getAsBoolean()).orElseThrow());
        assertEquals(2, seen.stream().filter(x -> x.topic().equals("dnssec/example.test/state")).map(x ->
                JsonParser.parseString(x.payload()).getAsJsonObject().get("keys").getAsInt()).reduce((a, b) -> b).orElseThrow());

        dns.mode(Mode.HONEST);
        assertEquals("ok", recheck().get("status").getAsString());
        event("zone_recovered");
        assertEquals("ok", recheck().get("status").getAsString());
        mqtt.expectNone(x -> x.topic().endsWith("/events"), Duration.ofMillis(300));
        assertTrue(state.has("zone"));
    }

    @Test
    void notifiesFromOutsideTheAclOrWithBadTsigCostNoQuery() throws Exception {
        mqtt.await("dnssec/example.test/state", WAIT);
        mqtt.clear();
        long before = dns.queries();
        long serial = zone.signed().serial() + 1;
        assertEquals(Rcode.REFUSED, send("127.0.0.1", notify(serial, null)));        // outside notify.allow
        assertEquals(Rcode.REFUSED, send("127.0.0.3", notify(serial, KEY)));         // outside, even signed
        assertEquals(Rcode.NOTAUTH, send("127.0.0.2", notify(serial, WRONG)));       // BADSIG
        TSIG unknown = new TSIG(TSIG.HMAC_SHA256, Name.fromConstantString("who."), SECRET);
        assertEquals(Rcode.NOTAUTH, send("127.0.0.2", notify(serial, unknown)));     // BADKEY
        // (the start-up check's zone_added may still be on its way: any other event would be wrong)
        mqtt.expectNone(m -> m.topic().endsWith("/events") && !m.payload().contains("zone_added"), Duration.ofMillis(500));
        assertEquals(before, dns.queries(), "a refused NOTIFY must not cause a query");

        // control: the same NOTIFY, allowed and signed, does cause a check
        assertEquals(Rcode.NOERROR, send("127.0.0.2", notify(serial, KEY)));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (dns.queries() == before && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling interval
        }
        assertTrue(dns.queries() > before, "an accepted NOTIFY with a new serial must cause a query");
    }

    byte[] notify(long serial, TSIG key) {
        Message m = new Message();
        m.getHeader().setOpcode(Opcode.NOTIFY);
        m.getHeader().setFlag(Flags.AA);
        m.addRecord(Record.newRecord(ZONE, Type.SOA, DClass.IN), Section.QUESTION);
        org.xbill.DNS.SOARecord soa = (org.xbill.DNS.SOARecord) zone.signed().soa().first();
        m.addRecord(new org.xbill.DNS.SOARecord(ZONE, DClass.IN, 300, soa.getHost(), soa.getAdmin(), serial,
                3600, 600, 1209600, 300), Section.ANSWER);
        if (key != null) {
            m.setTSIG(key, Rcode.NOERROR, null);
        }
        return m.toWire(Message.MAXLENGTH);
    }

    int send(String from, byte[] wire) throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(from), 0))) {
            s.setSoTimeout(3000);
            s.send(new DatagramPacket(wire, wire.length, notifyAt));
            DatagramPacket p = new DatagramPacket(new byte[4096], 4096);
            s.receive(p);
            return new Message(Arrays.copyOf(p.getData(), p.getLength())).getRcode();
        }
    }
}
