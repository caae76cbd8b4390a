package org.dnssec2mqtt.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.ConfigException;
import org.dnssec2mqtt.config.ConfigLoader;
import org.dnssec2mqtt.config.Durations;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/**
 * {@code dnssec2mqtt demo}: the bridge, its embedded broker and an in-process authoritative
 * server for {@code demo.example.} whose keys roll in a loop, so every topic and event can be
 * watched with {@code mosquitto_sub} without a DNS server of your own.
 *
 * <p>One cycle, one step per interval: publish a stand-by KSK; make it sign the DNSKEY RRset;
 * revoke the old KSK (RFC 5011 §2.1: the revoked key keeps signing); remove the revoked key;
 * then, every other cycle, a pre-publish ZSK roll (RFC 6781 §4.1.1.1): publish the new ZSK,
 * switch signing to it, remove the old one. Every change NOTIFYs the bridge, like a primary.
 */
public final class Demo implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Demo.class);
    public static final Name ZONE = Name.fromConstantString("demo.example.");
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    static final String USAGE = "usage: dnssec2mqtt demo [--config FILE] [--interval 5s]\n";

    private final Main.Running bridge;
    private final AuthServer auth;
    private final DemoZone zone;
    private final Config config;
    private final Duration interval;
    private final PrintStream out;
    private final Path tempDir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "demo");
        t.setDaemon(true);
        return t;
    });
    // only touched on the timer thread (and in start(), before the timer runs)
    private DemoZone.Key ksk;
    private DemoZone.Key zsk;
    private DemoZone.Key nextKsk;
    private DemoZone.Key nextZsk;
    private int step;
    private int cycle;
    private volatile boolean closed;

    private Demo(Main.Running bridge, AuthServer auth, DemoZone zone, Config config, Duration interval,
            PrintStream out, Path tempDir) {
        this.bridge = bridge;
        this.auth = auth;
        this.zone = zone;
        this.config = config;
        this.interval = interval;
        this.out = out;
        this.tempDir = tempDir;
    }

    /**
     * Starts the authoritative server and the bridge (not yet the loop: see {@link #start}).
     *
     * <p>The configuration is the user's file (optional) and environment over the demo's defaults:
     * embedded broker on 127.0.0.1:1883, NOTIFY on 127.0.0.1:5300, state in a temporary directory
     * (never {@code ./data}). {@code dns.query-port} is always the demo server's port, since
     * the bridge asks a zone learned from NOTIFY at the NOTIFY's source.
     */
    public static Demo open(Path configFile, Map<String, String> env, Duration interval, PrintStream out)
            throws ConfigException, IOException, MqttException {
        Path tempDir = Files.createTempDirectory("dnssec2mqtt-demo-");
        AuthServer auth = null;
        try {
            auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
            Map<String, String> defaults = new LinkedHashMap<>();
            defaults.put("notify.listen", "127.0.0.1:5300");
            defaults.put("mqtt.embedded.listen", "127.0.0.1:1883");
            defaults.put("data.dir", tempDir.resolve("data").toString());
            defaults.put("keylog.file", tempDir.resolve("keys.log").toString());
            Config config = ConfigLoader.load(configFile, overlay(configFile, env, defaults, auth.port()));
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            auth.add(zone);
            Main.Running bridge = Main.start(config, Clock.systemUTC());
            return new Demo(bridge, auth, zone, config, interval, out, tempDir);
        } catch (ConfigException | IOException | MqttException | RuntimeException e) {
            if (auth != null) {
                auth.close();
            }
            deleteTree(tempDir);
            throw e;
        }
    }

    /**
     * The environment the loader sees: the real one, plus each demo default for a key that neither
     * the file nor the environment sets (the loader lets the environment win over the file), plus
     * the demo server's port as {@code dns.query-port}, always.
     */
    static Map<String, String> overlay(Path configFile, Map<String, String> env, Map<String, String> defaults, int queryPort) {
        Map<String, String> merged = new HashMap<>(env);
        Properties inFile = new Properties();
        if (configFile != null) {
            try (InputStream in = Files.newInputStream(configFile)) {
                inFile.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the loader reads the file again and reports the problem with its path
            }
        }
        for (Map.Entry<String, String> d : defaults.entrySet()) {
            String envName = envName(d.getKey());
            String fileValue = inFile.getProperty(d.getKey());
            String envValue = env.get(envName);
            boolean set = (fileValue != null && !fileValue.isBlank()) || (envValue != null && !envValue.isBlank());
            if (!set) {
                merged.put(envName, d.getValue());
            }
        }
        merged.put(envName("dns.query-port"), Integer.toString(queryPort));
        return merged;
    }

    private static String envName(String key) {
        return new ConfigLoader.Key(key, null, "").envName();
    }

    /** Publishes the first KSK and ZSK, NOTIFYs the bridge, and starts rolling keys every interval. */
    public synchronized void start() {
        ksk = zone.addKey(true, true);
        zsk = zone.addKey(false, true);
        say("zone " + display() + " signed with KSK " + ksk.tag() + " and ZSK " + zsk.tag());
        notifyBridge();
        long every = interval.toMillis();
        timer.scheduleWithFixedDelay(this::stepSafely, every, every, TimeUnit.MILLISECONDS);
    }

    private void stepSafely() {
        try {
            step();
        } catch (RuntimeException e) {
            // the loop boundary: one failed step must not end the demo
            log.error("demo: step {} failed", step, e);
        }
    }

    /** One change to the zone, then a NOTIFY. */
    void step() {
        if (closed) {
            return;
        }
        boolean zskRoll = cycle % 2 == 0;
        switch (step) {
            case 0 -> {
                nextKsk = zone.addKey(true, false);
                say("published stand-by KSK " + nextKsk.tag());
            }
            case 1 -> {
                zone.activate(nextKsk);
                say("KSK " + nextKsk.tag() + " now signs the DNSKEY RRset");
            }
            case 2 -> {
                int before = ksk.tag();
                zone.revoke(ksk);
                say("revoked KSK " + before + " (now " + ksk.tag() + ")");
            }
            case 3 -> {
                zone.remove(ksk);
                say("removed revoked KSK " + ksk.tag());
                ksk = nextKsk;
                nextKsk = null;
            }
            case 4 -> {
                nextZsk = zone.addKey(false, false);
                say("published stand-by ZSK " + nextZsk.tag());
            }
            case 5 -> {
                zone.activate(nextZsk);
                zone.retire(zsk);
                say("ZSK " + nextZsk.tag() + " now signs the zone; ZSK " + zsk.tag() + " retired");
            }
            case 6 -> {
                zone.remove(zsk);
                say("removed ZSK " + zsk.tag());
                zsk = nextZsk;
                nextZsk = null;
            }
            default -> throw new IllegalStateException("no step " + step);
        }
        step++;
        if (step == 7 || (step == 4 && !zskRoll)) {
            step = 0;
            cycle++;
        }
        notifyBridge();
    }

    private void notifyBridge() {
        InetSocketAddress to = bridge.listener.udpAddresses().get(0);
        try {
            int rcode = auth.notify(ZONE, to, 3);
            if (rcode != Rcode.NOERROR) {
                say("the bridge answered the NOTIFY with " + (rcode < 0 ? "nothing" : Rcode.string(rcode)));
            }
        } catch (IOException e) {
            say("cannot NOTIFY the bridge at " + to + ": " + e.getMessage());
        }
    }

    private void say(String line) {
        synchronized (out) {
            out.println("demo: " + line);
            out.flush();
        }
    }

    private static String display() {
        return ZONE.toString(true);
    }

    /** The running bridge (tests read its NOTIFY address and broker from here). */
    public Main.Running bridge() {
        return bridge;
    }

    public int authPort() {
        return auth.port();
    }

    /** The {@code mosquitto_sub} command that shows everything the bridge publishes. */
    public String watchCommand() {
        String prefix = config.mqttTopicPrefix();
        String host;
        int port;
        if (config.mqttUrl() == null) {
            host = config.mqttEmbeddedListen().getAddress().getHostAddress();
            port = config.mqttEmbeddedListen().getPort();
        } else {
            URI uri = URI.create(config.mqttUrl());
            host = uri.getHost();
            port = uri.getPort();
        }
        StringBuilder sb = new StringBuilder("mosquitto_sub");
        if (!(host.equals("127.0.0.1") && port == 1883)) {
            sb.append(" -h ").append(host).append(" -p ").append(port);
        }
        return sb.append(" -v -t '").append(prefix).append("/#'").toString();
    }

    /** Stops the loop, then the bridge (which publishes its offline state), then the server. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        bridge.close();
        auth.close();
        deleteTree(tempDir);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.debug("demo: cannot delete {}: {}", dir, e.getMessage());
        }
    }

    /**
     * The {@code demo} command.
     *
     * @return an exit code, or -1 when the demo runs (until the JVM is stopped)
     */
    public static int run(List<String> args, Path configFile, Map<String, String> env, PrintStream out, PrintStream err) {
        Duration interval = DEFAULT_INTERVAL;
        List<String> rest = new ArrayList<>(args);
        int i = rest.indexOf("--interval");
        if (i >= 0) {
            if (i + 1 >= rest.size()) {
                err.print("--interval needs a duration such as 5s\n" + USAGE);
                return 2;
            }
            try {
                interval = interval(rest.get(i + 1));
            } catch (IllegalArgumentException e) {
                err.print("--interval: " + e.getMessage() + "\n" + USAGE);
                return 2;
            }
            rest.remove(i + 1);
            rest.remove(i);
        }
        if (!rest.isEmpty()) {
            err.print("demo: unknown argument '" + rest.get(0) + "'\n" + USAGE);
            return 2;
        }
        Demo demo;
        try {
            demo = open(configFile, env, interval, out);
        } catch (ConfigException e) {
            err.println("invalid configuration" + (configFile == null ? "" : " in " + configFile) + ":");
            for (String p : e.problems()) {
                err.println("  " + p);
            }
            return 1;
        } catch (IOException | MqttException e) {
            err.println("cannot start the demo: " + e.getMessage()
                    + " (another bridge running? set notify.listen / mqtt.embedded.listen in --config)");
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.close();
            out.println("demo: stopped");
            out.flush();
        }, "demo-shutdown"));
        out.println("demo: zone " + display() + " served on 127.0.0.1:" + demo.authPort()
                + "; its keys change every " + human(interval) + ". Ctrl-C stops.");
        out.println("demo: watch it with   " + demo.watchCommand());
        out.flush();
        demo.start();
        return -1;
    }

    /** {@code 5s}, {@code 1m}, ... as in the config, plus {@code 300ms}; must be positive. */
    static Duration interval(String text) {
        String t = text.trim();
        Duration d = t.endsWith("ms") && t.length() > 2 && t.substring(0, t.length() - 2).chars().allMatch(Character::isDigit)
                ? Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)))
                : Durations.parse(t);
        if (d.isZero()) {
            throw new IllegalArgumentException("must be more than 0; got '" + t + "'");
        }
        return d;
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
