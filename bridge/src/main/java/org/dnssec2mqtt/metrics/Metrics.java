package org.dnssec2mqtt.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.zone.ZoneState;
import org.xbill.DNS.Type;

/**
 * The bridge's Prometheus metrics. The pipeline calls the {@code count...}/{@code set...} methods
 * as things happen; per-zone metrics are computed at scrape time from the zones' states
 * ({@link ZoneMetrics}), so nothing per zone is kept here and a forgotten zone simply disappears.
 *
 * <p>Cheap on the hot path: every label combination is resolved once in the constructor, so a
 * call is an array index and an atomic add, with no map look-up, string building or allocation.
 * Counting works the same whether or not a server is running ({@code metrics.listen} unset): the
 * callers never ask whether metrics are on.
 *
 * <p>Thread-safe. Metric names and meanings: bridge/docs/metrics.md.
 */
public final class Metrics implements AutoCloseable {

    /** What a NOTIFY got back (RFC 1996; the rcode of the reply, or accepted). */
    public enum NotifyResult { ACCEPTED, REFUSED, NOTAUTH, FORMERR, NOTIMP }

    /** Why a check ran. */
    public enum CheckCause { NOTIFY, COMMAND, POLL, SOA_POLL, STARTUP, RETRY, ADOPT, SIGNAL, ROLLOVER, TAKEOVER }

    /**
     * How a check ended: {@code OK} nothing changed, {@code CHANGED} the state or keys changed,
     * {@code FAILED} no server answered.
     */
    public enum CheckResult { OK, CHANGED, FAILED }

    /** The queries the bridge sends, by query type (the label value is the type's mnemonic). */
    public enum Query {
        DNSKEY, SOA, DS, CDS, CDNSKEY, NS, A, AAAA, OTHER;

        /** The member for a dnsjava {@link Type} code; {@code OTHER} for types not listed. */
        public static Query of(int type) {
            return switch (type) {
                case Type.DNSKEY -> DNSKEY;
                case Type.SOA -> SOA;
                case Type.DS -> DS;
                case Type.CDS -> CDS;
                case Type.CDNSKEY -> CDNSKEY;
                case Type.NS -> NS;
                case Type.A -> A;
                case Type.AAAA -> AAAA;
                default -> OTHER;
            };
        }
    }

    /** Check durations: a loopback SOA query takes about a millisecond, a timeout {@code dns.timeout}. */
    static final double[] CHECK_SECONDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final CounterDataPoint[] notifies;
    private final DistributionDataPoint[][] checks;
    private final CounterDataPoint[] queries;
    private final Gauge mqttConnected;
    private final Gauge clusterActive;
    private final Counter publishes;
    private final Counter zonesLearned;
    private final Counter zonesForgotten;
    /** Queue name to its depth, sorted so the scrape output is stable. */
    private final Map<String, IntSupplier> queues = new ConcurrentSkipListMap<>();
    private MetricsServer server;

    /**
     * Registers every metric once.
     *
     * @param version the bridge's version, for {@code dnssec2mqtt_build_info}
     * @param zones the known zones' current states, read at each scrape; must be cheap and safe to
     *     call from the HTTP server's thread (a snapshot copy of the registry's map is right)
     * @param clock for the time-relative zone metrics (days left, seconds until expiry)
     */
    public Metrics(String version, Supplier<? extends Collection<ZoneState>> zones, Clock clock) {
        Counter notifyCounter = counter("dnssec2mqtt_notifies_total",
                "NOTIFY messages received, by the answer they got", "result");
        notifies = new CounterDataPoint[NotifyResult.values().length];
        for (NotifyResult r : NotifyResult.values()) {
            notifies[r.ordinal()] = notifyCounter.labelValues(label(r));
        }

        Histogram checkHistogram = Histogram.builder()
                .name("dnssec2mqtt_check_duration_seconds")
                .help("Zone checks by cause and result, and how long they took (the _count is the number of checks)")
                .unit(Unit.SECONDS)
                .labelNames("cause", "result")
                .classicOnly()
                .classicUpperBounds(CHECK_SECONDS)
                .withoutExemplars()
                .register(registry);
        checks = new DistributionDataPoint[CheckCause.values().length][CheckResult.values().length];
        for (CheckCause c : CheckCause.values()) {
            for (CheckResult r : CheckResult.values()) {
                checks[c.ordinal()][r.ordinal()] = checkHistogram.labelValues(label(c), label(r));
            }
        }

        Counter queryCounter = counter("dnssec2mqtt_dns_queries_total", "DNS queries sent, by query type", "type");
        queries = new CounterDataPoint[Query.values().length];
        for (Query q : Query.values()) {
            queries[q.ordinal()] = queryCounter.labelValues(q.name());
        }

        mqttConnected = Gauge.builder()
                .name("dnssec2mqtt_mqtt_connected")
                .help("1 while the bridge is connected to the MQTT broker, else 0")
                .withoutExemplars()
                .register(registry);
        clusterActive = Gauge.builder()
                .name("dnssec2mqtt_cluster_active")
                .help("With cluster.enabled: 1 while this node is the active one, 0 while it stands by")
                .labelNames("node")
                .withoutExemplars()
                .register(registry);
        publishes = counter("dnssec2mqtt_mqtt_publishes_total",
                "MQTT messages published (retained topics, events, responses)");
        zonesLearned = counter("dnssec2mqtt_zones_learned_total",
                "Zones that became known from a NOTIFY (after their first successful check)");
        zonesForgotten = counter("dnssec2mqtt_zones_forgotten_total",
                "Zones forgotten: by the forget command, or learned zones whose first checks kept failing");
        GaugeWithCallback.builder()
                .name("dnssec2mqtt_queue_depth")
                .help("Items waiting in each of the bridge's queues")
                .labelNames("queue")
                .callback(cb -> queues.forEach((name, depth) -> cb.call(depth.getAsInt(), name)))
                .register(registry);
        Info.builder()
                .name("dnssec2mqtt_build_info")
                .help("The running dnssec2mqtt's version; always 1")
                .labelNames("version")
                .register(registry)
                .setLabelValues(version);

        registry.register(new ZoneMetrics(zones, clock));
    }

    /**
     * The metrics of a running bridge, with the HTTP server when {@code metrics.listen} is set.
     * Call once at start-up; {@link #close} stops the server.
     *
     * @throws IOException when the configured address cannot be bound (the message says which and why)
     */
    public static Metrics start(Config config, String version, Supplier<? extends Collection<ZoneState>> zones)
            throws IOException {
        Metrics metrics = new Metrics(version, zones, Clock.systemUTC());
        if (config.metricsListen() != null) {
            metrics.server = MetricsServer.start(config.metricsListen(), metrics.registry);
        }
        return metrics;
    }

    /** A NOTIFY was answered with {@code result}. */
    public void countNotify(NotifyResult result) {
        notifies[result.ordinal()].inc();
    }

    /** A check for {@code cause} ended with {@code result} after {@code took}. */
    public void countCheck(CheckCause cause, CheckResult result, Duration took) {
        checks[cause.ordinal()][result.ordinal()].observe(took.toNanos() / 1e9);
    }

    /** A DNS query of {@code type} was sent (count each attempt, retries included). */
    public void countQuery(Query type) {
        queries[type.ordinal()].inc();
    }

    /** {@link #countQuery(Query)} for a dnsjava {@link Type} code. */
    public void countQuery(int dnsType) {
        countQuery(Query.of(dnsType));
    }

    /** The MQTT connection came up ({@code true}) or went down. */
    public void setMqttConnected(boolean connected) {
        mqttConnected.set(connected ? 1 : 0);
    }

    /** This cluster node became the active one ({@code true}) or stands by. */
    public void setClusterActive(String node, boolean active) {
        clusterActive.labelValues(node).set(active ? 1 : 0);
    }

    /** An MQTT message was published. */
    public void countPublish() {
        publishes.inc();
    }

    /** A zone learned from NOTIFY became known. */
    public void countZoneLearned() {
        zonesLearned.inc();
    }

    /** A zone was forgotten. */
    public void countZoneForgotten() {
        zonesForgotten.inc();
    }

    /**
     * Reports {@code depth} as {@code dnssec2mqtt_queue_depth{queue="<name>"}}, read at each
     * scrape. Registering a name again replaces its supplier. {@code depth} must be cheap and
     * thread-safe (e.g. {@code queue::size} of a concurrent queue).
     */
    public void registerQueue(String name, IntSupplier depth) {
        queues.put(name, depth);
    }

    /** The registry holding every metric (tests scrape it directly). */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** The running server, or null when {@code metrics.listen} is unset. */
    public MetricsServer server() {
        return server;
    }

    /** Stops the server, if any; counting still works (and costs nothing) afterwards. */
    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }

    private Counter counter(String name, String help, String... labelNames) {
        return Counter.builder().name(name).help(help).labelNames(labelNames).withoutExemplars().register(registry);
    }

    private static String label(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
