package org.dnssec2mqtt.signals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.OpenDnssecSigner;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;

/**
 * The real OpenDNSSEC 2.1 enforcer with {@code DelegationSignerSubmitCommand} and
 * {@code ...RetractCommand} set to a two-line wrapper around the launcher (the enforcer takes an
 * executable without arguments): {@code ods-enforcer key ds-submit} → {@code ksk_submission} on a
 * real mosquitto with the DS of the KSK the signer serves. ({@code ds-retract} needs a finished KSK
 * rollover in the enforcer; DsSubmitIT runs it on the same bytes.)
 * The enforcer's exact stdin bytes are kept and parsed again, so the fixtures' format is checked
 * against the real thing.
 */
@Timeout(180)
class DsSubmitOpenDnssecIT {
    private static final String ZONE = "ods.test";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void theEnforcersSubmitAndRetractReachMqttWithTheServedKsksDs() throws Exception {
        Path jar = Path.of("target/dnssec2mqtt.jar").toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "run after 'package': " + jar);
        try (MosquittoBroker mosquitto = MosquittoBroker.start();
             MqttRecorder mqtt = new MqttRecorder(mosquitto.url(), "dnssec/+/events")) {
            Path conf = Files.writeString(dir.resolve("dnssec2mqtt.properties"), "mqtt.url = " + mosquitto.url() + "\n");
            Path submit = wrapper("ds-submit", jar, conf);
            Path retract = wrapper("ds-retract", jar, conf);
            try (OpenDnssecSigner ods = new OpenDnssecSigner(dir.resolve("ods")).dsCommands(submit, retract).zone(ZONE).start()) {
                DNSKEYRecord ksk = ods.dnskeys(ZONE).stream().filter(k -> k.getFlags() == 257).findFirst().orElseThrow();

                awaitListed(ods, "ds-submit", ksk.getFootprint());
                String out = dsSubmit(ods, ksk.getFootprint());
                assertTrue(out.contains("key submited to " + submit), out + ods.log());
                JsonObject p = JsonParser.parseString(mqtt.await("dnssec/ods.test/events", WAIT).payload()).getAsJsonObject();
                assertEquals("ksk_submission", p.get("event").getAsString(), p.toString());
                assertEquals(ksk.getFootprint(), p.get("keytag").getAsInt());
                assertEquals(KeyAnalyzer.ds(ksk, DNSSEC.Digest.SHA256), p.get("ds_sha256").getAsString());
                assertEquals(KeyAnalyzer.ds(ksk, DNSSEC.Digest.SHA384), p.get("ds_sha384").getAsString());
                assertEquals("opendnssec", p.get("source").getAsString());

                // what the enforcer wrote: one line, ldns's form with the comment cut (a trailing space)
                String stdin = Files.readString(dir.resolve("ds-submit.stdin"), StandardCharsets.UTF_8);
                assertTrue(stdin.matches("ods\\.test\\. \\d+ IN DNSKEY 257 3 13 \\S+ \\n"), "enforcer wrote: [" + stdin + "]");
                assertEquals(ksk.getFootprint(), DnskeyInput.parse(stdin.getBytes(StandardCharsets.UTF_8)).get(0).key().getFootprint());

            }
        }
    }

    /**
     * Polls {@code ods-enforcer key <command>} without arguments (it lists the keys waiting for that
     * command) until {@code keytag} is among them: the enforcer moves a new KSK there on its own
     * schedule (the policy's TTLs and delays, seconds here). Polling: there is no event to wait for.
     */
    private static void awaitListed(OpenDnssecSigner ods, String command, int keytag) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String list = "";
        while (System.nanoTime() < deadline) {
            list = ods.enforcer("key", command);
            if (list.matches("(?s).*\\s" + keytag + "\\s.*")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("KSK " + keytag + " never waited for " + command + ":\n" + list + ods.log());
    }

    /**
     * {@code ods-enforcer key ds-submit}: runs the command, then records the key's new state. The
     * enforcer 2.1.12 sometimes fails that second part ("[keystate_ds_x_cmd] Error writing to
     * database", exit 12) while its own enforce task writes the same SQLite database; the command
     * has run by then, which is what this test is about.
     */
    private static String dsSubmit(OpenDnssecSigner ods, int keytag) {
        try {
            return ods.enforcer("key", "ds-submit", "--zone", ZONE, "--keytag", String.valueOf(keytag));
        } catch (IllegalStateException e) {
            if (e.getMessage().contains("got 12 from") && e.getMessage().contains("key submited to")) {
                return e.getMessage();
            }
            throw e;
        }
    }

    /** {@code #!/bin/sh} wrapper: keeps the enforcer's stdin in {@code <command>.stdin}, then runs the launcher. */
    private Path wrapper(String command, Path jar, Path conf) throws Exception {
        Path script = dir.resolve(command + ".sh");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(script, "#!/bin/sh\n"
                + "tee '" + dir.resolve(command + ".stdin") + "' | exec '" + java + "' -jar '" + jar + "' " + command
                + " --config '" + conf + "' >> '" + dir.resolve(command + ".log") + "' 2>&1\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

}
