package org.dnssec2mqtt.config;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.dnssec2mqtt.config.Config.ZoneConfig;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.dnssec2mqtt.dns.TsigKeyFileException;
import org.dnssec2mqtt.dns.TsigKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/**
 * Builds a {@link Config} from a properties file and environment overrides, checking everything
 * and reporting every problem at once as {@code key: problem}.
 *
 * <ul>
 *   <li>The file is read as UTF-8 {@link Properties}. A file that was asked for but cannot be read
 *       is an error: there is no silent fallback to defaults.
 *   <li>Every key in {@link #KEYS} can be overridden by the environment variable
 *       {@link Key#envName()}, e.g. {@code DNSSEC2MQTT_MQTT_TOPIC_PREFIX}. Per-zone keys
 *       ({@code zones.<zone>.servers}, {@code zones.<zone>.tsig-key}) come from the file only,
 *       because dots in zone names make their environment form ambiguous.
 *   <li>Values are trimmed; an empty value (file or environment) means unset, i.e. the default.
 *   <li>Relative paths are relative to the working directory.
 *   <li>A zone without its own servers gets {@code dns.servers}, so {@link ZoneConfig#servers()}
 *       is never empty.
 * </ul>
 */
public final class ConfigLoader {
    private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);

    /** Prefix of the environment variables that override config keys. */
    public static final String ENV_PREFIX = "DNSSEC2MQTT_";

    private static final String ZONES = "zones.";

    /**
     * One configuration key (apart from the per-zone ones).
     *
     * @param name the key as written in the file
     * @param defaultValue the default as it would be written in the file; null when unset
     * @param meaning one line for the documentation
     */
    public record Key(String name, String defaultValue, String meaning) {
        /** The environment variable that overrides this key. */
        public String envName() {
            return ENV_PREFIX + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
        }
    }

    /** Every non-zone key, in documentation order. The sample config and README follow this list. */
    public static final List<Key> KEYS = List.of(
            new Key("notify.listen", "127.0.0.1:5300",
                    "Addresses (IP literal:port, `[v6]:port`; separated by commas or spaces) to receive NOTIFY on, UDP and TCP"),
            new Key("notify.allow", "127.0.0.0/8, ::1/128",
                    "Sources (IP addresses or CIDR blocks, separated by commas or spaces) whose NOTIFYs are accepted; others get REFUSED"),
            new Key("notify.require-tsig", "false",
                    "`true`: refuse NOTIFYs that are not signed with a key from `tsig.keyfile`"),
            new Key("tsig.keyfile", null,
                    "BIND key file (`tsig-keygen` output, several `key` blocks allowed) with the TSIG keys"),
            new Key("dns.query-port", "53",
                    "Port to query a NOTIFY's source on (zones learned from NOTIFY)"),
            new Key("dns.servers", null,
                    "Default servers (`host[:port]`, `[v6]:port`; separated by commas or spaces) for zones without their own"),
            new Key("dns.timeout", "5s",
                    "Timeout per DNS query (`30s`, `5m`, `1h`, `2d` or seconds)"),
            new Key("dns.transport", "udp",
                    "`udp` (EDNS0, 1232 bytes, a check's queries at once from one random port; falls back to TCP on"
                            + " truncated answers), or `tcp` (the queries at once, on pooled connections)"),
            new Key("dns.resolver", null,
                    "Where DS queries for the parent side go (`host[:port]`): a validating resolver or the parent's"
                            + " authoritative server; `system` = the first nameserver in /etc/resolv.conf; unset = no DS checks"),
            new Key("poll.soa-interval", "5m",
                    "Ask every known zone's servers for the SOA serial this often (jittered); a new serial triggers a"
                            + " full check; `0` = never"),
            new Key("poll.full-interval", "1h",
                    "Check every known zone this often even without NOTIFY; `0` = never"),
            new Key("poll.stale-share", "0.5",
                    "`zone_stale` when the serial has not moved for this share (0-1) of the SOA expire; `0` = never"),
            new Key("rrsig.warn-days", "7",
                    "`rrsig_expiring` when the earliest DNSKEY/SOA signature expires in fewer days than this"),
            new Key("rrsig.reminder", "1d",
                    "Repeat `rrsig_expiring`/`rrsig_expired` this often while the condition lasts"),
            new Key("rollover.margin", "1h",
                    "Added to the DNSKEY or DS TTL before `ds_submit_ready`, `ds_propagated` and `dnskey_propagated`"
                            + " fire: covers propagation to secondaries"),
            new Key("knot.dbus", "off",
                    "Knot DNS's D-Bus signals: `off`, `system` (the system bus; `DBUS_SYSTEM_BUS_ADDRESS` if set),"
                            + " or a D-Bus address `unix:path=...`"),
            new Key("mqtt.url", null,
                    "Broker to publish to, `tcp://host:port` or `ssl://host:port`; unset = start the embedded broker"),
            new Key("mqtt.username", null, "Broker user name"),
            new Key("mqtt.password", null, "Broker password (prefer `mqtt.password-file`)"),
            new Key("mqtt.password-file", null,
                    "File holding the broker password (trimmed); not together with `mqtt.password`"),
            new Key("mqtt.ca-file", null,
                    "PEM file with the CA certificate(s) to trust for `ssl://`"),
            new Key("mqtt.client-id", "dnssec2mqtt",
                    "MQTT client id, unique per broker; with `cluster.enabled` the node name is appended (`dnssec2mqtt-<node>`)"),
            new Key("mqtt.keepalive", null,
                    "Seconds between keepalive pings (`10s`, `1m`, ...); the broker takes the bridge for dead after 1.5"
                            + " times this and sends its last will. Unset = `30s`, or `10s` with `cluster.enabled`"),
            new Key("mqtt.embedded.listen", "127.0.0.1:1883",
                    "Address (IP literal:port) of the embedded broker, when `mqtt.url` is unset"),
            new Key("mqtt.topic-prefix", "dnssec",
                    "First topic level of everything published; no `+`, `#`, leading or trailing `/`"),
            new Key("homeassistant.enabled", "false",
                    "`true`: publish Home Assistant MQTT discovery configs, one device per zone"),
            new Key("homeassistant.prefix", "homeassistant",
                    "Home Assistant's discovery prefix; its birth message is read from `<prefix>/status`"),
            new Key("data.dir", "./data", "Directory for state (embedded broker's store)"),
            new Key("keylog.file", null, "File to append every key change to; unset = none"),
            new Key("metrics.listen", null,
                    "Serve Prometheus metrics on `http://<address>/metrics` (`ip:port`, `[v6]:port`, or a bare port for"
                            + " 127.0.0.1); no authentication, so keep it on loopback or a trusted network; unset = off"),
            new Key("crypto.provider", "auto",
                    "`auto`: check signatures with the native provider (ACCP) when it loads on this platform, else"
                            + " the JDK's (with a warning); `jdk`: the JDK's only. The start line names the one in use"),
            new Key("cluster.enabled", "false",
                    "`true`: one of several bridges on one broker; one is active, the others stand by with its state and"
                            + " take over when it stops or dies (README \"Two bridges\")"),
            new Key("cluster.node", null,
                    "This bridge's name in the cluster (letters, digits, `.`, `-`, `_`; at most 64), unique per broker;"
                            + " unset = the host name"));

    private static final Map<String, Key> BY_NAME =
            KEYS.stream().collect(Collectors.toMap(Key::name, k -> k, (a, b) -> a, LinkedHashMap::new));

    private final List<String> problems = new ArrayList<>();
    /** Effective raw values: non-empty and trimmed; absent = default. */
    private final Map<String, String> values = new HashMap<>();
    /** Keys whose value came from the environment, named in their problems. */
    private final Set<String> fromEnv = new HashSet<>();

    private ConfigLoader() {}

    /**
     * Loads and checks the configuration.
     *
     * @param fileOrNull the properties file, or null for defaults (plus environment) only
     * @param env the environment, normally {@code System.getenv()}
     * @throws ConfigException listing every problem, each {@code key: problem}
     */
    public static Config load(Path fileOrNull, Map<String, String> env) throws ConfigException {
        return new ConfigLoader().run(fileOrNull, env);
    }

    private Config run(Path file, Map<String, String> env) throws ConfigException {
        Map<String, String> zoneValues = new TreeMap<>();
        if (file != null) {
            for (Map.Entry<String, String> e : readFile(file).entrySet()) {
                String key = e.getKey();
                if (BY_NAME.containsKey(key)) {
                    set(key, e.getValue());
                } else if (key.startsWith(ZONES)) {
                    zoneValues.put(key, e.getValue().trim());
                } else {
                    problems.add(key + ": " + unknownKey(key));
                }
            }
        }
        applyEnvironment(env);

        List<InetSocketAddress> notifyListen = list("notify.listen", ConfigLoader::socketAddress);
        List<Cidr> notifyAllow = list("notify.allow", Cidr::parse);
        Boolean notifyRequireTsig = one("notify.require-tsig", ConfigLoader::bool);
        Path tsigKeyfile = one("tsig.keyfile", ConfigLoader::path);
        TsigKeys tsigKeys = tsigKeyfile == null ? TsigKeys.none() : tsigKeys(tsigKeyfile);
        if (Boolean.TRUE.equals(notifyRequireTsig) && tsigKeyfile == null) {
            problem("notify.require-tsig", "true needs TSIG keys, but tsig.keyfile is not set");
        }
        Integer dnsQueryPort = one("dns.query-port", ConfigLoader::port);
        List<HostPort> dnsServers = list("dns.servers", s -> HostPort.parse(s, 53));
        Duration dnsTimeout = one("dns.timeout", ConfigLoader::positiveDuration);
        Boolean dnsTcp = one("dns.transport", ConfigLoader::tcp);
        HostPort dnsResolver = one("dns.resolver", ConfigLoader::resolver);
        Duration pollSoaInterval = one("poll.soa-interval", Durations::parse);
        Duration pollFullInterval = one("poll.full-interval", Durations::parse);
        Double pollStaleShare = one("poll.stale-share", ConfigLoader::share);
        Double rrsigWarnDays = one("rrsig.warn-days", ConfigLoader::days);
        Duration rrsigReminder = one("rrsig.reminder", ConfigLoader::positiveDuration);
        Duration rolloverMargin = one("rollover.margin", Durations::parse);
        String knotDbus = one("knot.dbus", ConfigLoader::knotDbus);
        String mqttUrl = one("mqtt.url", ConfigLoader::mqttUrl);
        String mqttUsername = values.get("mqtt.username");
        String mqttPassword = mqttPassword();
        Path mqttCaFile = one("mqtt.ca-file", ConfigLoader::existingFile);
        String mqttClientId = one("mqtt.client-id", s -> s);
        InetSocketAddress mqttEmbeddedListen = one("mqtt.embedded.listen", ConfigLoader::socketAddress);
        String mqttTopicPrefix = one("mqtt.topic-prefix", ConfigLoader::topicPrefix);
        Boolean homeassistantEnabled = one("homeassistant.enabled", ConfigLoader::bool);
        String homeassistantPrefix = one("homeassistant.prefix", ConfigLoader::topicPrefix);
        Path dataDir = one("data.dir", ConfigLoader::path);
        Path keylogFile = one("keylog.file", ConfigLoader::path);
        InetSocketAddress metricsListen = one("metrics.listen", ConfigLoader::metricsAddress);
        CryptoProvider.Mode cryptoProvider = one("crypto.provider", CryptoProvider.Mode::parse);
        Duration mqttKeepalive = one("mqtt.keepalive", ConfigLoader::keepalive);
        Boolean clusterEnabled = one("cluster.enabled", ConfigLoader::bool);
        String clusterNode = one("cluster.node", ConfigLoader::nodeName);
        if (clusterNode == null) {
            clusterNode = hostNode();
        }
        if (Boolean.TRUE.equals(clusterEnabled) && mqttUrl == null) {
            problem("cluster.enabled", "true needs mqtt.url: the nodes of a cluster share one broker, and an embedded"
                    + " broker stops with its bridge");
        }
        if (mqttKeepalive == null) {
            mqttKeepalive = Duration.ofSeconds(Boolean.TRUE.equals(clusterEnabled) ? 10 : 30);
        }
        Map<Name, ZoneConfig> zones = zones(zoneValues, dnsServers, tsigKeyfile, tsigKeys);

        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new Config(notifyListen, notifyAllow, notifyRequireTsig, tsigKeyfile, tsigKeys, dnsQueryPort,
                dnsServers, dnsTimeout, dnsTcp, dnsResolver, pollSoaInterval, pollFullInterval, pollStaleShare,
                rrsigWarnDays, rrsigReminder, rolloverMargin, "off".equals(knotDbus) ? null : knotDbus, mqttUrl, mqttUsername, mqttPassword,
                mqttCaFile, mqttClientId, mqttEmbeddedListen, mqttTopicPrefix, homeassistantEnabled, homeassistantPrefix, dataDir, keylogFile, metricsListen,
                cryptoProvider, mqttKeepalive, clusterEnabled, clusterNode, zones);
    }

    /** Whole seconds, 1 to 65535 (MQTT's limit). */
    private static Duration keepalive(String s) {
        Duration d = Durations.parse(s);
        if (d.toMillis() % 1000 != 0 || d.getSeconds() < 1 || d.getSeconds() > 65_535) {
            throw new IllegalArgumentException("must be whole seconds from 1s to 65535s (is '" + s + "')");
        }
        return d;
    }

    /** A node name: one topic level and one part of a client id. */
    static String nodeName(String s) {
        if (s.length() > 64 || !s.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("expected letters, digits, '.', '-' or '_' (at most 64); got '" + s + "'");
        }
        return s;
    }

    /** The host name as a node name (other characters become '-'); {@code bridge} when there is none. */
    private static String hostNode() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = Files.readString(Path.of("/etc/hostname")).trim();
            } catch (IOException | RuntimeException e) {
                host = null;
            }
        }
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "bridge";
            }
        }
        String n = host.replaceAll("[^A-Za-z0-9._-]", "-");
        return n.length() > 64 ? n.substring(0, 64) : n;
    }

    // ---- sources -------------------------------------------------------------------------------

    /** The file's entries, sorted by key so problems come out in a stable order. */
    private Map<String, String> readFile(Path file) throws ConfigException {
        Set<String> repeated = new TreeSet<>();
        // Properties silently keeps the last of two equal keys; note them so the operator hears of it
        Properties properties = new Properties() {
            private static final long serialVersionUID = 1L;

            @Override
            public synchronized Object put(Object key, Object value) {
                if (containsKey(key)) {
                    repeated.add((String) key);
                }
                return super.put(key, value);
            }
        };
        if (Files.isDirectory(file)) {
            throw new ConfigException(List.of("config file: cannot read '" + file + "': it is a directory"));
        }
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new ConfigException(List.of("config file: cannot read '" + file + "': " + describe(e)));
        } catch (IllegalArgumentException e) { // Properties.load on a bad backslash-u escape
            throw new ConfigException(List.of("config file: cannot read '" + file + "': " + e.getMessage()));
        }
        for (String key : repeated) {
            problems.add(key + ": set more than once in " + file + "; keep one");
        }
        Map<String, String> entries = new TreeMap<>();
        properties.stringPropertyNames().forEach(k -> entries.put(k, properties.getProperty(k)));
        return entries;
    }

    private void applyEnvironment(Map<String, String> env) {
        for (Key key : KEYS) {
            String value = env.get(key.envName());
            if (value != null) {
                set(key.name(), value); // an empty value unsets what the file said
                fromEnv.add(key.name());
            }
        }
        // Unknown DNSSEC2MQTT_* names only warn: launch scripts may use the prefix for their own settings.
        Set<String> known = KEYS.stream().map(Key::envName).collect(Collectors.toSet());
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith(ENV_PREFIX) || known.contains(name)) {
                continue;
            }
            if (name.startsWith(ENV_PREFIX + "ZONES_")) {
                log.warn("ignoring environment variable {}: per-zone settings come from the config file only", name);
            } else {
                String near = nearest(name, known);
                log.warn("ignoring environment variable {}: not a config key{}", name,
                        near == null ? "" : "; did you mean " + near + "?");
            }
        }
    }

    private void set(String key, String value) {
        String v = value.trim();
        if (v.isEmpty()) {
            values.remove(key);
        } else {
            values.put(key, v);
        }
    }

    /** Records {@code key: message}, naming the environment variable when the value came from there. */
    private void problem(String key, String message) {
        Key k = BY_NAME.get(key);
        problems.add(key + ": " + message + (k != null && fromEnv.contains(key) ? " (set by " + k.envName() + ")" : ""));
    }

    private static String unknownKey(String key) {
        String near = nearest(key, BY_NAME.keySet());
        if (near != null) {
            return "unknown key; did you mean '" + near + "'?";
        }
        return "unknown key; known keys are " + String.join(", ", BY_NAME.keySet())
                + ", zones.<zone>.servers, zones.<zone>.tsig-key, zones.<zone>.use-ns";
    }

    /** The candidate at most 2 edits away from {@code word} (typos, {@code _} for {@code -}), or null. */
    private static String nearest(String word, Set<String> candidates) {
        String best = null;
        int bestDistance = 3;
        for (String c : candidates) {
            int d = distance(word, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    // ---- typed access --------------------------------------------------------------------------

    /** The raw value of {@code key}, or its default (null when unset). */
    private String raw(String key) {
        return values.getOrDefault(key, BY_NAME.get(key).defaultValue());
    }

    /** Parses one value; null when unset or when a problem was recorded. */
    private <T> T one(String key, Function<String, T> parser) {
        String v = raw(key);
        if (v == null) {
            return null;
        }
        try {
            return parser.apply(v);
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return null;
        }
    }

    /** Parses a list; empty when unset. */
    private <T> List<T> list(String key, Function<String, T> parser) {
        return parseList(key, raw(key), parser);
    }

    /**
     * Entries separated by commas, whitespace or both ({@code a, b}, {@code a b}, {@code a,b}), so a
     * space where a comma was meant still means two entries. Two commas with nothing between them
     * are a problem: something was left out.
     */
    private <T> List<T> parseList(String key, String value, Function<String, T> parser) {
        List<T> out = new ArrayList<>();
        if (value == null) {
            return out;
        }
        for (String piece : value.split(",", -1)) {
            if (piece.isBlank()) {
                problem(key, "empty entry in list (is '" + value + "')");
                continue;
            }
            for (String item : piece.trim().split("\\s+")) {
                try {
                    out.add(parser.apply(item));
                } catch (IllegalArgumentException e) {
                    problem(key, e.getMessage());
                }
            }
        }
        return List.copyOf(out);
    }

    // ---- value parsers: each throws IllegalArgumentException with the text after "key: " --------

    private static boolean bool(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false; got '" + s + "'");
        };
    }

    /** {@code system}: the first nameserver of the system's resolver configuration. */
    private static HostPort resolver(String s) {
        if (!s.equalsIgnoreCase("system")) {
            return HostPort.parse(s, 53);
        }
        java.util.List<InetSocketAddress> servers = org.xbill.DNS.ResolverConfig.getCurrentConfig().servers();
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("'system' but the system has no nameserver configured; name one");
        }
        InetSocketAddress a = servers.get(0);
        return new HostPort(a.getAddress().getHostAddress(), a.getPort());
    }

    /**
     * {@code off}, {@code system}, or a D-Bus address for the unix-socket transport (the only one
     * bundled): {@code unix:path=...} or {@code unix:abstract=...} (D-Bus specification, "Server Addresses").
     */
    private static String knotDbus(String s) {
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("off") || lower.equals("system")) {
            return lower;
        }
        if (!s.matches("unix:(path|abstract)=[^,;]+(,guid=[0-9a-fA-F]+)?")) {
            throw new IllegalArgumentException("expected off, system or a D-Bus address such as "
                    + "unix:path=/run/dbus/system_bus_socket; got '" + s + "'");
        }
        return s;
    }

    private static double share(String s) {
        double d = number(s);
        if (d < 0 || d > 1) {
            throw new IllegalArgumentException("expected a share from 0 to 1; got '" + s + "'");
        }
        return d;
    }

    private static double days(String s) {
        double d = number(s);
        if (d < 0 || d > 3650) {
            throw new IllegalArgumentException("expected a number of days from 0 to 3650; got '" + s + "'");
        }
        return d;
    }

    private static double number(String s) {
        try {
            double d = Double.parseDouble(s);
            if (Double.isFinite(d) && s.matches("[0-9.]+")) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("expected a number; got '" + s + "'");
    }

    private static boolean tcp(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "tcp" -> true;
            case "udp" -> false;
            default -> throw new IllegalArgumentException("expected tcp or udp; got '" + s + "'");
        };
    }

    private static int port(String s) {
        try {
            int p = Integer.parseInt(s);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below, like an out-of-range number
        }
        throw new IllegalArgumentException("port must be 1-65535 (is '" + s + "')");
    }

    private static Duration positiveDuration(String s) {
        Duration d = Durations.parse(s);
        if (d.isZero()) {
            throw new IllegalArgumentException("must be more than 0 (is '" + s + "')");
        }
        return d;
    }

    /** {@code ip:port} or {@code [v6]:port}, IP literals only (a listener binds, it never resolves); port 0 = any. */
    static InetSocketAddress socketAddress(String s) {
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || !s.startsWith(":", close + 1)) {
                throw new IllegalArgumentException("expected ip:port or [ipv6]:port; got '" + s + "'");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0 || s.indexOf(':') != colon) {
                throw new IllegalArgumentException("expected ip:port or [ipv6]:port; got '" + s + "'");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port must be 0-65535 (is '" + port + "')");
        }
        InetAddress address = IpLiteral.parseOrNull(host);
        if (address == null) {
            throw new IllegalArgumentException("expected an IP address literal; got '" + host + "'");
        }
        return new InetSocketAddress(address, p);
    }

    /** {@code ip:port}, {@code [v6]:port}, or a bare port meaning loopback: metrics stay local unless asked. */
    private static InetSocketAddress metricsAddress(String s) {
        if (s.matches("\\d+")) {
            return new InetSocketAddress(IpLiteral.parseOrNull("127.0.0.1"), port(s));
        }
        InetSocketAddress a = socketAddress(s);
        if (a.getPort() == 0) {
            throw new IllegalArgumentException("port must be 1-65535 (is '0'): Prometheus needs a fixed port to scrape");
        }
        return a;
    }

    private static String mqttUrl(String s) {
        String rest = s.startsWith("tcp://") || s.startsWith("ssl://") ? s.substring(6) : null;
        if (rest != null && rest.contains("@")) {
            // user:password@host: never echo it, the password would end up in logs
            throw new IllegalArgumentException("must not contain credentials; use mqtt.username and mqtt.password-file");
        }
        if (rest == null || !rest.matches("(\\[[0-9a-fA-F:.]+\\]|[^\\[\\]:/]+):\\d{1,5}")) {
            throw new IllegalArgumentException("expected tcp://host:port or ssl://host:port; got '" + s + "'");
        }
        port(rest.substring(rest.lastIndexOf(':') + 1));
        return s;
    }

    private static String topicPrefix(String s) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("must not contain NUL");
        }
        if (s.contains("+") || s.contains("#")) {
            throw new IllegalArgumentException("must not contain the wildcards '+' or '#' (is '" + s + "')");
        }
        if (s.startsWith("/") || s.endsWith("/")) {
            throw new IllegalArgumentException("must not start or end with '/' (is '" + s + "')");
        }
        if (s.startsWith("$")) { // MQTT 3.1.1 §4.7.2: '$' topics are the broker's, '#' does not match them
            throw new IllegalArgumentException("must not start with '$' (is '" + s + "')");
        }
        return s;
    }

    private static Path path(String s) {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("not a valid path: " + e.getReason());
        }
    }

    private static Path existingFile(String s) {
        Path p = path(s);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("no such file '" + s + "'");
        }
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("cannot read '" + s + "': permission denied");
        }
        return p;
    }

    // ---- files with secrets --------------------------------------------------------------------

    private TsigKeys tsigKeys(Path file) {
        try {
            TsigKeys keys = TsigKeys.parse(file);
            warnIfOthersCanRead("tsig.keyfile", file);
            if (keys.isEmpty()) {
                problem("tsig.keyfile", "'" + file + "' holds no key blocks; write one with tsig-keygen");
            }
            return keys;
        } catch (IOException e) {
            problem("tsig.keyfile", "cannot read '" + file + "': " + describe(e));
        } catch (TsigKeyFileException e) {
            e.problems().forEach(p -> problem("tsig.keyfile", p));
        }
        return TsigKeys.none();
    }

    /** mqtt.password or the trimmed content of mqtt.password-file; never echoes either. */
    private String mqttPassword() {
        String password = values.get("mqtt.password");
        Path file = one("mqtt.password-file", ConfigLoader::path);
        if (file == null) {
            return password;
        }
        if (password != null) {
            problem("mqtt.password", "set either mqtt.password or mqtt.password-file, not both");
            return null;
        }
        try {
            String content = Files.readString(file, StandardCharsets.UTF_8).trim();
            warnIfOthersCanRead("mqtt.password-file", file);
            if (content.isEmpty()) {
                problem("mqtt.password-file", "'" + file + "' is empty");
                return null;
            }
            return content;
        } catch (IOException e) {
            problem("mqtt.password-file", "cannot read '" + file + "': " + describe(e));
            return null;
        }
    }

    /** Secrets that others on the machine can read are not secret; say so, but keep running. */
    private static void warnIfOthersCanRead(String key, Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("{}: '{}' is readable by group or others ({}); chmod 600 it", key, file,
                        PosixFilePermissions.toString(perms));
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing to check
        }
    }

    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof MalformedInputException) {
            return "not valid UTF-8";
        }
        // an IOException without a message says nothing an operator can use; its class name neither
        return e.getMessage() == null ? "read error" : e.getMessage();
    }

    // ---- zones ---------------------------------------------------------------------------------

    /** {@code zones.<zone>.servers} and {@code zones.<zone>.tsig-key}, by suffix: zone names contain dots. */
    private Map<Name, ZoneConfig> zones(Map<String, String> zoneValues, List<HostPort> dnsServers,
            Path tsigKeyfile, TsigKeys tsigKeys) {
        Map<Name, Map<String, String>> settings = new TreeMap<>(); // zone -> setting -> file key
        for (String key : zoneValues.keySet()) {
            String rest = key.substring(ZONES.length());
            String setting = rest.endsWith(".servers") ? "servers" : rest.endsWith(".tsig-key") ? "tsig-key"
                    : rest.endsWith(".use-ns") ? "use-ns" : null;
            if (setting == null) {
                problems.add(key + ": unknown zone setting; expected zones.<zone>.servers, zones.<zone>.tsig-key"
                        + " or zones.<zone>.use-ns");
                continue;
            }
            String zoneText = rest.substring(0, rest.length() - setting.length() - 1);
            if (zoneText.isEmpty()) {
                problems.add(key + ": no zone name; expected zones.<zone>." + setting);
                continue;
            }
            Name zone;
            try {
                zone = Name.fromString(zoneText, Name.root).canonicalize();
            } catch (TextParseException e) {
                problems.add(key + ": bad zone name " + e.getMessage());
                continue;
            }
            String earlier = settings.computeIfAbsent(zone, z -> new TreeMap<>()).putIfAbsent(setting, key);
            if (earlier != null) {
                problems.add(key + ": same zone and setting as " + earlier + "; keep one");
            }
        }
        Map<Name, ZoneConfig> zones = new LinkedHashMap<>();
        for (Map.Entry<Name, Map<String, String>> e : settings.entrySet()) {
            Name zone = e.getKey();
            String serversKey = e.getValue().get("servers");
            String serversValue = serversKey == null ? "" : zoneValues.get(serversKey);
            List<HostPort> servers = serversValue.isEmpty()
                    ? dnsServers
                    : parseList(serversKey, serversValue, s -> HostPort.parse(s, 53));
            if (serversValue.isEmpty() && dnsServers.isEmpty()) {
                String key = serversKey != null ? serversKey : "zones." + zone.toString(true) + ".servers";
                problems.add(key + ": no server to ask for " + zone + "; set it or dns.servers");
            }
            Name tsigKey = null;
            String tsigKeyKey = e.getValue().get("tsig-key");
            String tsigKeyValue = tsigKeyKey == null ? "" : zoneValues.get(tsigKeyKey);
            if (!tsigKeyValue.isEmpty()) {
                try {
                    tsigKey = Name.fromString(tsigKeyValue, Name.root).canonicalize();
                    if (tsigKeyfile == null) {
                        problems.add(tsigKeyKey + ": key '" + tsigKeyValue + "' not found: tsig.keyfile is not set");
                    } else if (tsigKeys.get(tsigKey) == null && !tsigKeys.isEmpty()) {
                        problems.add(tsigKeyKey + ": key '" + tsigKeyValue + "' is not in " + tsigKeyfile
                                + " (it has " + tsigKeys.names().stream().map(Name::toString).sorted()
                                        .collect(Collectors.joining(", ")) + ")");
                    }
                } catch (TextParseException ex) {
                    problems.add(tsigKeyKey + ": bad key name " + ex.getMessage());
                }
            }
            boolean useNs = false;
            String useNsKey = e.getValue().get("use-ns");
            String useNsValue = useNsKey == null ? "" : zoneValues.get(useNsKey);
            if (!useNsValue.isEmpty()) {
                try {
                    useNs = bool(useNsValue);
                } catch (IllegalArgumentException ex) {
                    problems.add(useNsKey + ": " + ex.getMessage());
                }
            }
            zones.put(zone, new ZoneConfig(zone, servers, tsigKey, useNs));
        }
        return Collections.unmodifiableMap(zones);
    }
}
