package org.dnssec2mqtt.signals;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.mqtt.Tls;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.Zones;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;

/**
 * {@code dnssec2mqtt ds-submit} and {@code ds-retract}: OpenDNSSEC's
 * {@code DelegationSignerSubmitCommand} / {@code DelegationSignerRetractCommand}. Reads the
 * DNSKEY record(s) from standard input ({@link DnskeyInput}), and for each KSK publishes
 * {@code ksk_submission} / {@code ksk_retraction} with its key tag and DS digests to
 * {@code <prefix>/<zone>/events} at QoS 1 on the configured broker ({@code mqtt.url}; unset =
 * the embedded broker of a running bridge at {@code mqtt.embedded.listen}).
 *
 * <p>Exit codes: 0 once the broker acknowledged every event (PUBACK); 1 with one line on standard
 * error when the input is unusable or the broker cannot be reached; 2 for bad usage.
 */
public final class DsSubmitCommand {
    public static final String SUBMIT = "ds-submit";
    public static final String RETRACT = "ds-retract";
    /** Connect and publish timeout: the enforcer waits for the command, so never hang. */
    static final int TIMEOUT_SECONDS = 10;

    private DsSubmitCommand() {}

    /**
     * @param command {@link #SUBMIT} or {@link #RETRACT}
     * @param args what follows the command ({@code --config FILE} already taken out)
     */
    public static int run(String command, List<String> args, Config config, InputStream stdin, PrintStream out,
                          PrintStream err, Clock clock) {
        if (!args.isEmpty()) {
            err.println(command + ": unexpected argument '" + args.get(0) + "'; usage: dnssec2mqtt " + command
                    + " [--config FILE] < dnskey-records");
            return 2;
        }
        List<Event> events;
        try {
            events = events(command, DnskeyInput.parse(stdin.readNBytes(DnskeyInput.MAX_BYTES + 1)), clock.instant());
        } catch (IOException e) {
            err.println(command + ": cannot read standard input: " + e.getMessage());
            return 1;
        } catch (DnskeyInput.InputException e) {
            err.println(command + ": " + e.getMessage());
            return 1;
        }
        String url = url(config);
        try {
            publish(config, url, command, events);
        } catch (MqttException | IOException e) {
            err.println(command + ": " + problem(url, config, e));
            return 1;
        }
        for (Event e : events) {
            out.println(command + ": " + e.get("event") + " for " + e.zone() + " key " + e.get("keytag")
                    + " published to " + url);
        }
        return 0;
    }

    /**
     * One event per KSK in the input; ZSKs (OpenDNSSEC 1.x sent the whole RRset) are skipped.
     *
     * @throws DnskeyInput.InputException when no line holds a KSK, or a revoked KSK is submitted
     */
    static List<Event> events(String command, List<DnskeyInput.Line> lines, Instant now) throws DnskeyInput.InputException {
        boolean submit = command.equals(SUBMIT);
        List<Event> events = new ArrayList<>();
        for (DnskeyInput.Line line : lines) {
            DNSKEYRecord key = line.key();
            if ((key.getFlags() & DNSKEYRecord.Flags.SEP_KEY) == 0) {
                continue;
            }
            if ((key.getFlags() & DNSKEYRecord.Flags.REVOKE) != 0) {
                if (submit) {
                    throw new DnskeyInput.InputException(line.number(), "the key is revoked (flags " + key.getFlags()
                            + "); a revoked key must not get a DS at the parent");
                }
                // the DS at the parent points at the key as it was before REVOKE (RFC 5011 §3: the tag moves)
                key = new DNSKEYRecord(key.getName(), key.getDClass(), key.getTTL(),
                        key.getFlags() & ~DNSKEYRecord.Flags.REVOKE, key.getProtocol(), key.getAlgorithm(), key.getKey());
            }
            events.add(event(submit, key, now));
        }
        if (events.isEmpty()) {
            throw new DnskeyInput.InputException(0, "no KSK on standard input (only DNSKEYs without the SEP flag,"
                    + " e.g. 256); expected the KSK's DNSKEY record (flags 257)");
        }
        return events;
    }

    private static Event event(boolean submit, DNSKEYRecord key, Instant now) {
        String zone = Zones.display(key.getName());
        int tag = key.getFootprint();
        String ds256 = KeyAnalyzer.ds(key, DNSSEC.Digest.SHA256);
        return Event.of(submit ? "ksk_submission" : "ksk_retraction", zone, now)
                .with("keytag", tag)
                .with("ds_sha256", ds256)
                .with("ds_sha384", KeyAnalyzer.ds(key, DNSSEC.Digest.SHA384))
                .with("source", "opendnssec")
                .text(submit ? "Submit DS for " + zone : "Withdraw DS for " + zone,
                        submit ? "OpenDNSSEC asks to submit DS " + ds256 + " for KSK " + tag + " of " + zone + " at the parent"
                                : "OpenDNSSEC asks to remove DS " + ds256 + " for KSK " + tag + " of " + zone + " from the parent",
                        Event.HIGH);
    }

    /** {@code mqtt.url}, or the embedded broker a running bridge has at {@code mqtt.embedded.listen}. */
    static String url(Config config) {
        return config.mqttUrl() != null ? config.mqttUrl()
                : new EmbeddedBroker(config.mqttEmbeddedListen(), config.dataDir()).url();
    }

    private static void publish(Config config, String url, String command, List<Event> events)
            throws MqttException, IOException {
        // its own client id: taking the bridge's would disconnect the bridge (MQTT 3.1.1 §3.1.4)
        String clientId = config.mqttClientId() + "-" + command + "-" + ProcessHandle.current().pid();
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(TIMEOUT_SECONDS);
        if (config.mqttUsername() != null) {
            o.setUserName(config.mqttUsername());
        }
        if (config.mqttPassword() != null) {
            o.setPassword(config.mqttPassword().toCharArray());
        }
        if (config.mqttCaFile() != null) {
            o.setSocketFactory(Tls.trusting(config.mqttCaFile()).getSocketFactory());
        }
        Topics topics = new Topics(config.mqttTopicPrefix());
        MqttClient client = new MqttClient(url, clientId, new MemoryPersistence());
        try {
            client.setTimeToWait(TIMEOUT_SECONDS * 1000L);
            client.connect(o);
            for (Event e : events) {
                MqttMessage m = new MqttMessage(Json.object(Payloads.event(e)).getBytes(StandardCharsets.UTF_8));
                m.setQos(1);
                m.setRetained(false);
                client.publish(topics.events(e.zone()), m); // returns after the PUBACK (QoS 1)
            }
            client.disconnect(2_000);
        } finally {
            try {
                if (client.isConnected()) {
                    client.disconnectForcibly(1_000, 1_000);
                }
                client.close(true);
            } catch (MqttException ignored) {
                // already failed or closed; the exit code says so
            }
        }
    }

    /** The failure in the operator's words. */
    static String problem(String url, Config config, Exception e) {
        String where = "the MQTT broker at " + url + (config.mqttUrl() == null
                ? " (the embedded broker of a running bridge, mqtt.embedded.listen)" : " (mqtt.url)");
        if (e instanceof MqttException m) {
            return switch (m.getReasonCode()) {
                case MqttException.REASON_CODE_SERVER_CONNECT_ERROR -> "cannot connect to " + where
                        + (config.mqttUrl() == null ? ": is the bridge running?" : ": is the broker running?");
                case MqttException.REASON_CODE_FAILED_AUTHENTICATION, MqttException.REASON_CODE_NOT_AUTHORIZED ->
                        where + " refused mqtt.username / mqtt.password";
                case MqttException.REASON_CODE_CLIENT_TIMEOUT -> "no answer from " + where + " within "
                        + TIMEOUT_SECONDS + " s";
                case MqttException.REASON_CODE_CONNECTION_LOST -> where + " closed the connection";
                default -> "cannot publish to " + where + ": " + m.getMessage();
            };
        }
        return "cannot connect to " + where + ": " + e.getMessage();
    }
}
