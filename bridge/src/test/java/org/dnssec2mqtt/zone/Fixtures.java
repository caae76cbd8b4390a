package org.dnssec2mqtt.zone;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/** Presentation-format fixtures under src/test/resources/fixtures, read with dnsjava's parser. */
public final class Fixtures {
    private Fixtures() {}

    public static List<Record> records(String resource) throws IOException {
        List<Record> out = new ArrayList<>();
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + resource);
             Master m = new Master(in, Name.root)) {
            for (Record r = m.nextRecord(); r != null; r = m.nextRecord()) {
                out.add(r);
            }
        }
        return out;
    }

    public static List<DNSKEYRecord> keys(String resource) throws IOException {
        return records(resource).stream().filter(r -> r instanceof DNSKEYRecord).map(r -> (DNSKEYRecord) r).toList();
    }

    public static DNSKEYRecord key(List<DNSKEYRecord> keys, int tag) {
        return keys.stream().filter(k -> k.getFootprint() == tag).findFirst().orElseThrow();
    }

    /** An RRSIG over {@code covered} by {@code key}: only its tag and algorithm matter here. */
    public static RRSIGRecord sig(DNSKEYRecord key, int covered) {
        Instant now = Instant.parse("2026-11-22T00:00:00Z");
        return new RRSIGRecord(key.getName(), key.getDClass(), key.getTTL(), covered, key.getAlgorithm(),
                key.getTTL(), now.plusSeconds(86400 * 14), now.minusSeconds(3600), key.getFootprint(),
                key.getName(), new byte[64]);
    }

    /** A snapshot where {@code ksks} sign the DNSKEY RRset and {@code zsks} the SOA. */
    public static ZoneSnapshot snapshot(List<DNSKEYRecord> keys, List<DNSKEYRecord> ksks, List<DNSKEYRecord> zsks) {
        Name zone = keys.isEmpty() ? Name.root : keys.get(0).getName();
        return new ZoneSnapshot(zone, "127.0.0.1:53", soa(zone, 2026112201), keys,
                ksks.stream().map(k -> sig(k, Type.DNSKEY)).toList(),
                zsks.stream().map(k -> sig(k, Type.SOA)).toList(), List.of(), List.of());
    }

    public static SOARecord soa(Name zone, long serial) {
        return new SOARecord(zone, DClass.IN, 300, zone, zone, serial, 3600, 600, 1209600, 300);
    }

    /** A reachable, ok state holding {@code keys}. */
    public static ZoneState state(String zone, long serial, List<KeyInfo> keys, Instant at) {
        return new ZoneState(zone, serial, "127.0.0.1:53", at, at, true, "ok", "", keys, "secure", null, "ok",
                null, 1209600, at, false, List.of(), List.of(), null, null, List.of());
    }
}
