package org.dnssec2mqtt.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.dnssec2mqtt.Main;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/** The running bridge's /metrics after one NOTIFY of a zone whose keys are known. */
@Timeout(60)
class MetricsBridgeIT {
    static final Name ZONE = Name.fromConstantString("scraped.test.");

    @TempDir
    Path dir;

    @Test
    void aScrapeShowsTheNotifyTheCheckAndTheZone() throws Exception {
        int mqttPort = FreePorts.tcp();
        int metricsPort = FreePorts.tcp();
        try (AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start()) {
            DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
            auth.add(zone);
            zone.addKey(true, true);
            zone.addKey(false, true);
            zone.addKey(false, false); // a stand-by ZSK
            Main.Running bridge = Main.start(TestConfig.load(dir, """
                    notify.listen = 127.0.0.1:0
                    dns.query-port = %d
                    mqtt.embedded.listen = 127.0.0.1:%d
                    metrics.listen = %d
                    data.dir = %s
                    """.formatted(auth.port(), mqttPort, metricsPort, dir.resolve("data"))), Clock.systemUTC());
            try (MqttRecorder mqtt = new MqttRecorder("tcp://127.0.0.1:" + mqttPort, "dnssec/scraped.test/#")) {
                assertEquals(Rcode.NOERROR, auth.notify(ZONE, bridge.listener.udpAddresses().get(0), 3));
                mqtt.await(m -> m.payload().contains("\"event\":\"zone_added\""), Duration.ofSeconds(10));
                mqtt.await("dnssec/scraped.test/state", Duration.ofSeconds(10));
                String text = scrape(metricsPort);
                assertTrue(text.contains("dnssec2mqtt_notifies_total{result=\"accepted\"} 1.0"), text);
                assertTrue(text.contains("dnssec2mqtt_check_duration_seconds_count{cause=\"notify\",result=\"changed\"} 1"), text);
                assertTrue(text.contains("dnssec2mqtt_mqtt_connected 1.0"), text);
                assertTrue(text.contains("dnssec2mqtt_zones_learned_total 1.0"), text);
                assertTrue(text.contains("dnssec2mqtt_dns_queries_total{type=\"DNSKEY\"} 1.0"), text);
                assertTrue(text.lines().anyMatch(l -> l.startsWith("dnssec_zone_record_days_left{")
                        && l.contains("type=\"DNSKEY\"") && l.contains("zone=\"scraped.test\"")), text);
                assertTrue(text.contains("dnssec2mqtt_zone_keys{role=\"zsk\",state=\"standby\",zone=\"scraped.test\"} 1.0"), text);
                assertTrue(text.contains("dnssec2mqtt_zone_keys{role=\"ksk\",state=\"active\",zone=\"scraped.test\"} 1.0"), text);
            } finally {
                bridge.close();
            }
        }
    }

    static String scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }
}
