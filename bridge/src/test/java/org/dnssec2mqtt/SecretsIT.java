package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * Secrets stay secret: the bridge runs as its own JVM at DEBUG level with a TSIG key (signed
 * NOTIFYs, good and bad, and TSIG-signed queries whose answers fail to verify) and a broker
 * password; neither secret appears anywhere on stderr or in anything published over MQTT. The
 * world-readable secret files draw their warnings; the listeners bind loopback.
 */
@Timeout(120)
class SecretsIT {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String SECRET = Base64.getEncoder().encodeToString("tsig-secret-that-must-never-leak!".getBytes());
    static final String PASSWORD = "broker-password-that-must-never-leak";

    @TempDir
    Path dir;

    @Test
    void neitherTheTsigSecretNorTheBrokerPasswordIsLoggedOrPublished() throws Exception {
        Path keyFile = dir.resolve("tsig.key");
        Files.writeString(keyFile, "key \"notify-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + SECRET + "\";\n};\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
        Path passwordFile = dir.resolve("mqtt.password");
        Files.writeString(passwordFile, PASSWORD + "\n");
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-r-----"));
        int notifyPort = FreePorts.tcpAndUdp();
        int mqttPort = FreePorts.tcp();
        Name zoneName = Name.fromConstantString("secret.test.");
        try (AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start()) {
            DemoZone zone = new DemoZone(zoneName, 1, Clock.systemUTC());
            zone.addKey(true, true);
            auth.add(zone);
            Path config = dir.resolve("secrets.properties");
            Files.writeString(config, """
                    notify.listen = 127.0.0.1:%d
                    tsig.keyfile = %s
                    dns.timeout = 1s
                    poll.full-interval = 0
                    mqtt.username = bridge
                    mqtt.password-file = %s
                    mqtt.embedded.listen = 127.0.0.1:%d
                    data.dir = %s
                    zones.secret.test.servers = 127.0.0.1:%d
                    zones.secret.test.tsig-key = notify-key
                    """.formatted(notifyPort, keyFile, passwordFile, mqttPort, dir.resolve("data"), auth.port()));
            Path log = dir.resolve("bridge.log");
            Process bridge = CrashIT.launch(config, log, "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug",
                    "-Dorg.slf4j.simpleLogger.log.org.eclipse.paho=debug");
            try (MqttRecorder mqtt = awaitBroker("tcp://127.0.0.1:" + mqttPort, log)) {
                // the TSIG-signed query's answer is unsigned (AuthServer does not sign): an error state
                mqtt.await(m -> m.topic().equals("dnssec/secret.test/state") && m.payload().contains("TSIG"), WAIT);
                InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), notifyPort);
                TSIG good = new TSIG(TSIG.HMAC_SHA256, Name.fromConstantString("notify-key."), SECRET);
                TSIG bad = new TSIG(TSIG.HMAC_SHA256, Name.fromConstantString("notify-key."),
                        Base64.getEncoder().encodeToString("another-secret-another-secret-xx".getBytes()));
                assertEquals(Rcode.NOERROR, notify(at, zoneName, good));
                assertEquals(Rcode.NOTAUTH, notify(at, zoneName, bad));
                mqtt.publish("dnssec/_bridge/request/recheck", "{\"zone\":\"secret.test\",\"transaction\":\"" + "t" + "\"}", false);
                mqtt.await("dnssec/_bridge/response/recheck", WAIT);
                String published = String.join("\n", mqtt.messages().stream().map(MqttRecorder.Received::toString).toList());
                assertFalse(published.contains(SECRET) || published.contains(PASSWORD), published);
            } finally {
                bridge.destroy(); // SIGTERM: the shutdown hook logs too
                assertTrue(bridge.waitFor(20, TimeUnit.SECONDS));
            }
            String text = Files.readString(log);
            assertTrue(text.contains("DEBUG"), "debug logging was on");
            assertTrue(text.contains("outcome=notauth-badsig"), text);
            assertTrue(text.contains("tsig.keyfile: '" + keyFile + "' is readable by group or others"), text);
            assertTrue(text.contains("mqtt.password-file: '" + passwordFile + "' is readable by group or others"), text);
            assertTrue(text.contains("notify listening on [127.0.0.1:" + notifyPort + "]"), text);
            assertFalse(text.contains(SECRET), "TSIG secret in the log:\n" + text);
            assertFalse(text.contains(PASSWORD), "broker password in the log:\n" + text);
            System.out.printf("secrets: %d log lines at DEBUG and every MQTT message checked: no TSIG secret, no password%n",
                    text.lines().count());
        }
    }

    static MqttRecorder awaitBroker(String url, Path log) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return new MqttRecorder(url, "#");
            } catch (IllegalStateException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("bridge's broker not up:\n" + Files.readString(log), notYet);
                }
                Thread.sleep(100); // polling interval
            }
        }
    }

    static int notify(InetSocketAddress at, Name zone, TSIG key) throws Exception {
        Message m = new Message();
        m.getHeader().setOpcode(Opcode.NOTIFY);
        m.addRecord(Record.newRecord(zone, Type.SOA, DClass.IN), Section.QUESTION);
        m.setTSIG(key, Rcode.NOERROR, null);
        byte[] wire = m.toWire(Message.MAXLENGTH);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            s.setSoTimeout(5000);
            s.send(new DatagramPacket(wire, wire.length, at));
            DatagramPacket p = new DatagramPacket(new byte[4096], 4096);
            s.receive(p);
            return new Message(Arrays.copyOf(p.getData(), p.getLength())).getRcode();
        }
    }
}
