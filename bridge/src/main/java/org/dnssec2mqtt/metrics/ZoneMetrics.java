package org.dnssec2mqtt.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneState;

/**
 * Per-zone metrics, computed at each scrape from the zones' current states: no copy of them is
 * kept, so they cannot drift from the state topic, and a forgotten zone's series end with it.
 * A value that is not known (no signatures yet, parent DS not asked) is absent, not 0, as the
 * DNSSEC exporter does for a record without RRSIG.
 */
final class ZoneMetrics implements MultiCollector {
    static final String ZONES = "dnssec2mqtt_zones";
    static final String STATUS = "dnssec2mqtt_zone_status";
    static final String KEYS = "dnssec2mqtt_zone_keys";
    static final String RRSIG_SECONDS = "dnssec2mqtt_zone_rrsig_expires_in_seconds";
    static final String SERIAL = "dnssec2mqtt_zone_serial";
    static final String LAST_CHECK = "dnssec2mqtt_zone_last_check_timestamp_seconds";
    static final String LAST_CHECK_OK = "dnssec2mqtt_zone_last_check_success";
    static final String PARENT_DS = "dnssec2mqtt_zone_parent_ds_records";
    static final String KEYS_WITH_DS = "dnssec2mqtt_zone_sep_keys_with_parent_ds";
    static final String SERVERS = "dnssec2mqtt_zone_servers";
    static final String SERVERS_LAGGING = "dnssec2mqtt_zone_servers_lagging";
    /**
     * The name, labels and unit (days, fractional) of github.com/chrj/prometheus-dnssec-exporter,
     * port 9204, so its alert rules work unchanged: {@code zone} without the trailing dot,
     * {@code record} the owner relative to the zone ({@code @}: both RRsets are at the apex),
     * {@code type} the covered RRset type; the earliest expiry over the RRSIGs covering it.
     */
    static final String DAYS_LEFT = "dnssec_zone_record_days_left";

    static final List<String> STATUSES = List.of("ok", "warning", "error");
    private static final double SECONDS_PER_DAY = 86_400;

    private final Supplier<? extends Collection<ZoneState>> zones;
    private final Clock clock;

    ZoneMetrics(Supplier<? extends Collection<ZoneState>> zones, Clock clock) {
        this.zones = zones;
        this.clock = clock;
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of(ZONES, STATUS, KEYS, RRSIG_SECONDS, SERIAL, LAST_CHECK, LAST_CHECK_OK, PARENT_DS,
                KEYS_WITH_DS, SERVERS, SERVERS_LAGGING, DAYS_LEFT);
    }

    @Override
    public MetricSnapshots collect() {
        Collection<ZoneState> states = zones.get();
        Instant now = clock.instant();
        Gauge count = new Gauge(ZONES, "Zones the bridge knows (configured and learned)", null);
        Gauge status = new Gauge(STATUS, "1 for the zone's current status (ok, warning, error), 0 for the others", null);
        Gauge keys = new Gauge(KEYS, "DNSKEYs of the zone by role (ksk, zsk, csk) and state (active, standby, revoked)", null);
        Gauge rrsig = new Gauge(RRSIG_SECONDS,
                "Seconds until the earliest RRSIG over the DNSKEY and SOA RRsets expires; negative once expired",
                Unit.SECONDS);
        Gauge serial = new Gauge(SERIAL, "SOA serial of the last successful full check; absent before the first answer", null);
        Gauge lastCheck = new Gauge(LAST_CHECK, "When the latest check of the zone ended, successful or not", Unit.SECONDS);
        Gauge lastCheckOk = new Gauge(LAST_CHECK_OK, "1 when a server answered the latest check, 0 when none did", null);
        Gauge parentDs = new Gauge(PARENT_DS, "DS records the parent side serves for the zone; absent when not asked", null);
        Gauge keysWithDs = new Gauge(KEYS_WITH_DS,
                "SEP keys (KSK, CSK) that a DS at the parent points at; absent when not known", null);
        Gauge servers = new Gauge(SERVERS, "Servers asked in the latest check", null);
        Gauge lagging = new Gauge(SERVERS_LAGGING,
                "Servers whose serial is behind the highest seen, or whose DNSKEY RRset differs", null);
        Gauge daysLeft = new Gauge(DAYS_LEFT, "Number of days the signature will be valid", null);

        count.add(states.size(), Labels.EMPTY);
        for (ZoneState s : states) {
            String zone = s.zone();
            for (String st : STATUSES) {
                status.add(st.equals(s.status()) ? 1 : 0, Labels.of("zone", zone, "status", st));
            }
            int[][] byRoleAndState = new int[KeyInfo.Role.values().length][KeyInfo.KeyState.values().length];
            for (KeyInfo k : s.keys()) {
                byRoleAndState[k.role().ordinal()][k.state().ordinal()]++;
            }
            // every combination, zeros included, so "no active KSK" is a plain comparison
            for (KeyInfo.Role role : KeyInfo.Role.values()) {
                for (KeyInfo.KeyState state : KeyInfo.KeyState.values()) {
                    keys.add(byRoleAndState[role.ordinal()][state.ordinal()], Labels.of("zone", zone,
                            "role", role.name().toLowerCase(Locale.ROOT), "state", state.label()));
                }
            }
            Labels z = Labels.of("zone", zone);
            if (s.rrsigExpires() != null) {
                rrsig.add(secondsUntil(now, s.rrsigExpires()), z);
            }
            if (s.validation() != null) { // null: no answer yet, so no serial either
                serial.add(s.serial(), z);
            }
            if (s.checkedAt() != null) {
                lastCheck.add(s.checkedAt().toEpochMilli() / 1000.0, z);
            }
            lastCheckOk.add(s.reachable() ? 1 : 0, z);
            if (s.parentDs() != null) {
                parentDs.add(s.parentDs().size(), z);
            }
            List<KeyInfo> known = s.keys().stream().filter(k -> k.sep() && k.dsAtParent() != null).toList();
            if (!known.isEmpty()) {
                keysWithDs.add(known.stream().filter(KeyInfo::dsAtParent).count(), z);
            }
            servers.add(s.servers().size(), z);
            lagging.add(s.servers().stream().filter(ServerState::lagging).count(), z);
            if (s.dnskeyRrsigExpires() != null) {
                daysLeft.add(secondsUntil(now, s.dnskeyRrsigExpires()) / SECONDS_PER_DAY,
                        Labels.of("zone", zone, "record", "@", "type", "DNSKEY"));
            }
            if (s.soaRrsigExpires() != null) {
                daysLeft.add(secondsUntil(now, s.soaRrsigExpires()) / SECONDS_PER_DAY,
                        Labels.of("zone", zone, "record", "@", "type", "SOA"));
            }
        }
        List<MetricSnapshot> out = new ArrayList<>();
        for (Gauge g : List.of(count, status, keys, rrsig, serial, lastCheck, lastCheckOk, parentDs, keysWithDs,
                servers, lagging, daysLeft)) {
            out.add(g.build());
        }
        return new MetricSnapshots(out);
    }

    private static double secondsUntil(Instant now, Instant then) {
        return Duration.between(now, then).toMillis() / 1000.0;
    }

    /** One gauge's data points, gathered over the zones. */
    private static final class Gauge {
        private final GaugeSnapshot.Builder builder;

        Gauge(String name, String help, Unit unit) {
            builder = GaugeSnapshot.builder().name(name).help(help);
            if (unit != null) {
                builder.unit(unit);
            }
        }

        void add(double value, Labels labels) {
            builder.dataPoint(GaugeDataPointSnapshot.builder().value(value).labels(labels).build());
        }

        MetricSnapshot build() {
            return builder.build();
        }
    }
}
