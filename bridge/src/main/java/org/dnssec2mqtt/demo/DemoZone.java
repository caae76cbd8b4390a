package org.dnssec2mqtt.demo;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

/**
 * A small zone signed in memory with ECDSAP256SHA256 keys generated on the spot, whose keys can
 * be added, revoked (RFC 5011: the revoked key keeps signing the DNSKEY RRset) and removed. It
 * feeds the demo and the in-process integration tests; every change bumps the serial and
 * re-signs. Thread-safe: readers get an immutable signed copy.
 */
public final class DemoZone {
    static final long TTL = 300;
    private static final Duration VALIDITY = Duration.ofDays(30);

    private final Name name;
    private final Clock clock;
    private final List<Key> keys = new ArrayList<>();
    private long serial;
    private volatile Signed signed;

    /** One key of the zone. {@code signs} false = published only (stand-by). */
    public static final class Key {
        final KeyPair pair;
        final boolean ksk;
        DNSKEYRecord record;
        boolean signs;

        Key(KeyPair pair, boolean ksk, DNSKEYRecord record, boolean signs) {
            this.pair = pair;
            this.ksk = ksk;
            this.record = record;
            this.signs = signs;
        }

        public int tag() {
            return record.getFootprint();
        }

        public DNSKEYRecord record() {
            return record;
        }
    }

    /** The signed RRsets served right now. */
    public record Signed(long serial, RRset soa, RRset ns, RRset a, RRset dnskey) {}

    public DemoZone(Name name, long initialSerial, Clock clock) {
        this.name = name;
        this.serial = initialSerial;
        this.clock = clock;
    }

    public Name name() {
        return name;
    }

    public Signed signed() {
        return signed;
    }

    /** Adds a key; {@code signing} false publishes it as stand-by. Re-signs. */
    public synchronized Key addKey(boolean ksk, boolean signing) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = g.generateKeyPair();
            int flags = DNSKEYRecord.Flags.ZONE_KEY | (ksk ? DNSKEYRecord.Flags.SEP_KEY : 0);
            DNSKEYRecord rec = new DNSKEYRecord(name, DClass.IN, TTL, flags, DNSKEYRecord.Protocol.DNSSEC,
                    DNSSEC.Algorithm.ECDSAP256SHA256, pair.getPublic());
            Key k = new Key(pair, ksk, rec, signing);
            keys.add(k);
            resign();
            return k;
        } catch (GeneralSecurityException | DNSSEC.DNSSECException e) {
            throw new IllegalStateException("cannot make an ECDSAP256SHA256 key: " + e.getMessage(), e);
        }
    }

    /** Makes a stand-by key sign. Re-signs. */
    public synchronized void activate(Key k) {
        k.signs = true;
        resign();
    }

    /** Stops a key signing; it stays published (stand-by), as after a pre-publish ZSK roll. Re-signs. */
    public synchronized void retire(Key k) {
        k.signs = false;
        resign();
    }

    /** Sets the REVOKE bit (the tag changes); the key keeps signing the DNSKEY RRset. Re-signs. */
    public synchronized void revoke(Key k) {
        DNSKEYRecord r = k.record;
        k.record = new DNSKEYRecord(name, DClass.IN, TTL, r.getFlags() | DNSKEYRecord.Flags.REVOKE,
                r.getProtocol(), r.getAlgorithm(), r.getKey());
        k.signs = true;
        resign();
    }

    /** Removes a key. Re-signs. */
    public synchronized void remove(Key k) {
        keys.remove(k);
        resign();
    }

    public synchronized List<Key> keys() {
        return List.copyOf(keys);
    }

    private void resign() {
        serial = org.xbill.DNS.Serial.increment(serial); // RFC 1982 §3.1: wraps to 0 after 4294967295
        Instant now = clock.instant();
        Instant inception = now.minus(Duration.ofHours(1));
        Instant expiration = now.plus(VALIDITY);
        Name ns = name.equals(Name.root) ? Name.fromConstantString("ns.root-servers.test.") : ns(name);
        RRset soa = new RRset(new SOARecord(name, DClass.IN, TTL, ns, ns, serial, 3600, 600, 1209600, TTL));
        RRset nsSet = new RRset(new NSRecord(name, DClass.IN, TTL, ns));
        RRset a;
        try {
            a = new RRset(new ARecord(name, DClass.IN, TTL, java.net.InetAddress.getByName("192.0.2.1")));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        RRset dnskey = new RRset();
        for (Key k : keys) {
            dnskey.addRR(k.record);
        }
        for (Key k : keys) {
            if (!k.signs) {
                continue;
            }
            boolean revoked = (k.record.getFlags() & DNSKEYRecord.Flags.REVOKE) != 0;
            if (k.ksk || revoked) {
                dnskey.addRR(sign(dnskey, k, inception, expiration));
            }
            if (!k.ksk && !revoked) {
                for (RRset set : List.of(soa, nsSet, a)) {
                    set.addRR(sign(set, k, inception, expiration));
                }
            }
        }
        signed = new Signed(serial, soa, nsSet, a, dnskey);
    }

    private static Name ns(Name zone) {
        try {
            return Name.concatenate(Name.fromConstantString("ns"), zone);
        } catch (org.xbill.DNS.NameTooLongException e) {
            return zone;
        }
    }

    private static RRSIGRecord sign(RRset set, Key k, Instant inception, Instant expiration) {
        try {
            RRset plain = new RRset();
            for (Record r : set.rrs(false)) {
                plain.addRR(r);
            }
            return DNSSEC.sign(plain, k.record, k.pair.getPrivate(), inception, expiration);
        } catch (DNSSEC.DNSSECException e) {
            throw new IllegalStateException("cannot sign " + Type.string(set.getType()) + ": " + e.getMessage(), e);
        }
    }
}
