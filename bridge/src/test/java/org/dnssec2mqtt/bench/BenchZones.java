package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.TextParseException;

/**
 * Signed zone files for NSD, made in-process with dnsjava: one ECDSAP256SHA256 KSK and one ZSK
 * pair shared by every zone (a key tag only depends on the key, so all zones show the same two
 * tags; the bridge keys its topics by zone), and RRSIGs over the SOA (by the ZSK) and DNSKEY (by
 * the KSK) RRsets, the two the bridge asks for. NSD does not validate what it serves, so NS and A
 * stay unsigned and no NSEC chain is needed. Measured on the 2-core machine under load 7: a fresh
 * key pair per zone ({@code DemoZone}) cost 20 ms a zone; shared keys 3.9 ms (11,220 zones in
 * 44 s, both cores); with the native provider the bench installs first, 101,220 zones in 13.5 s.
 * ldns-keygen/ldns-signzone would add three process starts per zone (not used).
 */
final class BenchZones {
    private static final long TTL = 300;
    private static final long SERIAL = 2026112201L;

    /** zone (absolute) → its SOA, for the serial a NOTIFY carries. */
    final Map<Name, SOARecord> soa = new ConcurrentHashMap<>();
    private final KeyPair ksk = keyPair();
    private final KeyPair zsk = keyPair();
    /** The keys a change adds, one more per change of a zone (shared by every zone, as the first two). */
    private final List<KeyPair> added = java.util.stream.IntStream.range(0, MAX_CHANGES).mapToObj(i -> keyPair()).toList();
    /** zone → how many changes it went through (its serial's offset and how many added keys it has). */
    private final Map<Name, Integer> changes = new ConcurrentHashMap<>();
    static final int MAX_CHANGES = 6;

    /** Writes {@code <dir>/<zone>.zone} for every name, in parallel; returns the files by zone. */
    Map<Name, Path> write(List<Name> zones, Path dir) {
        Map<Name, Path> files = new ConcurrentHashMap<>();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        zones.parallelStream().forEach(name -> files.put(name, writeZone(name, dir, 0)));
        return files;
    }

    /**
     * One change of {@code zone}: a new ZSK published (the next of the shared added keys), the
     * serial one up, re-signed, written over its file in {@code dir}; returns the new SOA (the
     * serial for the NOTIFY). NSD serves it after a reload.
     */
    SOARecord change(Name zone, Path dir) {
        int n = changes.merge(zone, 1, Integer::sum);
        if (n > MAX_CHANGES) {
            throw new IllegalStateException(zone + " changed more than " + MAX_CHANGES + " times");
        }
        writeZone(zone, dir, n);
        return soa.get(zone);
    }

    /** {@code <dir>/<zone>.zone} after {@code changes} changes: the KSK, the ZSK and that many added ZSKs. */
    private Path writeZone(Name name, Path dir, int changes) {
        Instant now = Instant.now();
        Instant inception = now.minus(Duration.ofHours(1));
        Instant expiration = now.plus(Duration.ofDays(30));
        try {
            Name ns = Name.concatenate(Name.fromConstantString("ns"), name);
            SOARecord soaRecord = new SOARecord(name, DClass.IN, TTL, ns, ns, SERIAL + changes, 3600, 600, 1209600, TTL);
            DNSKEYRecord k = dnskey(name, ksk, DNSKEYRecord.Flags.ZONE_KEY | DNSKEYRecord.Flags.SEP_KEY);
            DNSKEYRecord z = dnskey(name, zsk, DNSKEYRecord.Flags.ZONE_KEY);
            RRset keys = new RRset(k, z);
            StringBuilder extra = new StringBuilder();
            for (int i = 0; i < changes; i++) {
                DNSKEYRecord a = dnskey(name, added.get(i), DNSKEYRecord.Flags.ZONE_KEY);
                keys.addRR(a);
                extra.append(a).append('\n');
            }
            StringBuilder text = new StringBuilder(2048);
            text.append(soaRecord).append('\n')
                    .append(DNSSEC.sign(new RRset(soaRecord), z, zsk.getPrivate(), inception, expiration)).append('\n')
                    .append(new NSRecord(name, DClass.IN, TTL, ns)).append('\n')
                    .append(new ARecord(ns, DClass.IN, TTL, InetAddress.getLoopbackAddress())).append('\n')
                    .append(k).append('\n').append(z).append('\n').append(extra)
                    .append(DNSSEC.sign(keys, k, ksk.getPrivate(), inception, expiration)).append('\n');
            Path file = dir.resolve(name.toString(true) + ".zone");
            Files.writeString(file, text, StandardCharsets.US_ASCII);
            soa.put(name, soaRecord);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (DNSSEC.DNSSECException e) {
            throw new IllegalStateException("cannot sign " + name + ": " + e, e);
        }
    }

    private static DNSKEYRecord dnskey(Name zone, KeyPair pair, int flags) {
        try {
            return new DNSKEYRecord(zone, DClass.IN, TTL, flags, DNSKEYRecord.Protocol.DNSSEC,
                    DNSSEC.Algorithm.ECDSAP256SHA256, pair.getPublic());
        } catch (DNSSEC.DNSSECException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code <prefix><i>.bench.} for i in 1..count. */
    static List<Name> names(String prefix, int count) {
        return java.util.stream.IntStream.rangeClosed(1, count).mapToObj(i -> {
            try {
                return Name.fromString(prefix + i + ".bench.");
            } catch (TextParseException e) {
                throw new IllegalArgumentException(e);
            }
        }).toList();
    }
}
