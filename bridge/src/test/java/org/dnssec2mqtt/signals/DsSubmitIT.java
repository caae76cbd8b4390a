package org.dnssec2mqtt.signals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ds-submit} / {@code ds-retract} against the embedded broker (in the JVM) and a real
 * mosquitto (through the shaded jar, as OpenDNSSEC runs it): exit codes and the event payload.
 */
@Timeout(120)
class DsSubmitIT {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T06:30:00Z"), ZoneOffset.UTC);
    private static final String DS256 = "20179 8 2 512A692D2F2EACE222D9E1E662E8933EC462F738462E60F4A9611F63651ED829";

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String command, Config config, byte[] stdin) {
        return DsSubmitCommand.run(command, List.of(), config, new ByteArrayInputStream(stdin),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), CLOCK);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void submitAndRetractThroughTheEmbeddedBrokerOfARunningBridge() throws Exception {
        int port = FreePorts.tcp();
        Config config = TestConfig.load(dir, "mqtt.embedded.listen = 127.0.0.1:" + port + "\ndata.dir = " + dir + "\n");
        try (EmbeddedBroker broker = new EmbeddedBroker(config.mqttEmbeddedListen(), dir.resolve("moquette"))) {
            broker.start();
            try (MqttRecorder sub = new MqttRecorder(broker.url(), "dnssec/+/events")) {
                assertEquals(0, run(DsSubmitCommand.SUBMIT, config, DnskeyInputTest.fixture("ods-submit-20179.txt")), err());
                MqttRecorder.Received m = sub.await("dnssec/d1.aa/events", WAIT);
                assertEquals(1, m.qos());
                assertTrue(!m.retained());
                JsonObject p = JsonParser.parseString(m.payload()).getAsJsonObject();
                assertEquals("ksk_submission", p.get("event").getAsString());
                assertEquals("d1.aa", p.get("zone").getAsString());
                assertEquals(20179, p.get("keytag").getAsInt());
                assertEquals(DS256, p.get("ds_sha256").getAsString());
                assertEquals("opendnssec", p.get("source").getAsString());
                assertEquals(1, p.get("priority").getAsInt());
                assertEquals("2026-11-22T06:30:00Z", p.get("at").getAsString());
                assertEquals("ds-submit: ksk_submission for d1.aa key 20179 published to " + broker.url() + "\n",
                        out.toString(StandardCharsets.UTF_8));

                sub.clear();
                assertEquals(0, run(DsSubmitCommand.RETRACT, config, DnskeyInputTest.fixture("ods-submit-20179-cka.txt")), err());
                JsonObject r = JsonParser.parseString(sub.await("dnssec/d1.aa/events", WAIT).payload()).getAsJsonObject();
                assertEquals("ksk_retraction", r.get("event").getAsString());
                assertEquals(DS256, r.get("ds_sha256").getAsString());
            }
        }
        // the bridge (and its broker) gone: one line, exit 1
        err.reset();
        assertEquals(1, run(DsSubmitCommand.SUBMIT, config, DnskeyInputTest.fixture("ods-submit-20179.txt")));
        assertEquals("ds-submit: cannot connect to the MQTT broker at tcp://127.0.0.1:" + port
                + " (the embedded broker of a running bridge, mqtt.embedded.listen): is the bridge running?\n", err());
    }

    @Test
    void theLauncherAgainstARealMosquittoExitsAsDocumented() throws Exception {
        Path jar = Path.of("target/dnssec2mqtt.jar");
        assertTrue(Files.isRegularFile(jar), "run after 'package': " + jar.toAbsolutePath());
        try (MosquittoBroker mosquitto = MosquittoBroker.start();
             MqttRecorder sub = new MqttRecorder(mosquitto.url(), "dnssec/+/events")) {
            Path conf = dir.resolve("ds.properties");
            Files.writeString(conf, "mqtt.url = " + mosquitto.url() + "\n");

            Result ok = launch(jar, List.of("ds-submit", "--config", conf.toString()), DnskeyInputTest.fixture("ods-submit-20179-cka.txt"));
            assertEquals(0, ok.code, ok.output);
            JsonObject p = JsonParser.parseString(sub.await("dnssec/d1.aa/events", WAIT).payload()).getAsJsonObject();
            assertEquals("ksk_submission", p.get("event").getAsString());
            assertEquals(20179, p.get("keytag").getAsInt());
            assertEquals(DS256, p.get("ds_sha256").getAsString());

            Result bad = launch(jar, List.of("ds-submit", "--config", conf.toString()),
                    ("d1.aa. 300 IN DNSKEY 257 3 13 AAAA\nd1.aa. 300 IN DS " + DS256 + "\n").getBytes(StandardCharsets.UTF_8));
            assertEquals(1, bad.code, bad.output);
            assertEquals("ds-submit: line 2: expected a DNSKEY record; got DS for d1.aa.", bad.output.strip());

            Result usage = launch(jar, List.of("ds-retract", "--zone", "d1.aa"), new byte[0]);
            assertEquals(2, usage.code, usage.output);
            assertTrue(usage.output.startsWith("ds-retract: unexpected argument '--zone'"), usage.output);

            sub.clear();
            mosquitto.stop();
            Result down = launch(jar, List.of("ds-submit", "--config", conf.toString()), DnskeyInputTest.fixture("ods-submit-20179.txt"));
            assertEquals(1, down.code, down.output);
            assertEquals("ds-submit: cannot connect to the MQTT broker at " + mosquitto.url()
                    + " (mqtt.url): is the broker running?", down.output.strip());
        }
    }

    private record Result(int code, String output) {}

    /** {@code java -jar dnssec2mqtt.jar ARGS < stdin}, as the enforcer's popen runs it; stdout and stderr together. */
    private Result launch(Path jar, List<String> args, byte[] stdin) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
        command.addAll(args);
        Path in = Files.write(dir.resolve("stdin"), stdin);
        Path log = dir.resolve("out.txt");
        Process p = new ProcessBuilder(command).redirectInput(in.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ds-submit still running after 60 s:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }
}
