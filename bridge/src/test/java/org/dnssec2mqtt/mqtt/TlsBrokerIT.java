package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.Peers;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ssl://} with {@code mqtt.ca-file}, {@code mqtt.username} and {@code mqtt.password-file}
 * against a real mosquitto with a certificate made by openssl and a password file made by
 * mosquitto_passwd; {@code mosquitto_sub} over TLS sees the bridge online.
 */
@Timeout(60)
class TlsBrokerIT {
    @TempDir
    Path tmp;

    String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }

    /** A CA and a server certificate for 127.0.0.1 (IP SAN: Paho checks the host name). */
    void makeCertificates(String prefix) throws Exception {
        String openssl = Peers.require("openssl").toString();
        run(List.of(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "2", "-subj", "/CN=test CA " + prefix, "-keyout", prefix + "ca.key", "-out", prefix + "ca.crt"));
        run(List.of(openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", "/CN=127.0.0.1", "-keyout", prefix + "server.key", "-out", prefix + "server.csr"));
        Files.writeString(tmp.resolve(prefix + "san.ext"), "subjectAltName=IP:127.0.0.1\n");
        run(List.of(openssl, "x509", "-req", "-in", prefix + "server.csr", "-CA", prefix + "ca.crt", "-CAkey",
                prefix + "ca.key", "-CAcreateserial", "-days", "2", "-extfile", prefix + "san.ext", "-out", prefix + "server.crt"));
    }

    @Test
    void bridgeConnectsOverTlsWithAPasswordFile() throws Exception {
        makeCertificates("");
        makeCertificates("other-");
        Files.writeString(tmp.resolve("passwords"), "");
        run(List.of(Peers.require("mosquitto_passwd").toString(), "-b", tmp.resolve("passwords").toString(),
                "dnssec2mqtt", "s3cret pass"));
        Path passwordFile = tmp.resolve("bridge.password");
        Files.writeString(passwordFile, "s3cret pass\n");
        Map<String, String> files = Map.of(
                "ca.crt", Files.readString(tmp.resolve("ca.crt")),
                "server.crt", Files.readString(tmp.resolve("server.crt")),
                "server.key", Files.readString(tmp.resolve("server.key")),
                "passwords", Files.readString(tmp.resolve("passwords")));
        try (MosquittoBroker broker = MosquittoBroker.start("""
                certfile ${dir}/server.crt
                keyfile ${dir}/server.key
                allow_anonymous false
                password_file ${dir}/passwords
                """, files)) {
            String base = """
                    notify.listen = 127.0.0.1:0
                    mqtt.url = ssl://127.0.0.1:%d
                    mqtt.username = dnssec2mqtt
                    mqtt.password-file = %s
                    data.dir = %s
                    """.formatted(broker.port(), passwordFile, tmp.resolve("data"));

            // A CA that did not sign the broker's certificate: no connection, but no crash either.
            Path wrongDir = Files.createDirectories(tmp.resolve("wrong"));
            try (Main.Running bridge = Main.start(TestConfig.load(wrongDir, base + "mqtt.ca-file = " + tmp.resolve("other-ca.crt") + "\n"),
                    Clock.systemUTC())) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (bridge.mqtt.connectFailures() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(20); // polling a counter: there is nothing to wait on
                }
                assertTrue(bridge.mqtt.connectFailures() >= 2, "expected failed TLS handshakes, retried");
                assertFalse(bridge.mqtt.isConnected(), "must not trust a broker certificate its CA did not sign");
            }

            Path goodDir = Files.createDirectories(tmp.resolve("good"));
            try (Main.Running bridge = Main.start(TestConfig.load(goodDir, base + "mqtt.ca-file = " + tmp.resolve("ca.crt") + "\n"),
                    Clock.systemUTC())) {
                String seen = run(List.of(Peers.require("mosquitto_sub").toString(), "-h", "127.0.0.1", "-p",
                        String.valueOf(broker.port()), "--cafile", tmp.resolve("ca.crt").toString(), "-u", "dnssec2mqtt",
                        "-P", "s3cret pass", "-t", "dnssec/_bridge/state", "-C", "1", "-W", "20"));
                assertTrue(seen.trim().startsWith("{\"state\":\"online\",\"version\":"), seen);
            }
        }
    }
}
