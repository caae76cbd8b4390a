package org.dnssec2mqtt.zone;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.dnssec2mqtt.demo.DemoZone;
import org.xbill.DNS.CDNSKEYRecord;
import org.xbill.DNS.CDSRecord;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.SOARecord;

/** Really signed answers (ECDSAP256SHA256, signed by {@link DemoZone}) as snapshots. */
final class Signed {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T06:00:00Z");
    static final Name ZONE = Name.fromConstantString("signed.test.");

    private Signed() {}

    /** Installs the JCA provider of {@code mode} and fails unless it is the one in use. */
    static void install(CryptoProvider.Mode mode) {
        String inUse = CryptoProvider.install(mode);
        String expected = mode == CryptoProvider.Mode.AUTO ? "ACCP " : "JDK ";
        if (!inUse.startsWith(expected)) {
            throw new AssertionError("expected the " + expected + "provider; in use: " + inUse);
        }
    }

    static DemoZone zone() {
        return new DemoZone(ZONE, 100, Clock.fixed(SIGNED_AT, ZoneOffset.UTC));
    }

    static ZoneSnapshot snapshot(DemoZone z) {
        return snapshot(z, List.of(), List.of());
    }

    static ZoneSnapshot snapshot(DemoZone z, List<CDSRecord> cds, List<CDNSKEYRecord> cdnskey) {
        DemoZone.Signed s = z.signed();
        return new ZoneSnapshot(ZONE, "127.0.0.1:53", (SOARecord) s.soa().first(),
                s.dnskey().rrs(false).stream().map(r -> (DNSKEYRecord) r).toList(),
                s.dnskey().sigs(), s.soa().sigs(), cds, cdnskey);
    }

    static ZoneSnapshot withKeys(ZoneSnapshot a, List<DNSKEYRecord> keys) {
        return new ZoneSnapshot(a.zone(), a.server(), a.soa(), keys, a.dnskeySigs(), a.soaSigs(), a.cds(), a.cdnskey());
    }

    static ZoneSnapshot withSigs(ZoneSnapshot a, List<RRSIGRecord> dnskeySigs, List<RRSIGRecord> soaSigs) {
        return new ZoneSnapshot(a.zone(), a.server(), a.soa(), a.keys(), dnskeySigs, soaSigs, a.cds(), a.cdnskey());
    }
}
