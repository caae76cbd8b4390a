package org.dnssec2mqtt.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.dnssec2mqtt.dns.TsigKeys;
import org.xbill.DNS.Name;

/**
 * The whole validated configuration. Built only by {@link ConfigLoader}; every field is already
 * checked, so the rest of the bridge never re-validates. Nullable fields are marked.
 */
public record Config(
        /** notify.listen: UDP and TCP addresses the NOTIFY listener binds. */
        List<InetSocketAddress> notifyListen,
        /** notify.allow: sources whose NOTIFYs are accepted; others get REFUSED. */
        List<Cidr> notifyAllow,
        /** notify.require-tsig: refuse unsigned NOTIFYs. */
        boolean notifyRequireTsig,
        /** tsig.keyfile, nullable. */
        Path tsigKeyfile,
        /** The keys from tsig.keyfile (empty when none). */
        TsigKeys tsigKeys,
        /** dns.query-port: port to query a NOTIFY's source on. */
        int dnsQueryPort,
        /** dns.servers: default servers for zones without their own; may be empty. */
        List<HostPort> dnsServers,
        /** dns.timeout: per query. */
        Duration dnsTimeout,
        /** dns.transport: true = TCP, false = UDP with TCP fallback on truncation (default). */
        boolean dnsTcp,
        /** dns.resolver, nullable: where DS queries go; null = no parent DS checks. */
        HostPort dnsResolver,
        /** poll.soa-interval: SOA serial poll of every known zone this often; ZERO = off. */
        Duration pollSoaInterval,
        /** poll.full-interval: full check of every known zone this often; ZERO = off. */
        Duration pollFullInterval,
        /** poll.stale-share: stale after this share of the SOA expire without a new serial; 0 = off. */
        double pollStaleShare,
        /** rrsig.warn-days: expiring below this many days. */
        double rrsigWarnDays,
        /** rrsig.reminder: repeat expiring/expired events this often. */
        Duration rrsigReminder,
        /** rollover.margin: added to a TTL before a rollover step counts as propagated. */
        Duration rolloverMargin,
        /** knot.dbus, nullable: null = off; {@code system} or a {@code unix:} D-Bus address. */
        String knotDbus,
        /** mqtt.url, nullable: null means start the embedded broker. */
        String mqttUrl,
        /** mqtt.username, nullable. */
        String mqttUsername,
        /** mqtt.password or the content of mqtt.password-file (trimmed), nullable. */
        String mqttPassword,
        /** mqtt.ca-file, nullable. */
        Path mqttCaFile,
        /** mqtt.client-id. */
        String mqttClientId,
        /** mqtt.embedded.listen. */
        InetSocketAddress mqttEmbeddedListen,
        /** mqtt.topic-prefix. */
        String mqttTopicPrefix,
        /** homeassistant.enabled: publish Home Assistant discovery configs. */
        boolean homeassistantEnabled,
        /** homeassistant.prefix: Home Assistant's discovery prefix. */
        String homeassistantPrefix,
        /** data.dir. */
        Path dataDir,
        /** keylog.file, nullable. */
        Path keylogFile,
        /** metrics.listen, nullable: where /metrics is served; null = no metrics server. */
        InetSocketAddress metricsListen,
        /** crypto.provider: the native provider when it loads ({@code AUTO}), or the JDK's only. */
        CryptoProvider.Mode cryptoProvider,
        /** mqtt.keepalive, resolved: 30 s, or 10 s in cluster mode, unless set. */
        Duration mqttKeepalive,
        /** cluster.enabled: one of several bridges on one broker. */
        boolean clusterEnabled,
        /** cluster.node, resolved: the host name unless set. */
        String clusterNode,
        /** zones.&lt;zone&gt;.*: configured zones, keyed by absolute lower-case name. */
        Map<Name, ZoneConfig> zones) {

    /**
     * Per-zone settings: {@code zones.<zone>.servers}, {@code zones.<zone>.tsig-key}, and
     * {@code zones.<zone>.use-ns} (also ask every name server of the zone's NS RRset).
     */
    public record ZoneConfig(Name zone, List<HostPort> servers, Name tsigKey, boolean useNs) {}
}
