package org.dnssec2mqtt.zone;

import java.util.List;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;

/**
 * What one check saw of a zone at one server: the SOA serial, the DNSKEY RRset and the RRSIGs
 * over the DNSKEY and SOA RRsets. Produced by the fetcher, consumed by {@link KeyAnalyzer}.
 *
 * @param server {@code host:port} that answered
 * @param soaExpire the SOA expire field in seconds, for staleness rules
 */
public record ZoneSnapshot(
        Name zone,
        String server,
        long serial,
        long soaExpire,
        List<DNSKEYRecord> keys,
        List<RRSIGRecord> dnskeySigs,
        List<RRSIGRecord> soaSigs) {

    public ZoneSnapshot {
        keys = List.copyOf(keys);
        dnskeySigs = List.copyOf(dnskeySigs);
        soaSigs = List.copyOf(soaSigs);
    }
}
