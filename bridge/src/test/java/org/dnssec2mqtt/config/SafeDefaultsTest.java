package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.dnssec2mqtt.support.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Safe by default: with no configuration at all every listener binds loopback, only loopback may
 * NOTIFY, and the broker is the embedded one on loopback. Files holding secrets that others can
 * read draw a warning that names the key and the file, never the secret.
 */
class SafeDefaultsTest {
    @TempDir
    Path dir;

    @Test
    void everyListenerBindsLoopbackAndOnlyLoopbackMayNotify() throws Exception {
        Config c = ConfigLoader.load(null, Map.of());
        assertFalse(c.notifyListen().isEmpty());
        for (InetSocketAddress a : c.notifyListen()) {
            assertTrue(a.getAddress().isLoopbackAddress(), "notify.listen default " + a);
        }
        assertTrue(c.mqttEmbeddedListen().getAddress().isLoopbackAddress(), "mqtt.embedded.listen " + c.mqttEmbeddedListen());
        assertNull(c.mqttUrl(), "the default broker is the embedded one, on loopback");
        assertTrue(allowed(c, "127.0.0.1") && allowed(c, "127.0.0.53") && allowed(c, "::1"));
        assertFalse(allowed(c, "10.0.0.1") || allowed(c, "192.0.2.1") || allowed(c, "0.0.0.0") || allowed(c, "2001:db8::1"));
        assertFalse(c.notifyRequireTsig());
    }

    static boolean allowed(Config c, String ip) throws Exception {
        InetAddress a = InetAddress.getByName(ip);
        return c.notifyAllow().stream().anyMatch(cidr -> cidr.contains(a));
    }

    @ParameterizedTest
    @CsvSource({
        "rw-------, false",
        "rw-r-----, true",
        "rw-r--r--, true",
    })
    void secretFilesReadableByOthersDrawAWarningWithoutTheSecret(String mode, boolean warns) throws Exception {
        String secret = "c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw==";
        String password = "hunter2-must-not-leak";
        Path keyFile = dir.resolve("tsig.key");
        Files.writeString(keyFile, "key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n");
        Path passwordFile = dir.resolve("mqtt.password");
        Files.writeString(passwordFile, password + "\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString(mode));
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString(mode));
        String log;
        try (LogCapture capture = LogCapture.start()) {
            Config c = ConfigLoader.load(null, Map.of(
                    "DNSSEC2MQTT_TSIG_KEYFILE", keyFile.toString(),
                    "DNSSEC2MQTT_MQTT_PASSWORD_FILE", passwordFile.toString(),
                    "DNSSEC2MQTT_MQTT_USERNAME", "bridge"));
            assertEquals(password, c.mqttPassword());
            log = capture.text();
        }
        assertEquals(warns, log.contains("tsig.keyfile: '" + keyFile + "' is readable by group or others"), log);
        assertEquals(warns, log.contains("mqtt.password-file: '" + passwordFile + "' is readable by group or others"), log);
        assertFalse(log.contains(secret) || log.contains(password), log);
    }

    @Test
    void configProblemsNeverEchoTheSecret() throws Exception {
        String password = "hunter2-must-not-leak";
        try (LogCapture capture = LogCapture.start()) {
            ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () ->
                    ConfigLoader.load(null, Map.of("DNSSEC2MQTT_MQTT_PASSWORD", password,
                            "DNSSEC2MQTT_MQTT_PASSWORD_FILE", dir.resolve("nope").toString())));
            assertFalse(e.getMessage().contains(password), e.getMessage());
            assertFalse(capture.text().contains(password), capture.text());
        }
    }
}
