package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.config.Config.ZoneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xbill.DNS.Name;

class ConfigLoaderTest {

    static final String KEYS = """
            key "notify-key" {
            \talgorithm hmac-sha256;
            \tsecret "FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=";
            };
            """;

    @TempDir
    Path dir;

    /** Writes {@code text} as the config file and loads it. */
    private Config load(String text, Map<String, String> env) throws Exception {
        Path file = dir.resolve("dnssec2mqtt.properties");
        Files.writeString(file, text);
        return ConfigLoader.load(file, env);
    }

    /** The problems {@code text} causes; empty when it loads. */
    private List<String> problems(String text, Map<String, String> env) throws Exception {
        try {
            load(text, env);
            return List.of();
        } catch (ConfigException e) {
            assertEquals(String.join("\n", e.problems()), e.getMessage());
            return e.problems();
        }
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    @Test
    void defaultsWithoutAFile() throws Exception {
        Config c = ConfigLoader.load(null, Map.of());
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 5300)), c.notifyListen());
        assertEquals(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")), c.notifyAllow());
        assertFalse(c.notifyRequireTsig());
        assertNull(c.tsigKeyfile());
        assertTrue(c.tsigKeys().isEmpty());
        assertEquals(53, c.dnsQueryPort());
        assertEquals(List.of(), c.dnsServers());
        assertEquals(Duration.ofSeconds(5), c.dnsTimeout());
        assertFalse(c.dnsTcp(), "udp by default");
        assertEquals(Duration.ofHours(1), c.pollFullInterval());
        assertNull(c.mqttUrl());
        assertNull(c.mqttUsername());
        assertNull(c.mqttPassword());
        assertNull(c.mqttCaFile());
        assertEquals("dnssec2mqtt", c.mqttClientId());
        assertEquals(new InetSocketAddress("127.0.0.1", 1883), c.mqttEmbeddedListen());
        assertEquals("dnssec", c.mqttTopicPrefix());
        assertFalse(c.homeassistantEnabled());
        assertEquals("homeassistant", c.homeassistantPrefix());
        assertEquals(Path.of("./data"), c.dataDir());
        assertNull(c.keylogFile());
        assertEquals(Map.of(), c.zones());
    }

    /** Maven runs tests in the module directory, where the sample lives. */
    @Test
    void sampleConfigLoadsAsIsAndShowsEveryDefault() throws Exception {
        Path sample = Path.of("dnssec2mqtt.properties");
        Config c = ConfigLoader.load(sample, Map.of());
        assertEquals(ConfigLoader.load(null, Map.of()).toString().replaceAll("TsigKeys@\\w+", ""),
                c.toString().replaceAll("TsigKeys@\\w+", ""));

        List<String> lines = Files.readAllLines(sample);
        for (ConfigLoader.Key key : ConfigLoader.KEYS) {
            String expected = "# " + key.name() + " =" + (key.defaultValue() == null ? "" : " " + key.defaultValue());
            assertTrue(lines.contains(expected), "the sample config lacks the line: " + expected);
        }
    }

    @Test
    void missingFileIsAnErrorNamingThePath() {
        Path absent = dir.resolve("absent.properties");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(absent, Map.of()));
        assertEquals(List.of("config file: cannot read '" + absent + "': no such file"), e.problems());
    }

    @Test
    void directoryIsAnErrorNamingThePath() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, Map.of()));
        assertEquals(List.of("config file: cannot read '" + dir + "': it is a directory"), e.problems());
    }

    @Test
    void notUtf8IsAnErrorNamingThePath() throws Exception {
        Path file = dir.resolve("latin1.properties");
        Files.write(file, new byte[] {'m', 'q', 't', 't', '.', 'u', 's', 'e', 'r', 'n', 'a', 'm', 'e', '=', (byte) 0xe9});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(List.of("config file: cannot read '" + file + "': not valid UTF-8"), e.problems());
    }

    /** One bad line per rule, and the exact message it must produce. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        notify.listen = localhost:53                  | notify.listen: expected an IP address literal; got 'localhost'
        notify.listen = 1.2.3.999:53                  | notify.listen: expected an IP address literal; got '1.2.3.999'
        notify.listen = 127.0.0.1                     | notify.listen: expected ip:port or [ipv6]:port; got '127.0.0.1'
        notify.listen = ::1                           | notify.listen: expected ip:port or [ipv6]:port; got '::1'
        notify.listen = [::1]5353                     | notify.listen: expected ip:port or [ipv6]:port; got '[::1]5353'
        notify.listen = 127.0.0.1:70000               | notify.listen: port must be 0-65535 (is '70000')
        notify.listen = 127.0.0.1:53,,[::1]:53        | notify.listen: empty entry in list (is '127.0.0.1:53,,[::1]:53')
        notify.allow = 10.0.0.0/33                    | notify.allow: prefix length must be 0-32 (is '33')
        notify.allow = 10.0.0.0/8, example.org        | notify.allow: expected an IP address or CIDR block; got 'example.org'
        notify.require-tsig = yes                     | notify.require-tsig: expected true or false; got 'yes'
        notify.require-tsig = true                    | notify.require-tsig: true needs TSIG keys, but tsig.keyfile is not set
        dns.query-port = 70000                        | dns.query-port: port must be 1-65535 (is '70000')
        dns.query-port = 0                            | dns.query-port: port must be 1-65535 (is '0')
        dns.query-port = fifty-three                  | dns.query-port: port must be 1-65535 (is 'fifty-three')
        dns.servers = ns1.example.org:0               | dns.servers: 'ns1.example.org:0' is not a host[:port]: port must be 1-65535 (is '0')
        dns.servers = [2001:db8::1                    | dns.servers: '[2001:db8::1' is not a host[:port]: missing ']' (expected [ipv6]:port)
        dns.servers = ns1.example.org\u3000ns2        | dns.servers: 'ns1.example.org\u3000ns2' is not a host[:port]: it contains whitespace (in a list, separate entries with commas or spaces)
        dns.resolver = 127.0.0.1 53                   | dns.resolver: '127.0.0.1 53' is not a host[:port]: it contains whitespace (in a list, separate entries with commas or spaces)
        dns.resolver = resolver?.example:53           | dns.resolver: 'resolver?.example:53' is not a host[:port]: '?' is not allowed in a host name (letters, digits, '-' and '.'; IPv6 as [address]:port)
        dns.timeout = 0                               | dns.timeout: must be more than 0 (is '0')
        dns.timeout = 5 min                           | dns.timeout: expected a duration such as 30s, 5m, 1h, 2d or a number of seconds; got '5 min'
        dns.transport = tls                           | dns.transport: expected tcp or udp; got 'tls'
        crypto.provider = native                      | crypto.provider: expected auto or jdk; got 'native'
        rollover.margin = soon                        | rollover.margin: expected a duration such as 30s, 5m, 1h, 2d or a number of seconds; got 'soon'
        knot.dbus = on                                | knot.dbus: expected off, system or a D-Bus address such as unix:path=/run/dbus/system_bus_socket; got 'on'
        knot.dbus = tcp:host=127.0.0.1,port=1234      | knot.dbus: expected off, system or a D-Bus address such as unix:path=/run/dbus/system_bus_socket; got 'tcp:host=127.0.0.1,port=1234'
        knot.dbus = /run/dbus/system_bus_socket       | knot.dbus: expected off, system or a D-Bus address such as unix:path=/run/dbus/system_bus_socket; got '/run/dbus/system_bus_socket'
        poll.full-interval = 1w                       | poll.full-interval: expected a duration such as 30s, 5m, 1h, 2d or a number of seconds; got '1w'
        mqtt.url = mqtt://localhost:1883              | mqtt.url: expected tcp://host:port or ssl://host:port; got 'mqtt://localhost:1883'
        mqtt.url = tcp://localhost                    | mqtt.url: expected tcp://host:port or ssl://host:port; got 'tcp://localhost'
        mqtt.url = tcp://localhost:99999              | mqtt.url: port must be 1-65535 (is '99999')
        mqtt.url = tcp://bridge:hunter2@localhost:1883 | mqtt.url: must not contain credentials; use mqtt.username and mqtt.password-file
        mqtt.ca-file = /nonexistent/ca.pem            | mqtt.ca-file: no such file '/nonexistent/ca.pem'
        mqtt.password-file = /nonexistent/password    | mqtt.password-file: cannot read '/nonexistent/password': no such file
        mqtt.embedded.listen = localhost:1883         | mqtt.embedded.listen: expected an IP address literal; got 'localhost'
        mqtt.topic-prefix = dnssec/#                  | mqtt.topic-prefix: must not contain the wildcards '+' or '#' (is 'dnssec/#')
        mqtt.topic-prefix = dns+sec                   | mqtt.topic-prefix: must not contain the wildcards '+' or '#' (is 'dns+sec')
        mqtt.topic-prefix = /dnssec                   | mqtt.topic-prefix: must not start or end with '/' (is '/dnssec')
        mqtt.topic-prefix = dnssec/                   | mqtt.topic-prefix: must not start or end with '/' (is 'dnssec/')
        mqtt.topic-prefix = $SYS                      | mqtt.topic-prefix: must not start with '$' (is '$SYS')
        mqtt.topic-prefix = dns\\u0000sec             | mqtt.topic-prefix: must not contain NUL
        data.dir = data\\u0000dir                     | data.dir: not a valid path: Nul character not allowed
        tsig.keyfile = /nonexistent/tsig.key          | tsig.keyfile: cannot read '/nonexistent/tsig.key': no such file
        mqtt.passwrd = x                              | mqtt.passwrd: unknown key; did you mean 'mqtt.password'?
        notify.require_tsig = true                    | notify.require_tsig: unknown key; did you mean 'notify.require-tsig'?
        zones.example.org.server = ns1                | zones.example.org.server: unknown zone setting; expected zones.<zone>.servers, zones.<zone>.tsig-key or zones.<zone>.use-ns
        zones..servers = ns1                          | zones..servers: no zone name; expected zones.<zone>.servers
        zones.a..b.servers = ns1                      | zones.a..b.servers: bad zone name 'a..b': invalid empty label
        zones.example.org.servers = ns1:0             | zones.example.org.servers: 'ns1:0' is not a host[:port]: port must be 1-65535 (is '0')
        zones.x.servers = 127.0.0.1:5301;x            | zones.x.servers: '127.0.0.1:5301;x' is not a host[:port]: port must be 1-65535 (is '5301;x')
        zones.x.servers = 127.0.0.1:5301, ns/1        | zones.x.servers: 'ns/1' is not a host[:port]: '/' is not allowed in a host name (letters, digits, '-' and '.'; IPv6 as [address]:port)
        zones.x.servers = 127.0.0.1:5301,             | zones.x.servers: empty entry in list (is '127.0.0.1:5301,')
        notify.allow = 10.0.0.0/8 ,, ::1              | notify.allow: empty entry in list (is '10.0.0.0/8 ,, ::1')
        metrics.listen = localhost:9204               | metrics.listen: expected an IP address literal; got 'localhost'
        metrics.listen = 127.0.0.1:0                  | metrics.listen: port must be 1-65535 (is '0'): Prometheus needs a fixed port to scrape
        metrics.listen = 0                            | metrics.listen: port must be 1-65535 (is '0')
        metrics.listen = 70000                        | metrics.listen: port must be 1-65535 (is '70000')
        metrics.listen = :9204                        | metrics.listen: expected an IP address literal; got ''
        cluster.node = a/b                            | cluster.node: expected letters, digits, '.', '-' or '_' (at most 64); got 'a/b'
        cluster.node = node+1                         | cluster.node: expected letters, digits, '.', '-' or '_' (at most 64); got 'node+1'
        mqtt.keepalive = 0                            | mqtt.keepalive: must be whole seconds from 1s to 65535s (is '0')
        mqtt.keepalive = 100000                       | mqtt.keepalive: must be whole seconds from 1s to 65535s (is '100000')
        cluster.enabled = true                        | cluster.enabled: true needs mqtt.url: the nodes of a cluster share one broker, and an embedded broker stops with its bridge
        """)
    void eachRuleHasItsExactMessage(String line, String problem) throws Exception {
        assertEquals(List.of(problem), problems(line + "\n", Map.of()));
    }

    @Test
    void unknownKeyFarFromAnyListsTheKnownKeys() throws Exception {
        assertEquals(List.of("colour: unknown key; known keys are notify.listen, notify.allow, notify.require-tsig,"
                + " tsig.keyfile, dns.query-port, dns.servers, dns.timeout, dns.transport, dns.resolver, poll.soa-interval,"
                + " poll.full-interval, poll.stale-share, rrsig.warn-days, rrsig.reminder, rollover.margin, knot.dbus,"
                + " mqtt.url, mqtt.username, mqtt.password, mqtt.password-file, mqtt.ca-file, mqtt.client-id,"
                + " mqtt.keepalive, mqtt.embedded.listen, mqtt.topic-prefix, homeassistant.enabled, homeassistant.prefix, data.dir, keylog.file,"
                + " metrics.listen, crypto.provider, cluster.enabled, cluster.node, zones.<zone>.servers, zones.<zone>.tsig-key, zones.<zone>.use-ns"), problems("colour = blue\n", Map.of()));
    }

    @Test
    void reportsEveryProblemAtOnceInAStableOrder() throws Exception {
        String text = """
                mqtt.url = tcp://localhost
                dns.query-port = 70000
                dns.timeout = 0
                frobnicate = yes
                dns.timeout = 0s
                zones.example.org.servers = ns1:0
                """;
        assertEquals(List.of(
                "dns.timeout: set more than once in " + dir.resolve("dnssec2mqtt.properties") + "; keep one",
                "frobnicate: unknown key; known keys are " + String.join(", ",
                        ConfigLoader.KEYS.stream().map(ConfigLoader.Key::name).toList())
                        + ", zones.<zone>.servers, zones.<zone>.tsig-key, zones.<zone>.use-ns",
                "dns.query-port: port must be 1-65535 (is '70000')",
                "dns.timeout: must be more than 0 (is '0s')",
                "dns.transport: expected tcp or udp; got 'quic' (set by DNSSEC2MQTT_DNS_TRANSPORT)",
                "mqtt.url: expected tcp://host:port or ssl://host:port; got 'tcp://localhost'",
                "zones.example.org.servers: 'ns1:0' is not a host[:port]: port must be 1-65535 (is '0')"),
                problems(text, Map.of("DNSSEC2MQTT_DNS_TRANSPORT", "quic")));
    }

    @ParameterizedTest
    @CsvSource({
        "notify.listen,        DNSSEC2MQTT_NOTIFY_LISTEN",
        "notify.require-tsig,  DNSSEC2MQTT_NOTIFY_REQUIRE_TSIG",
        "mqtt.topic-prefix,    DNSSEC2MQTT_MQTT_TOPIC_PREFIX",
        "mqtt.embedded.listen, DNSSEC2MQTT_MQTT_EMBEDDED_LISTEN",
        "mqtt.password-file,   DNSSEC2MQTT_MQTT_PASSWORD_FILE",
        "poll.full-interval,   DNSSEC2MQTT_POLL_FULL_INTERVAL",
        "homeassistant.enabled, DNSSEC2MQTT_HOMEASSISTANT_ENABLED",
        "homeassistant.prefix, DNSSEC2MQTT_HOMEASSISTANT_PREFIX",
        "rollover.margin,      DNSSEC2MQTT_ROLLOVER_MARGIN",
        "knot.dbus,            DNSSEC2MQTT_KNOT_DBUS",
    })
    void environmentNames(String key, String envName) {
        assertEquals(envName, ConfigLoader.KEYS.stream()
                .filter(k -> k.name().equals(key)).findFirst().orElseThrow().envName());
    }

    @Test
    void homeAssistantFromFileAndEnvironment() throws Exception {
        Config c = load("homeassistant.enabled = true\nhomeassistant.prefix = from-file\n",
                Map.of("DNSSEC2MQTT_HOMEASSISTANT_PREFIX", "ha"));
        assertTrue(c.homeassistantEnabled());
        assertEquals("ha", c.homeassistantPrefix());
        assertTrue(load("", Map.of("DNSSEC2MQTT_HOMEASSISTANT_ENABLED", "TRUE")).homeassistantEnabled());
        assertEquals(List.of("homeassistant.enabled: expected true or false; got 'yes'",
                "homeassistant.prefix: must not contain the wildcards '+' or '#' (is 'ha/#')"),
                problems("homeassistant.enabled = yes\nhomeassistant.prefix = ha/#\n", Map.of()));
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        Config c = load("mqtt.topic-prefix = from-file\ndns.transport = tcp\nmqtt.client-id = from-file\n", Map.of(
                "DNSSEC2MQTT_MQTT_TOPIC_PREFIX", "from-env",
                "DNSSEC2MQTT_DNS_TRANSPORT", "UDP",
                "DNSSEC2MQTT_NOTIFY_LISTEN", "127.0.0.1:0, [::1]:0",
                "DNSSEC2MQTT_POLL_FULL_INTERVAL", "0",
                "DNSSEC2MQTT_ZONES_EXAMPLE_ORG_SERVERS", "192.0.2.1", // ignored with a warning: file only
                "PATH", "/usr/bin"));
        assertEquals("from-env", c.mqttTopicPrefix());
        assertFalse(c.dnsTcp());
        assertEquals("from-file", c.mqttClientId());
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("::1", 0)), c.notifyListen());
        assertEquals(Duration.ZERO, c.pollFullInterval());
        assertEquals(Map.of(), c.zones());
    }

    @Test
    void emptyValueMeansUnsetInFileAndEnvironment() throws Exception {
        Config c = load("mqtt.url = tcp://broker.example:1883\nmqtt.client-id =\ndns.timeout =   \n",
                Map.of("DNSSEC2MQTT_MQTT_URL", ""));
        assertNull(c.mqttUrl(), "an empty environment value unsets the file's value: embedded broker");
        assertEquals("dnssec2mqtt", c.mqttClientId());
        assertEquals(Duration.ofSeconds(5), c.dnsTimeout());
    }

    @Test
    void validValuesAreParsed() throws Exception {
        Path ca = write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
        Config c = load("""
                notify.listen = 0.0.0.0:53, [::]:5300
                notify.allow = 192.0.2.0/24, 2001:db8::/32
                dns.query-port = 5353
                dns.servers = ns1.example.org, 192.0.2.53:5300, [2001:db8::53]:53
                dns.timeout = 30s
                dns.transport = tcp
                poll.full-interval = 2d
                mqtt.url = ssl://broker.example:8883
                mqtt.username = bridge
                mqtt.password = s3cret
                mqtt.ca-file = %s
                mqtt.client-id = dnssec2mqtt-1
                mqtt.embedded.listen = [::1]:0
                mqtt.topic-prefix = site/dnssec
                data.dir = /var/lib/dnssec2mqtt
                keylog.file = keys.log
                """.formatted(ca), Map.of());
        assertEquals(List.of(new InetSocketAddress("0.0.0.0", 53), new InetSocketAddress("::", 5300)), c.notifyListen());
        assertEquals(List.of(Cidr.parse("192.0.2.0/24"), Cidr.parse("2001:db8::/32")), c.notifyAllow());
        assertEquals(5353, c.dnsQueryPort());
        assertEquals(List.of(new HostPort("ns1.example.org", 53), new HostPort("192.0.2.53", 5300),
                new HostPort("2001:db8::53", 53)), c.dnsServers());
        assertEquals(Duration.ofSeconds(30), c.dnsTimeout());
        assertTrue(c.dnsTcp());
        assertEquals(Duration.ofDays(2), c.pollFullInterval());
        assertEquals("ssl://broker.example:8883", c.mqttUrl());
        assertEquals("bridge", c.mqttUsername());
        assertEquals("s3cret", c.mqttPassword());
        assertEquals(ca, c.mqttCaFile());
        assertEquals("dnssec2mqtt-1", c.mqttClientId());
        assertEquals(new InetSocketAddress("::1", 0), c.mqttEmbeddedListen());
        assertEquals("site/dnssec", c.mqttTopicPrefix());
        assertEquals(Path.of("/var/lib/dnssec2mqtt"), c.dataDir());
        assertEquals(Path.of("keys.log"), c.keylogFile());
    }

    /** Off unless set; a bare port is loopback (127.0.0.1), an address binds exactly that address. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        9204             | 127.0.0.1 | 9204
        127.0.0.1:9204   | 127.0.0.1 | 9204
        192.0.2.7:9100   | 192.0.2.7 | 9100
        [::1]:9204       | ::1       | 9204
        """)
    void metricsListen(String value, String host, int port) throws Exception {
        assertEquals(null, load("", Map.of()).metricsListen(), "off by default");
        assertEquals(new InetSocketAddress(host, port), load("metrics.listen = " + value + "\n", Map.of()).metricsListen());
        assertEquals(new InetSocketAddress(host, port),
                load("", Map.of("DNSSEC2MQTT_METRICS_LISTEN", value)).metricsListen());
        assertEquals(null, load("metrics.listen = " + value + "\n", Map.of("DNSSEC2MQTT_METRICS_LISTEN", ""))
                .metricsListen(), "an empty environment value unsets it");
    }

    @ParameterizedTest
    @CsvSource({"tcp://127.0.0.1:1883", "ssl://broker.example:8883", "tcp://[::1]:1883"})
    void acceptsMqttUrls(String url) throws Exception {
        assertEquals(url, load("mqtt.url = " + url + "\n", Map.of()).mqttUrl());
    }

    @Test
    void knotDbusIsOffByDefaultAndTakesSystemOrAUnixAddress() throws Exception {
        assertEquals(null, load("", Map.of()).knotDbus());
        assertEquals(null, load("knot.dbus = OFF\n", Map.of()).knotDbus());
        assertEquals("system", load("knot.dbus = system\n", Map.of()).knotDbus());
        assertEquals("unix:path=/run/dbus/system_bus_socket",
                load("", Map.of("DNSSEC2MQTT_KNOT_DBUS", "unix:path=/run/dbus/system_bus_socket")).knotDbus());
        assertEquals("unix:abstract=/tmp/dbus-x,guid=0123abcd", load("knot.dbus = unix:abstract=/tmp/dbus-x,guid=0123abcd\n", Map.of()).knotDbus());
    }

    @Test
    void rolloverMarginDefaultsToAnHourAndMayBeZero() throws Exception {
        assertEquals(java.time.Duration.ofHours(1), load("", Map.of()).rolloverMargin());
        assertEquals(java.time.Duration.ofMinutes(5), load("", Map.of("DNSSEC2MQTT_ROLLOVER_MARGIN", "5m")).rolloverMargin());
        assertEquals(java.time.Duration.ZERO, load("rollover.margin = 0\n", Map.of()).rolloverMargin());
    }

    @Test
    void passwordFileContentIsTrimmed() throws Exception {
        Path pw = write("password", "  s3cret \n");
        assertEquals("s3cret", load("mqtt.password-file = " + pw + "\n", Map.of()).mqttPassword());
    }

    @Test
    void passwordAndPasswordFileTogetherIsAProblem() throws Exception {
        Path pw = write("password", "hunter2\n");
        assertEquals(List.of("mqtt.password: set either mqtt.password or mqtt.password-file, not both"),
                problems("mqtt.password = hunter2\nmqtt.password-file = " + pw + "\n", Map.of()));
    }

    @Test
    void emptyPasswordFileIsAProblem() throws Exception {
        Path pw = write("password", " \n");
        assertEquals(List.of("mqtt.password-file: '" + pw + "' is empty"),
                problems("mqtt.password-file = " + pw + "\n", Map.of()));
    }

    @Test
    void secretsNeverAppearInProblems() throws Exception {
        Path keys = write("tsig.key", "key \"k\" { algorithm hmac-sha256; secret \"hunter2!\"; };\n");
        Path pw = write("password", "hunter2\n");
        List<String> problems = problems("""
                mqtt.url = ssl://bridge:hunter2@broker.example:8883
                mqtt.password = hunter2
                mqtt.password-file = %s
                tsig.keyfile = %s
                """.formatted(pw, keys), Map.of());
        assertEquals(3, problems.size(), problems.toString());
        problems.forEach(p -> assertFalse(p.contains("hunter2"), "secret leaked: " + p));
    }

    @Test
    void tsigKeyFileProblemsCarryPathAndLine() throws Exception {
        Path keys = write("tsig.key", "key \"k\" {\n algorithm hmac-sha3;\n secret \"AAAA\";\n};\n");
        assertEquals(List.of("tsig.keyfile: " + keys + ":2: key \"k\": unknown algorithm 'hmac-sha3';"
                        + " use one of hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512"),
                problems("tsig.keyfile = " + keys + "\n", Map.of()));
    }

    @Test
    void tsigKeyFileWithoutKeysIsAProblem() throws Exception {
        Path keys = write("tsig.key", "# nothing yet\n");
        assertEquals(List.of("tsig.keyfile: '" + keys + "' holds no key blocks; write one with tsig-keygen"),
                problems("tsig.keyfile = " + keys + "\n", Map.of()));
    }

    @Test
    void requireTsigWithKeys() throws Exception {
        Path keys = write("tsig.key", KEYS);
        Config c = load("tsig.keyfile = " + keys + "\n", Map.of("DNSSEC2MQTT_NOTIFY_REQUIRE_TSIG", "TRUE"));
        assertTrue(c.notifyRequireTsig());
        assertEquals(keys, c.tsigKeyfile());
        assertNotNull(c.tsigKeys().get(Name.fromString("notify-key.")));
    }

    @Test
    void zonesAreParsedBySuffixAndLowerCased() throws Exception {
        Path keys = write("tsig.key", KEYS);
        Config c = load("""
                tsig.keyfile = %s
                dns.servers = 192.0.2.53
                zones.Example.ORG.servers = ns1.example.org, [2001:db8::1]:5300
                zones.example.org.tsig-key = Notify-Key
                zones.0/25.2.0.192.in-addr.arpa.tsig-key = notify-key.
                zones.example.net.servers =
                zones.example.net.use-ns = true
                """.formatted(keys), Map.of());
        Name org = Name.fromString("example.org.");
        Name classless = Name.fromString("0/25.2.0.192.in-addr.arpa.");
        Name net = Name.fromString("example.net.");
        Name key = Name.fromString("notify-key.");
        assertEquals(List.of(classless, org, net).stream().sorted().toList(), List.copyOf(c.zones().keySet()));
        assertEquals(new ZoneConfig(org, List.of(new HostPort("ns1.example.org", 53), new HostPort("2001:db8::1", 5300)),
                key, false), c.zones().get(org));
        assertEquals("example.org.", c.zones().get(org).zone().toString(), "lower-cased");
        assertEquals(new ZoneConfig(classless, List.of(new HostPort("192.0.2.53", 53)), key, false), c.zones().get(classless));
        assertEquals(new ZoneConfig(net, List.of(new HostPort("192.0.2.53", 53)), null, true), c.zones().get(net));
    }

    /** Fault 3: a space where a comma was meant is a separator, not part of one broken host. */
    @Test
    void listsTakeCommasWhitespaceOrBoth() throws Exception {
        Config c = load("""
                notify.listen = 127.0.0.1:0 [::1]:0
                notify.allow = 10.0.0.0/8 192.0.2.1,2001:db8::/32 ,\t::1
                dns.servers = ns1.example.org ns2.example.org:5300,\t[2001:db8::53]:53
                zones.x.servers = 127.0.0.1:5301 127.0.0.1:5302
                zones.y.servers = 127.0.0.1:5301,127.0.0.1:5302
                """, Map.of());
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("::1", 0)), c.notifyListen());
        assertEquals(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("192.0.2.1"), Cidr.parse("2001:db8::/32"),
                Cidr.parse("::1")), c.notifyAllow());
        assertEquals(List.of(new HostPort("ns1.example.org", 53), new HostPort("ns2.example.org", 5300),
                new HostPort("2001:db8::53", 53)), c.dnsServers());
        List<HostPort> two = List.of(new HostPort("127.0.0.1", 5301), new HostPort("127.0.0.1", 5302));
        assertEquals(two, c.zones().get(Name.fromString("x.")).servers());
        assertEquals(two, c.zones().get(Name.fromString("y.")).servers());
        // the environment form of a list, too
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.2", 0)),
                load("", Map.of("DNSSEC2MQTT_NOTIFY_LISTEN", "127.0.0.1:0  127.0.0.2:0")).notifyListen());
    }

    /** Every bad entry of a list is named, each once, under its key; the good ones do not hide them. */
    @Test
    void everyIllegalHostInAListIsNamed() throws Exception {
        assertEquals(List.of(
                "zones.x.servers: 'ns;1' is not a host[:port]: ';' is not allowed in a host name"
                        + " (letters, digits, '-' and '.'; IPv6 as [address]:port)",
                "zones.x.servers: '999.1.1.1:53' is not a host[:port]: '999.1.1.1' is not an IPv4 address"),
                problems("zones.x.servers = 127.0.0.1:5301 ns;1, 999.1.1.1:53\n", Map.of()));
    }

    @Test
    void zoneTsigKeyMustBeInTheKeyFile() throws Exception {
        Path keys = write("tsig.key", KEYS);
        assertEquals(List.of("zones.example.org.tsig-key: key 'other' is not in " + keys + " (it has notify-key.)"),
                problems("tsig.keyfile = " + keys + "\nzones.example.org.servers = ns1\n"
                        + "zones.example.org.tsig-key = other\n", Map.of()));
        assertEquals(List.of("zones.example.org.tsig-key: key 'notify-key' not found: tsig.keyfile is not set"),
                problems("zones.example.org.servers = ns1\nzones.example.org.tsig-key = notify-key\n", Map.of()));
    }

    @Test
    void sameZoneTwiceIsAProblem() throws Exception {
        assertEquals(List.of("zones.example.org.servers: same zone and setting as zones.Example.org.servers; keep one"),
                problems("zones.Example.org.servers = ns1\nzones.example.org.servers = ns2\n", Map.of()));
    }

    @Test
    void zoneWithoutServersNeedsDnsServers() throws Exception {
        assertEquals(List.of("zones.example.org.servers: no server to ask for example.org.; set it or dns.servers"),
                problems("zones.example.org.tsig-key =\n", Map.of()));
    }

    @Test
    void aClusterNodeKeepsAShortKeepaliveAndANameByDefault() throws Exception {
        Config single = ConfigLoader.load(null, Map.of());
        assertEquals(java.time.Duration.ofSeconds(30), single.mqttKeepalive());
        assertTrue(!single.clusterEnabled());
        Config node = ConfigLoader.load(null, Map.of("DNSSEC2MQTT_CLUSTER_ENABLED", "true",
                "DNSSEC2MQTT_MQTT_URL", "tcp://127.0.0.1:1883"));
        assertEquals(java.time.Duration.ofSeconds(10), node.mqttKeepalive(), "death seen within 15 s");
        assertTrue(node.clusterNode().matches("[A-Za-z0-9._-]{1,64}"), node.clusterNode());
        Config named = ConfigLoader.load(null, Map.of("DNSSEC2MQTT_CLUSTER_ENABLED", "true",
                "DNSSEC2MQTT_MQTT_URL", "tcp://127.0.0.1:1883", "DNSSEC2MQTT_CLUSTER_NODE", "b",
                "DNSSEC2MQTT_MQTT_KEEPALIVE", "2s"));
        assertEquals("b", named.clusterNode());
        assertEquals(java.time.Duration.ofSeconds(2), named.mqttKeepalive());
    }
}
