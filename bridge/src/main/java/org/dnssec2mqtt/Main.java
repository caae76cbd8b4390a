package org.dnssec2mqtt;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.ConfigException;
import org.dnssec2mqtt.config.ConfigLoader;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.DnsQueryException;
import org.dnssec2mqtt.dns.NotifyHandler;
import org.dnssec2mqtt.dns.NotifyListener;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.dnssec2mqtt.zone.Zones;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/**
 * Command line: {@code [--config FILE] [--check-config]} runs (or checks the config of) the
 * bridge; {@code check <zone> --server host[:port] [--config FILE]} asks once and prints the keys;
 * {@code demo [--interval 5s] [--config FILE]} runs the bridge with a rolling in-process zone.
 * Exit codes: 0 fine, 1 failed (bad config, no keys), 2 bad usage.
 */
public final class Main {
    public static final String VERSION = "0.1.0";
    static final String USAGE = """
            usage: dnssec2mqtt [--config FILE] [--check-config]
                   dnssec2mqtt check <zone> --server host[:port] [--config FILE]
                   dnssec2mqtt demo [--interval 5s] [--config FILE]
              --config FILE    properties file (see bridge/dnssec2mqtt.properties); without it, defaults
                               and DNSSEC2MQTT_* environment variables only
              --check-config   validate the configuration, list every problem, exit 0 (valid) or 1
              check            query a zone's DNSKEY RRset once and print each key; exit 0 when the
                               server answered keys, 1 when it did not
              demo             run the bridge with an in-process zone, demo.example, whose keys
                               roll every --interval; watch with mosquitto_sub -v -t 'dnssec/#'
            """;

    private Main() {}

    public static void main(String[] args) {
        Logging.setUp();
        int code = run(args, System.getenv(), System.out, System.err);
        if (code >= 0) {
            System.exit(code);
        }
        // Every bridge thread is a daemon (and Paho's may not have started yet): keep the JVM up
        // until a signal runs the shutdown hook, which stops the bridge and publishes offline.
        try {
            new java.util.concurrent.CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** @return an exit code, or -1 when the bridge is running (until the JVM is stopped) */
    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(List.of(args));
        boolean checkConfig = rest.remove("--check-config");
        Path configFile = null;
        int i = rest.indexOf("--config");
        if (i >= 0) {
            if (i + 1 >= rest.size()) {
                err.println("--config needs a file name\n" + USAGE);
                return 2;
            }
            configFile = Path.of(rest.get(i + 1));
            rest.remove(i + 1);
            rest.remove(i);
        }
        if (rest.contains("--help") || rest.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        if (rest.contains("--version")) {
            out.println("dnssec2mqtt " + VERSION);
            return 0;
        }
        if (!rest.isEmpty() && rest.get(0).equals("demo")) {
            // the demo builds its own config: its defaults under the file and environment
            return org.dnssec2mqtt.demo.Demo.run(rest.subList(1, rest.size()), configFile, env, out, err);
        }
        Config config;
        try {
            config = ConfigLoader.load(configFile, env);
        } catch (ConfigException e) {
            err.println("invalid configuration" + (configFile == null ? "" : " in " + configFile) + ":");
            for (String p : e.problems()) {
                err.println("  " + p);
            }
            return 1;
        }
        if (!rest.isEmpty() && rest.get(0).equals("check")) {
            return check(rest.subList(1, rest.size()), config, out, err);
        }
        if (!rest.isEmpty()) {
            err.println("unknown argument '" + rest.get(0) + "'\n" + USAGE);
            return 2;
        }
        if (checkConfig) {
            out.println("configuration is valid" + (configFile == null ? " (defaults)" : ": " + configFile));
            return 0;
        }
        Running running;
        try {
            running = start(config, Clock.systemUTC());
        } catch (IOException | MqttException e) {
            err.println("cannot start: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(running::close, "shutdown"));
        return -1;
    }

    /** The running bridge and its parts; closing stops them in reverse order. */
    public static final class Running implements AutoCloseable {
        private static final Logger log = LoggerFactory.getLogger(Running.class);
        public final Bridge bridge;
        public final NotifyListener listener;
        public final MqttLink mqtt;
        public final EmbeddedBroker broker;
        private final DataDirLock lock;

        Running(Bridge bridge, NotifyListener listener, MqttLink mqtt, EmbeddedBroker broker, DataDirLock lock) {
            this.bridge = bridge;
            this.listener = listener;
            this.mqtt = mqtt;
            this.broker = broker;
            this.lock = lock;
        }

        @Override
        public void close() {
            listener.close();
            bridge.close();
            mqtt.close();
            if (broker != null) {
                broker.close();
            }
            lock.close();
            log.info("stopped");
        }
    }

    /** Builds and starts everything with plain {@code new}: broker, bridge, MQTT, listener. */
    public static Running start(Config config, Clock clock) throws IOException, MqttException {
        Logger log = LoggerFactory.getLogger(Main.class);
        long t0 = System.nanoTime();
        // before anything touches data.dir (the embedded broker's store lives in it)
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        EmbeddedBroker broker = null;
        String url = config.mqttUrl();
        Bridge bridge = null;
        MqttLink mqtt = null;
        NotifyListener listener = null;
        try {
            if (url == null) {
                broker = new EmbeddedBroker(config.mqttEmbeddedListen(), config.dataDir().resolve("moquette"));
                broker.start();
                url = broker.url();
            }
            bridge = new Bridge(config, clock);
            mqtt = new MqttLink(new MqttLink.Settings(url, config.mqttClientId(), config.mqttUsername(),
                    config.mqttPassword(), config.mqttCaFile()), bridge.topics(), bridge);
            bridge.attach(mqtt);
            NotifyHandler handler = new NotifyHandler(config.notifyAllow(), config.tsigKeys(), config.notifyRequireTsig());
            listener = new NotifyListener(config.notifyListen(), handler, bridge::onNotify);
            listener.start();
            mqtt.start();
            bridge.start();
        } catch (IOException | MqttException | RuntimeException e) {
            if (listener != null) {
                listener.close();
            }
            if (bridge != null) {
                bridge.close();
            }
            if (mqtt != null) {
                mqtt.close();
            }
            if (broker != null) {
                broker.close();
            }
            lock.close();
            throw e;
        }
        log.info("dnssec2mqtt {} started in {} ms: notify on {} (udp+tcp), broker {}{}, {} zones configured, {} known",
                VERSION, (System.nanoTime() - t0) / 1_000_000, addresses(listener.boundAddresses()), url,
                broker == null ? "" : " (embedded)", config.zones().size(), bridge.knownZones());
        return new Running(bridge, listener, mqtt, broker, lock);
    }

    private static String addresses(List<java.net.InetSocketAddress> list) {
        return String.join(", ", list.stream().map(a -> new HostPort(a.getAddress().getHostAddress(), a.getPort()).toString()).toList());
    }

    /** {@code check <zone> --server host[:port]}: one query, key-listen style output. */
    static int check(List<String> args, Config config, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(args);
        int s = rest.indexOf("--server");
        if (s < 0 || s + 1 >= rest.size() || rest.size() != 3) {
            err.println("check needs a zone and --server host[:port]\n" + USAGE);
            return 2;
        }
        String serverText = rest.get(s + 1);
        rest.remove(s + 1);
        rest.remove(s);
        Name zone;
        HostPort server;
        try {
            zone = Zones.parse(rest.get(0));
            server = HostPort.parse(serverText, 53);
        } catch (TextParseException | IllegalArgumentException e) {
            err.println("check: " + e.getMessage() + "\n" + USAGE);
            return 2;
        }
        Config.ZoneConfig zc = config.zones().get(zone);
        Name keyName = zc == null ? null : zc.tsigKey();
        QueryTarget target = new QueryTarget(server, keyName, keyName == null ? null : config.tsigKeys().get(keyName));
        ExecutorService io = Executors.newSingleThreadExecutor(Bridge.daemon("dns-io"));
        try {
            ZoneSnapshot snap = new ZoneFetcher(config.dnsTimeout(), config.dnsTcp(), io).fetch(zone, target);
            List<KeyInfo> keys = KeyAnalyzer.analyze(snap, List.of(), Clock.systemUTC().instant());
            out.println("; " + Zones.display(zone) + " serial " + snap.serial() + " from " + snap.server()
                    + ": " + keys.size() + " DNSKEY record" + (keys.size() == 1 ? "" : "s"));
            for (KeyInfo k : keys) {
                out.println(KeyLog.line(k));
                StringBuilder sb = new StringBuilder(";   ").append(k.role()).append(' ').append(k.state().label())
                        .append(", ").append(k.algorithmName());
                if (k.bits() != null) {
                    sb.append(", ").append(k.bits()).append(" bits");
                }
                if (k.originalKeytag() != null) {
                    sb.append(", revoked (was Key-ID ").append(k.originalKeytag()).append(')');
                }
                out.println(sb);
                if (k.dsSha256() != null) {
                    out.println(";   DS " + k.dsSha256());
                    out.println(";   DS " + k.dsSha384());
                }
            }
            if (keys.isEmpty()) {
                err.println("check: " + Zones.display(zone) + " at " + server + " has no DNSKEY records");
                return 1;
            }
            return 0;
        } catch (DnsQueryException e) {
            err.println("check: " + e.getMessage());
            return 1;
        } finally {
            io.shutdownNow();
        }
    }
}
