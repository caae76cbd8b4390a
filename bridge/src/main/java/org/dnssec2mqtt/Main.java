package org.dnssec2mqtt;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.cluster.Membership;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.ConfigException;
import org.dnssec2mqtt.config.ConfigLoader;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.DnsQueryException;
import org.dnssec2mqtt.dns.NotifyHandler;
import org.dnssec2mqtt.dns.NotifyListener;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.flow.Checker;
import org.dnssec2mqtt.flow.Scheduler;
import org.dnssec2mqtt.flow.StateStore;
import org.dnssec2mqtt.flow.StateWriter;
import org.dnssec2mqtt.flow.ZoneRegistry;
import org.dnssec2mqtt.metrics.Metrics;
import org.dnssec2mqtt.mqtt.HomeAssistant;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.MqttPublisher;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.signals.DsSubmitCommand;
import org.dnssec2mqtt.signals.KnotDbus;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.dnssec2mqtt.zone.ZoneState;
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
    public static final String VERSION = Version.VERSION;
    static final String USAGE = """
            usage: dnssec2mqtt [--config FILE] [--check-config]
                   dnssec2mqtt check <zone> --server host[:port] [--config FILE]
                   dnssec2mqtt demo [--interval 5s] [--config FILE]
                   dnssec2mqtt ds-submit|ds-retract [--config FILE] < DNSKEY records
              --config FILE    properties file (see bridge/dnssec2mqtt.properties); without it, defaults
                               and DNSSEC2MQTT_* environment variables only
              --check-config   validate the configuration, list every problem, exit 0 (valid) or 1
              check            query a zone's DNSKEY RRset once and print each key; exit 0 when the
                               server answered keys, 1 when it did not
              demo             run the bridge with an in-process zone, demo.example, whose keys
                               roll every --interval; watch with mosquitto_sub -v -t 'dnssec/#'
              ds-submit        OpenDNSSEC's DelegationSignerSubmitCommand: publish ksk_submission
                               for the KSK(s) on stdin; exit 0 after the broker's acknowledgement
              ds-retract       the same for DelegationSignerRetractCommand: ksk_retraction
            """;

    private Main() {}

    public static void main(String[] args) {
        // dnsjava's own shutdown hook would close its selector under checks still in flight; the
        // bridge closes it itself, last (Running.close)
        System.setProperty("dnsjava.nio.register_shutdown_hook", "false");
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
        if (!rest.isEmpty() && (rest.get(0).equals(DsSubmitCommand.SUBMIT) || rest.get(0).equals(DsSubmitCommand.RETRACT))) {
            return DsSubmitCommand.run(rest.get(0), rest.subList(1, rest.size()), config, System.in, out, err,
                    Clock.systemUTC());
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
        private final StateWriter writer;
        public final Metrics metrics;
        private final DataDirLock lock;
        private final KnotDbus knot;
        /** Null unless cluster.enabled. */
        public final Membership membership;

        Running(Bridge bridge, NotifyListener listener, MqttLink mqtt, EmbeddedBroker broker, StateWriter writer,
                Metrics metrics, DataDirLock lock, KnotDbus knot, Membership membership) {
            this.knot = knot;
            this.membership = membership;
            this.metrics = metrics;
            this.lock = lock;
            this.bridge = bridge;
            this.listener = listener;
            this.mqtt = mqtt;
            this.broker = broker;
            this.writer = writer;
        }

        /** Closes {@code part} (if there is one), with how long it took at DEBUG: where a slow stop spends its time. */
        private static void stopping(String what, AutoCloseable part) {
            if (part == null) {
                return;
            }
            long t0 = System.nanoTime();
            try {
                part.close();
            } catch (Exception e) {
                log.warn("stopping {}: {}", what, e.getMessage());
            }
            log.debug("stopped {} in {} ms", what, (System.nanoTime() - t0) / 1_000_000);
        }

        /** Triggers stop, checks in flight end, pending states reach the disk, then offline and the broker. */
        @Override
        public void close() {
            stopping("the NOTIFY listener", listener);
            stopping("the Knot D-Bus listener", knot);
            stopping("the metrics server", metrics);
            stopping("the checks", bridge);
            stopping("the state writer", writer);
            stopping("the MQTT connection", mqtt); // the active node: offline on the bridge state first, then the node goes
            stopping("the cluster connection", membership);
            if ("false".equals(System.getProperty("dnsjava.nio.register_shutdown_hook"))) {
                org.xbill.DNS.NioClient.close(); // its hook is off: the selector thread stops here
            }
            stopping("the embedded broker", broker);
            stopping("the data directory lock", lock);
            log.info("stopped");
        }
    }

    /** Builds and starts everything with plain {@code new}: broker, stages, MQTT, listener. */
    public static Running start(Config config, Clock clock) throws IOException, MqttException {
        return start(config, clock, r -> Scheduler.daemon("state-load").newThread(r).start());
    }

    /**
     * {@link #start(Config, Clock)} with the zone states of the data directory loaded by {@code
     * stateLoad} (tests hold it to see what waits for the states). The load runs while the MQTT
     * connection comes up and publishes {@code online} (100,000 states take seconds to parse);
     * the reconcile, requests, the metrics, NOTIFYs and checks wait for it.
     */
    static Running start(Config config, Clock clock, java.util.concurrent.Executor stateLoad)
            throws IOException, MqttException {
        Logger log = LoggerFactory.getLogger(Main.class);
        long t0 = System.nanoTime();
        // before anything touches data.dir (the embedded broker's store lives in it)
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        // loading the native provider takes a few hundred ms: meanwhile the broker starts
        java.util.concurrent.CompletableFuture<String> crypto = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> org.dnssec2mqtt.crypto.CryptoProvider.install(config.cryptoProvider()),
                r -> Scheduler.daemon("crypto").newThread(r).start());
        EmbeddedBroker broker = null;
        String url = config.mqttUrl();
        Bridge bridge = null;
        MqttLink mqtt = null;
        NotifyListener listener = null;
        StateWriter writer = null;
        Metrics metrics = null;
        KnotDbus knot = null;
        Membership membership = null;
        try {
            if (url == null) {
                broker = new EmbeddedBroker(config.mqttEmbeddedListen(), config.dataDir().resolve("moquette"));
                broker.start();
                url = broker.url();
            }
            Topics topics = new Topics(config.mqttTopicPrefix());
            MqttLink.Settings mqttSettings = new MqttLink.Settings(url, config.clusterEnabled()
                    ? config.mqttClientId() + "-" + config.clusterNode() : config.mqttClientId(),
                    config.mqttUsername(), config.mqttPassword(), config.mqttCaFile(),
                    (int) config.mqttKeepalive().getSeconds());
            java.util.concurrent.atomic.AtomicReference<Membership> member = new java.util.concurrent.atomic.AtomicReference<>();
            HomeAssistant homeAssistant = !config.homeassistantEnabled() ? null
                    : new HomeAssistant(config.homeassistantPrefix(), topics, VERSION,
                    config.clusterEnabled() ? () -> member.get().nodes() : null);
            StateStore store = new StateStore(config.dataDir());
            ZoneRegistry registry = new ZoneRegistry(config);
            java.util.concurrent.CompletableFuture<Void> restored = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    restore(registry, store, log);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, stateLoad);
            writer = new StateWriter(store);
            metrics = Metrics.start(config, VERSION, () -> {
                restored.join(); // a scrape during the load must not see zones missing
                return registry.states();
            });
            mqtt = new MqttLink(mqttSettings, topics);
            MqttPublisher publisher = new MqttPublisher(topics, mqtt, homeAssistant, config.clusterEnabled());
            ZoneFetcher fetcher = new ZoneFetcher(config.dnsTimeout(), config.dnsTcp());
            fetcher.countQueries(metrics::countQuery);
            Checker checker = new Checker(config, fetcher, clock);
            KeyLog keyLog = config.keylogFile() == null ? null : new KeyLog(config.keylogFile());
            bridge = new Bridge(config, registry, checker, publisher, writer, keyLog, metrics);
            MqttLink link = mqtt;
            KnotListener knotListener = null;
            if (config.knotDbus() != null) {
                knotListener = new KnotListener(bridge, link::republishOnline);
            }
            KnotListener knotFields = knotListener;
            mqtt.onlineFields(() -> {
                Map<String, Object> f = new java.util.LinkedHashMap<>();
                if (config.clusterEnabled()) {
                    f.put("node", config.clusterNode()); // the active node: only it is connected here
                }
                if (knotFields != null) {
                    f.putAll(knotFields.onlineFields());
                }
                return f;
            });
            Commands commands = new Commands(bridge, (command, response) ->
                    link.send(topics.response(command), Json.object(response)));
            mqtt.attach(new BridgeSession(bridge, publisher, commands, topics, homeAssistant, restored));
            Metrics m = metrics;
            mqtt.observe(new MqttLink.Observer() {
                @Override
                public void connection(boolean up) {
                    m.setMqttConnected(up);
                }

                @Override
                public void published() {
                    m.countPublish();
                }
            });
            if (homeAssistant != null) {
                mqtt.subscribe(homeAssistant.statusTopic()); // its birth message asks for discovery again
            }
            NotifyHandler handler = new NotifyHandler(config.notifyAllow(), config.tsigKeys(), config.notifyRequireTsig());
            crypto.join(); // before any signature is checked
            // bound before the connect: a bridge that cannot listen never says online; a NOTIFY
            // answered meanwhile waits in the listener's queues for the states (a known zone must
            // be found known), held there: the sink must never block a reader thread
            listener = new NotifyListener(config.notifyListen(), handler, bridge::onNotify);
            listener.hold();
            listener.countOutcomes(word -> {
                if (!word.equals("dropped")) {
                    m.countNotify(Metrics.NotifyResult.valueOf(word.toUpperCase(java.util.Locale.ROOT)));
                }
            });
            listener.start();
            if (!config.clusterEnabled()) {
                mqtt.start(); // connects and reads back while the states load; the reconcile waits for them
            }
            awaitStates(restored);
            listener.release();
            StateWriter w = writer;
            NotifyListener l = listener;
            Scheduler scheduler = bridge.scheduler();
            metrics.registerQueue("checks", scheduler::queued);
            metrics.registerQueue("notifies", l::queued);
            metrics.registerQueue("mqtt", link::queued);
            metrics.registerQueue("state", w::pending);
            if (config.clusterEnabled()) {
                // standing by until the election says otherwise: the link connects on takeover
                bridge.standby();
                Bridge b = bridge;
                String node = config.clusterNode();
                m.setClusterActive(node, false);
                member.set(new Membership(node, topics,
                        mqttSettings.withClientId(mqttSettings.clientId() + "-node"),
                        new ClusterRole(bridge, publisher, mqtt, () -> publisher.rerender(b.states()),
                                active -> m.setClusterActive(node, active)), clock));
                membership = member.get();
                membership.start();
            }
            bridge.start();
            if (knotListener != null) {
                knot = new KnotDbus(config.knotDbus(), System.getenv(), knotListener);
                knot.start();
            }
        } catch (IOException | MqttException | RuntimeException e) {
            new Running(bridge, listener, mqtt, broker, writer, metrics, lock, knot, membership).close();
            throw e;
        }
        log.info("dnssec2mqtt {} started in {} ms: notify on {} (udp+tcp), broker {}{}, crypto {}, {} zones configured, {} known{}",
                VERSION, (System.nanoTime() - t0) / 1_000_000, addresses(listener.boundAddresses()), url,
                broker == null ? "" : " (embedded)", crypto.join(), config.zones().size(), bridge.knownZones(),
                config.clusterEnabled() ? ", cluster node " + config.clusterNode() + " (standing by until elected)" : "");
        return new Running(bridge, listener, mqtt, broker, writer, metrics, lock, knot, membership);
    }

    /** Waits for the state load; its failure as the {@link IOException} it was. */
    private static void awaitStates(java.util.concurrent.CompletableFuture<Void> restored) throws IOException {
        try {
            restored.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException io) {
                throw io.getCause();
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // as it was when the load ran on this thread
            }
            throw e;
        }
    }

    /** The zone states of the data directory: those zones are known again. */
    private static void restore(ZoneRegistry registry, StateStore store, Logger log) throws IOException {
        long t0 = System.nanoTime();
        List<ZoneState> states = store.loadAll();
        long loaded = System.nanoTime();
        for (ZoneState s : states) {
            try {
                registry.restore(Zones.parse(s.zone()), s);
            } catch (TextParseException e) {
                log.error("state: zone '{}' in {} is not a valid name; ignored", s.zone(), store.dir());
            }
        }
        log.debug("state: {} zone states read in {} ms, restored in {} ms", states.size(),
                (loaded - t0) / 1_000_000, (System.nanoTime() - loaded) / 1_000_000);
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
        try {
            ZoneSnapshot snap = new ZoneFetcher(config.dnsTimeout(), config.dnsTcp()).fetch(zone, target);
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
                String ds256 = k.dsSha256();
                if (ds256 != null) {
                    out.println(";   DS " + ds256);
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
        }
    }
}
