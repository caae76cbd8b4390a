package org.dnssec2mqtt.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;

/**
 * Metric values against a zone whose state is known: a really signed zone (KSK, ZSK, stand-by
 * ZSK) evaluated by {@link ZoneEvaluator}, with its DNSKEY RRset signed two days before its SOA,
 * a DS for the KSK at the parent, and one of its two servers a serial behind.
 */
class MetricsTest {
    static final Name ZONE = Name.fromConstantString("metrics.test.");
    /** DNSKEY RRset signed here (expires 30 days later) ... */
    static final Instant DNSKEY_SIGNED = Instant.parse("2026-11-22T06:00:00Z");
    /** ... and the SOA two days later. */
    static final Instant SOA_SIGNED = DNSKEY_SIGNED.plus(Duration.ofDays(2));
    static final Instant CHECKED = SOA_SIGNED.plus(Duration.ofHours(1));
    /** The scrape: 12 hours after the check. */
    static final Instant SCRAPED = CHECKED.plus(Duration.ofHours(12));

    static ZoneSnapshot answer;
    static ZoneState state;

    /** A clock the test moves, so DemoZone signs the two RRsets at different times. */
    static final class MovableClock extends Clock {
        Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @BeforeAll
    static void signedZoneEvaluated() throws Exception {
        MovableClock clock = new MovableClock(DNSKEY_SIGNED);
        DemoZone zone = new DemoZone(ZONE, 2026112200, clock);
        DemoZone.Key ksk = zone.addKey(true, true);
        DemoZone.Key zsk = zone.addKey(false, true);
        zone.addKey(false, false); // stand-by ZSK
        DemoZone.Signed first = zone.signed();
        clock.now = SOA_SIGNED;
        zone.activate(zsk); // re-signs everything; only the SOA RRset of this round is used
        DemoZone.Signed second = zone.signed();
        answer = new ZoneSnapshot(ZONE, "127.0.0.1:53", (SOARecord) second.soa().first(),
                first.dnskey().rrs(false).stream().map(r -> (DNSKEYRecord) r).toList(),
                first.dnskey().sigs(), second.soa().sigs(), List.of(), List.of());
        List<ServerState> servers = List.of(
                new ServerState("127.0.0.1:53", second.serial(), "", List.of(), true, false, CHECKED),
                new ServerState("127.0.0.2:53", second.serial() - 1, "", List.of(), true, true, CHECKED));
        DSRecord ds = new DSRecord(ZONE, DClass.IN, 3600, DNSSEC.Digest.SHA256, ksk.record());
        ZoneEvaluator.Observation obs = new ZoneEvaluator.Observation(answer, servers,
                new ZoneEvaluator.ParentDs(List.of(ds), true));
        // withRrsigExpires: what the evaluator will set itself once it fills the per-RRset expiries
        state = ZoneEvaluator.full(null, false, obs, ZoneEvaluator.Settings.DEFAULTS, CHECKED).state()
                .withRrsigExpires(answer);
    }

    static Metrics metrics(List<ZoneState> zones) {
        return new Metrics("1.2.3", () -> zones, Clock.fixed(SCRAPED, ZoneOffset.UTC));
    }

    /** The scrape in the Prometheus text format, as {@code name{labels}} to value. */
    static Map<String, Double> scrape(Metrics m) throws IOException {
        return parse(text(m));
    }

    static String text(Metrics m) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, m.registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    static Map<String, Double> parse(String text) {
        Map<String, Double> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return values;
    }

    @Test
    void theStateIsWhatTheTestSaysItIs() {
        // the lagging second server makes it a warning
        assertEquals("warning", state.status());
        assertEquals("server 127.0.0.2:53 serves serial " + (state.serial() - 1) + " (expected " + state.serial() + ")",
                state.problem());
        assertEquals(DNSKEY_SIGNED.plus(Duration.ofDays(30)), state.dnskeyRrsigExpires());
        assertEquals(SOA_SIGNED.plus(Duration.ofDays(30)), state.soaRrsigExpires());
        assertEquals(state.dnskeyRrsigExpires(), state.rrsigExpires(), "the earliest of the two");
    }

    @Test
    void recordDaysLeftAsTheDnssecExporterNamesIt() throws IOException {
        Map<String, Double> v = scrape(metrics(List.of(state)));
        // DNSKEY: signed 2 days + 1 h + 12 h before the scrape, valid 30 days
        assertEquals(30 - 2 - 13 / 24.0,
                v.get("dnssec_zone_record_days_left{record=\"@\",type=\"DNSKEY\",zone=\"metrics.test\"}"), 1e-9);
        assertEquals(30 - 13 / 24.0,
                v.get("dnssec_zone_record_days_left{record=\"@\",type=\"SOA\",zone=\"metrics.test\"}"), 1e-9);
        assertEquals((30 - 2) * 86400.0 - 13 * 3600,
                v.get("dnssec2mqtt_zone_rrsig_expires_in_seconds{zone=\"metrics.test\"}"), 1e-6);
    }

    @Test
    void zoneValuesMatchItsState() throws IOException {
        Map<String, Double> v = scrape(metrics(List.of(state)));
        String z = "zone=\"metrics.test\"";
        assertEquals(1.0, v.get("dnssec2mqtt_zones"));
        assertEquals(0.0, v.get("dnssec2mqtt_zone_status{status=\"ok\"," + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_status{status=\"warning\"," + z + "}"));
        assertEquals(0.0, v.get("dnssec2mqtt_zone_status{status=\"error\"," + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_keys{role=\"ksk\",state=\"active\"," + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_keys{role=\"zsk\",state=\"active\"," + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_keys{role=\"zsk\",state=\"standby\"," + z + "}"));
        assertEquals(0.0, v.get("dnssec2mqtt_zone_keys{role=\"ksk\",state=\"revoked\"," + z + "}"));
        assertEquals(0.0, v.get("dnssec2mqtt_zone_keys{role=\"csk\",state=\"active\"," + z + "}"));
        assertEquals((double) state.serial(), v.get("dnssec2mqtt_zone_serial{" + z + "}"));
        assertEquals(CHECKED.getEpochSecond(), v.get("dnssec2mqtt_zone_last_check_timestamp_seconds{" + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_last_check_success{" + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_parent_ds_records{" + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_sep_keys_with_parent_ds{" + z + "}"));
        assertEquals(2.0, v.get("dnssec2mqtt_zone_servers{" + z + "}"));
        assertEquals(1.0, v.get("dnssec2mqtt_zone_servers_lagging{" + z + "}"));
    }

    @Test
    void aZoneThatNeverAnsweredHasNoExpiryButAnErrorStatus() throws IOException {
        ZoneState never = ZoneState.neverSeen("never.test", "127.0.0.1:53", CHECKED, "timeout");
        Map<String, Double> v = scrape(metrics(List.of(never)));
        String z = "zone=\"never.test\"";
        assertEquals(1.0, v.get("dnssec2mqtt_zone_status{status=\"error\"," + z + "}"));
        assertEquals(0.0, v.get("dnssec2mqtt_zone_last_check_success{" + z + "}"));
        assertEquals(0.0, v.get("dnssec2mqtt_zone_keys{role=\"ksk\",state=\"active\"," + z + "}"));
        List<String> absent = new ArrayList<>();
        for (String name : v.keySet()) {
            if (name.startsWith("dnssec_zone_record_days_left") || name.startsWith("dnssec2mqtt_zone_rrsig")
                    || name.startsWith("dnssec2mqtt_zone_serial")
                    || name.startsWith("dnssec2mqtt_zone_parent_ds") || name.startsWith("dnssec2mqtt_zone_sep_keys")) {
                absent.add(name);
            }
        }
        assertEquals(List.of(), absent, "not measured, so not reported");
    }

    @Test
    void aForgottenZoneLeavesTheScrape() throws IOException {
        List<ZoneState> zones = new ArrayList<>(List.of(state));
        Metrics m = new Metrics("1.2.3", () -> List.copyOf(zones), Clock.fixed(SCRAPED, ZoneOffset.UTC));
        assertEquals(2.0, scrape(m).get("dnssec2mqtt_zone_servers{zone=\"metrics.test\"}"));
        zones.clear();
        Map<String, Double> v = scrape(m);
        assertNull(v.get("dnssec2mqtt_zone_servers{zone=\"metrics.test\"}"));
        assertEquals(0.0, v.get("dnssec2mqtt_zones"));
    }

    @Test
    void bridgeCountersGaugesAndBuildInfo() throws IOException {
        Metrics m = metrics(List.of());
        for (int i = 0; i < 3; i++) {
            m.countNotify(Metrics.NotifyResult.ACCEPTED);
        }
        m.countNotify(Metrics.NotifyResult.REFUSED);
        m.countCheck(Metrics.CheckCause.NOTIFY, Metrics.CheckResult.CHANGED, Duration.ofMillis(3));
        m.countCheck(Metrics.CheckCause.NOTIFY, Metrics.CheckResult.CHANGED, Duration.ofMillis(40));
        m.countCheck(Metrics.CheckCause.SOA_POLL, Metrics.CheckResult.FAILED, Duration.ofSeconds(5));
        m.countQuery(Metrics.Query.DNSKEY);
        m.countQuery(Metrics.Query.SOA);
        m.countQuery(org.xbill.DNS.Type.SOA);
        m.countQuery(org.xbill.DNS.Type.CDNSKEY);
        m.countQuery(org.xbill.DNS.Type.TXT);
        m.setMqttConnected(true);
        m.countPublish();
        m.countZoneLearned();
        m.countZoneForgotten();
        m.countZoneForgotten();
        AtomicInteger depth = new AtomicInteger(7);
        m.registerQueue("checks", depth::get);

        Map<String, Double> v = scrape(m);
        assertEquals(3.0, v.get("dnssec2mqtt_notifies_total{result=\"accepted\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_notifies_total{result=\"refused\"}"));
        assertEquals(0.0, v.get("dnssec2mqtt_notifies_total{result=\"notimp\"}"), "every result from the start");
        String changed = "cause=\"notify\",result=\"changed\"";
        assertEquals(2.0, v.get("dnssec2mqtt_check_duration_seconds_count{" + changed + "}"));
        assertEquals(0.043, v.get("dnssec2mqtt_check_duration_seconds_sum{" + changed + "}"), 1e-9);
        assertEquals(1.0, v.get("dnssec2mqtt_check_duration_seconds_bucket{" + changed + ",le=\"0.005\"}"));
        assertEquals(2.0, v.get("dnssec2mqtt_check_duration_seconds_bucket{" + changed + ",le=\"0.05\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_check_duration_seconds_count{cause=\"soa_poll\",result=\"failed\"}"));
        assertEquals(0.0, v.get("dnssec2mqtt_check_duration_seconds_count{cause=\"startup\",result=\"ok\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_dns_queries_total{type=\"DNSKEY\"}"));
        assertEquals(2.0, v.get("dnssec2mqtt_dns_queries_total{type=\"SOA\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_dns_queries_total{type=\"CDNSKEY\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_dns_queries_total{type=\"OTHER\"}"));
        assertEquals(0.0, v.get("dnssec2mqtt_dns_queries_total{type=\"DS\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_mqtt_connected"));
        assertEquals(1.0, v.get("dnssec2mqtt_mqtt_publishes_total"));
        assertEquals(1.0, v.get("dnssec2mqtt_zones_learned_total"));
        assertEquals(2.0, v.get("dnssec2mqtt_zones_forgotten_total"));
        assertEquals(7.0, v.get("dnssec2mqtt_queue_depth{queue=\"checks\"}"));
        assertEquals(1.0, v.get("dnssec2mqtt_build_info{version=\"1.2.3\"}"));

        depth.set(0);
        m.setMqttConnected(false);
        v = scrape(m);
        assertEquals(0.0, v.get("dnssec2mqtt_queue_depth{queue=\"checks\"}"), "read at scrape time");
        assertEquals(0.0, v.get("dnssec2mqtt_mqtt_connected"));
        assertEquals(null, v.get("dnssec2mqtt_cluster_active{node=\"a\"}"), "no cluster series for a single bridge");
    }

    @Test
    void aClusterNodeSaysWhetherItIsActive() throws IOException {
        Metrics m = metrics(List.of());
        m.setClusterActive("a", false);
        assertEquals(0.0, scrape(m).get("dnssec2mqtt_cluster_active{node=\"a\"}"));
        m.setClusterActive("a", true);
        assertEquals(1.0, scrape(m).get("dnssec2mqtt_cluster_active{node=\"a\"}"));
    }

    @Test
    void withoutAServerNothingListens() {
        Metrics m = metrics(List.of());
        assertNull(m.server());
        m.close();
        m.countNotify(Metrics.NotifyResult.FORMERR); // still fine after close
        assertFalse(m.registry().scrape().stream().toList().isEmpty());
    }
}
