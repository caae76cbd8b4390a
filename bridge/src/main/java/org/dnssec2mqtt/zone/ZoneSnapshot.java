package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.List;
import org.xbill.DNS.CDNSKEYRecord;
import org.xbill.DNS.CDSRecord;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.SOARecord;

/**
 * What one check saw of a zone at one server: the SOA, the DNSKEY RRset, the RRSIGs over both,
 * and the CDS/CDNSKEY RRsets (RFC 7344). Produced by the fetcher, consumed by the pure analysis.
 *
 * @param server {@code host:port} that answered
 */
public record ZoneSnapshot(
        Name zone,
        String server,
        SOARecord soa,
        List<DNSKEYRecord> keys,
        List<RRSIGRecord> dnskeySigs,
        List<RRSIGRecord> soaSigs,
        List<CDSRecord> cds,
        List<CDNSKEYRecord> cdnskey) {

    public ZoneSnapshot {
        keys = List.copyOf(keys);
        dnskeySigs = List.copyOf(dnskeySigs);
        soaSigs = List.copyOf(soaSigs);
        cds = List.copyOf(cds);
        cdnskey = List.copyOf(cdnskey);
    }

    public long serial() {
        return soa.getSerial();
    }

    /** Earliest expiration of the RRSIGs over the DNSKEY RRset; null when there are none. */
    public Instant dnskeyRrsigExpires() {
        return earliestExpiry(dnskeySigs);
    }

    /** Earliest expiration of the RRSIGs over the SOA RRset; null when there are none. */
    public Instant soaRrsigExpires() {
        return earliestExpiry(soaSigs);
    }

    private static Instant earliestExpiry(List<RRSIGRecord> sigs) {
        return sigs.stream().map(RRSIGRecord::getExpire).min(Instant::compareTo).orElse(null);
    }

    /** SOA expire field in seconds (RFC 1035 §3.3.13). */
    public long soaExpire() {
        return soa.getExpire();
    }
}
