package org.dnssec2mqtt.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.ConfigLoader;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.Peers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics server as the bridge starts it from {@code metrics.listen}: a live scrape over
 * HTTP, checked by {@code promtool check metrics} (Debian's {@code prometheus} package), and
 * bound to the configured address only.
 */
@Timeout(60)
class MetricsServerIT {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void zone() throws Exception {
        MetricsTest.signedZoneEvaluated();
    }

    static Config config(String listen) throws Exception {
        return ConfigLoader.load(null, Map.of("DNSSEC2MQTT_METRICS_LISTEN", listen));
    }

    static HttpResponse<String> get(InetSocketAddress at, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + MetricsServer.text(at) + path))
                .timeout(Duration.ofSeconds(10)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void liveScrapePassesPromtoolAndShowsTheZone(@TempDir Path dir) throws Exception {
        Path promtool = Peers.require("promtool");
        int port = FreePorts.tcp();
        try (Metrics m = Metrics.start(config("127.0.0.1:" + port), "1.2.3", () -> List.of(MetricsTest.state))) {
            m.countNotify(Metrics.NotifyResult.ACCEPTED);
            m.countCheck(Metrics.CheckCause.NOTIFY, Metrics.CheckResult.CHANGED, Duration.ofMillis(12));
            m.registerQueue("checks", () -> 2);
            assertEquals(new InetSocketAddress("127.0.0.1", port), m.server().address());

            HttpResponse<String> r = get(m.server().address(), "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    r.headers().toString());
            Map<String, Double> v = MetricsTest.parse(r.body());
            assertEquals(1.0, v.get("dnssec2mqtt_notifies_total{result=\"accepted\"}"));
            assertEquals(1.0, v.get("dnssec2mqtt_zone_status{status=\"warning\",zone=\"metrics.test\"}"));
            assertEquals((double) MetricsTest.state.serial(), v.get("dnssec2mqtt_zone_serial{zone=\"metrics.test\"}"));
            assertTrue(v.containsKey("dnssec_zone_record_days_left{record=\"@\",type=\"SOA\",zone=\"metrics.test\"}"),
                    r.body());

            // Everything of ours passes promtool's lint without a word ...
            String ours = r.body().lines().filter(l -> !l.contains(ZoneMetrics.DAYS_LEFT))
                    .map(l -> l + "\n").reduce("", String::concat);
            assertEquals(new Promtool(0, ""), promtool(promtool, dir, ours), ours);
            // ... and the whole scrape has exactly one lint problem: the DNSSEC exporter's name,
            // kept as it is so that alert rules written for that exporter work unchanged.
            assertEquals(new Promtool(3, ZoneMetrics.DAYS_LEFT + " use base unit \"seconds\" instead of \"days\""),
                    promtool(promtool, dir, r.body()), r.body());
        }
    }

    /** The scrape config and alert rules in docs/metrics.md are what Prometheus accepts. */
    @Test
    void theDocumentedScrapeConfigAndRulesAreValid(@TempDir Path dir) throws Exception {
        Path promtool = Peers.require("promtool");
        List<String> yaml = yamlBlocks(Files.readString(Path.of("docs/metrics.md")));
        assertEquals(2, yaml.size(), "a scrape config and a rule file");
        Path config = Files.writeString(dir.resolve("prometheus.yml"), yaml.get(0));
        Path rules = Files.writeString(dir.resolve("dnssec.rules.yml"), yaml.get(1));
        assertEquals(0, run(null, promtool.toString(), "check", "config", config.toString()).exit());
        Promtool checked = run(null, promtool.toString(), "check", "rules", rules.toString());
        assertEquals(0, checked.exit(), checked.said());
        assertTrue(checked.said().contains("SUCCESS: 7 rules found"), checked.said());
    }

    static List<String> yamlBlocks(String markdown) {
        List<String> blocks = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?ms)^```yaml\n(.*?)^```$").matcher(markdown);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    /** Runs {@code command} with {@code stdin} (null: none) and returns its exit code and output. */
    static Promtool run(Path stdin, String... command) throws Exception {
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
        b.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))
                : ProcessBuilder.Redirect.from(stdin.toFile()));
        Process p = b.start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        return new Promtool(p.exitValue(), said.strip());
    }

    record Promtool(int exit, String said) {}

    /** {@code promtool check metrics} on {@code scrape}: its exit code and what it printed. */
    static Promtool promtool(Path promtool, Path dir, String scrape) throws Exception {
        Path in = Files.writeString(Files.createTempFile(dir, "scrape", ".txt"), scrape);
        return run(in, promtool.toString(), "check", "metrics");
    }

    /**
     * A scraper that prefers protobuf (Prometheus with native histograms) gets protobuf: leaving
     * prometheus-metrics-exposition-formats out of the jar to save its 2.4 MB makes these scrapes
     * fail with 500.
     */
    @Test
    void aProtobufScraperIsServed() throws Exception {
        try (Metrics m = Metrics.start(config("127.0.0.1:" + FreePorts.tcp()), "1.2.3", List::of)) {
            HttpRequest request = HttpRequest.newBuilder(
                            URI.create("http://" + MetricsServer.text(m.server().address()) + "/metrics"))
                    .header("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                            + "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")
                    .timeout(Duration.ofSeconds(10)).build();
            HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/vnd.google.protobuf"),
                    r.headers().toString());
            assertTrue(new String(r.body(), StandardCharsets.ISO_8859_1).contains("dnssec2mqtt_build_info"));
        }
    }

    @Test
    void aBarePortMeansLoopbackAndNothingElseListens() throws Exception {
        int port = FreePorts.tcp();
        try (Metrics m = Metrics.start(config(String.valueOf(port)), "1.2.3", List::of)) {
            assertEquals(new InetSocketAddress("127.0.0.1", port), m.server().address());
            assertEquals(200, get(m.server().address(), "/metrics").statusCode());
            // 127.0.0.2 is loopback too, but not the address asked for
            try (Socket s = new Socket()) {
                assertThrows(ConnectException.class, () -> s.connect(new InetSocketAddress("127.0.0.2", port), 5000));
            }
        }
        // stopped: the port is free again
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress("127.0.0.1", port));
        }
    }

    @Test
    void aTakenPortIsAClearStartError() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = taken.getLocalPort();
            IOException e = assertThrows(IOException.class,
                    () -> Metrics.start(config("127.0.0.1:" + port), "1.2.3", List::of));
            assertEquals("metrics.listen 127.0.0.1:" + port + ": cannot listen: address already in use or not on"
                    + " this machine", e.getMessage());
        }
    }

    @Test
    void unsetMeansNoServer() throws Exception {
        try (Metrics m = Metrics.start(ConfigLoader.load(null, Map.of()), "1.2.3", List::of)) {
            assertEquals(null, m.server());
        }
    }
}
