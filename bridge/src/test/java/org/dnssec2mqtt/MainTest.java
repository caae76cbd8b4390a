package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;

/** The command line: exit codes and output of --check-config and check. */
class MainTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        return Main.run(args, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void checkConfigAcceptsTheSampleAnywhereOnTheLine() {
        assertEquals(0, run("--check-config", "--config", "dnssec2mqtt.properties"));
        assertTrue(out().startsWith("configuration is valid: dnssec2mqtt.properties"), out());
        assertEquals(0, run("--config", "dnssec2mqtt.properties", "--check-config"));
    }

    @Test
    void checkConfigListsEveryProblem() throws Exception {
        Path bad = dir.resolve("bad.properties");
        Files.writeString(bad, "dns.query-port = 70000\nmqtt.topic-prefix = a/#\n");
        assertEquals(1, run("--check-config", "--config", bad.toString()));
        assertTrue(err().contains("  dns.query-port: "), err());
        assertTrue(err().contains("  mqtt.topic-prefix: "), err());
    }

    /** Fault 3: a space-separated server list is two servers; an illegal host fails the check, naming the key. */
    @Test
    void checkConfigTakesSpaceSeparatedServersAndNamesIllegalHosts() throws Exception {
        Path good = dir.resolve("good.properties");
        Files.writeString(good, "zones.x.servers = 127.0.0.1:5301 127.0.0.1:5302\n");
        assertEquals(0, run("--check-config", "--config", good.toString()), err());

        Path bad = dir.resolve("bad.properties");
        Files.writeString(bad, "zones.x.servers = 127.0.0.1:5301;x\ndns.servers = ns1.example.org, ns_2.example.org\n");
        assertEquals(1, run("--check-config", "--config", bad.toString()));
        assertEquals("invalid configuration in " + bad + ":\n"
                + "  dns.servers: 'ns_2.example.org' is not a host[:port]: '_' is not allowed in a host name"
                + " (letters, digits, '-' and '.'; IPv6 as [address]:port)\n"
                + "  zones.x.servers: '127.0.0.1:5301;x' is not a host[:port]: port must be 1-65535 (is '5301;x')\n",
                err());
    }

    @Test
    void missingConfigFileIsAnErrorNotDefaults() {
        assertEquals(1, run("--check-config", "--config", dir.resolve("nope.properties").toString()));
        assertTrue(err().contains("nope.properties"), err());
    }

    @Test
    void badUsageExitsTwo() {
        assertEquals(2, run("--config"));
        assertEquals(2, run("frobnicate"));
        assertEquals(2, run("check", "example.test"));
        assertEquals(2, run("check", "example.test", "--server", "127.0.0.1:99999"));
    }

    @Test
    void checkPrintsKeysInKeyListenStyle() throws Exception {
        DemoZone zone = new DemoZone(Name.fromConstantString("d1.aa."), 1, Clock.systemUTC());
        DemoZone.Key ksk = zone.addKey(true, true);
        DemoZone.Key zsk = zone.addKey(false, true);
        try (AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start()) {
            auth.add(zone);
            assertEquals(0, run("check", "d1.aa", "--server", "127.0.0.1:" + auth.port()), err());
            String o = out();
            assertTrue(o.contains("d1.aa. 300 IN DNSKEY 257 3 13 "), o);
            assertTrue(o.contains(" ; Key-ID " + ksk.tag() + "\n"), o);
            assertTrue(o.contains(" ; Key-ID " + zsk.tag() + "\n"), o);
            assertTrue(o.contains(";   KSK active, ECDSAP256SHA256, 256 bits"), o);
            assertTrue(o.contains(";   DS " + ksk.tag() + " 13 2 "), o);

            DemoZone empty = new DemoZone(Name.fromConstantString("empty.aa."), 1, Clock.systemUTC());
            empty.addKey(true, true);
            empty.remove(empty.keys().get(0));
            auth.add(empty);
            assertEquals(1, run("check", "empty.aa", "--server", "127.0.0.1:" + auth.port()));
            assertTrue(err().contains("has no DNSKEY records"), err());
        }
    }

    @Test
    void checkOfADeadServerExitsOne() throws Exception {
        Path cfg = dir.resolve("c.properties");
        Files.writeString(cfg, "dns.timeout = 1s\n");
        assertEquals(1, run("check", "example.test", "--server", "127.0.0.1:" + FreePorts.tcp(), "--config", cfg.toString()));
        assertTrue(err().startsWith("check: zone example.test. at 127.0.0.1:"), err());
    }
}
