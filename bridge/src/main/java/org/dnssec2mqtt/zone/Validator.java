package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;


/**
 * Checks a zone's answer against the keys in its DNSKEY RRset (RFC 4035 §5.3): the RRSIGs over
 * the DNSKEY RRset are verified cryptographically; the SOA RRset must carry an RRSIG, in its
 * validity period, by an unrevoked key of the set. It proves the key set is self-consistent and
 * signed, not that a parent vouches for it (that is the DS check). Time comes in as an argument.
 *
 * <p>Why not verify the SOA's signature too: an ECDSA P-256 verification costs about 2 ms in
 * Java 17 on a small machine, the largest share of a check; the SOA is only read for its serial
 * and signature expiry, and the key set, which the bridge reports on, is verified. The signature
 * that verified is kept in the zone's state ({@link ZoneState#verified}), so a check of an
 * unchanged zone, after a restart too, costs no cryptography at all.
 */
public final class Validator {
    /** KeyTrap (CVE-2023-50387): never try more signature checks than this per answer. */
    static final int MAX_CHECKS = 8;

    private static final ThreadLocal<java.security.MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e); // every Java has it
        }
    });

    /** Signatures verified by this validator (each one a public-key operation). */
    private final java.util.concurrent.atomic.AtomicLong verifications = new java.util.concurrent.atomic.AtomicLong();

    public Validator() {}

    /** Validation of an answer seen for the first time (tests, one-shot checks). */
    public static Result validate(ZoneSnapshot s, Instant now) {
        return new Validator().check(s, now, null);
    }

    /** How many signatures this validator has verified (the ones it took as verified before not counted). */
    public long verifications() {
        return verifications.get();
    }

    /**
     * @param result {@code secure}, {@code bogus} or {@code unsigned}
     * @param problem why it is not secure; "" when it is
     * @param expiredOnly bogus only because signatures are out of their validity window
     * @param earliestExpiry the earliest RRSIG expiration over both RRsets; null without RRSIGs
     * @param verified the {@link #id} of the DNSKEY RRset's signature that verified (Base64), for
     *     the zone's state to keep and the next check to give back; null when none did
     */
    public record Result(String result, String problem, boolean expiredOnly, Instant earliestExpiry, String verified) {
        /** A result that verified no signature. */
        public Result(String result, String problem, boolean expiredOnly, Instant earliestExpiry) {
            this(result, problem, expiredOnly, earliestExpiry, null);
        }
    }

    /**
     * Validates {@code s} at {@code now}. {@code verifiedBefore} is what the zone's previous check
     * verified ({@link Result#verified}, kept in its state, across restarts too): a signature with
     * that id was verified with these exact bytes, so it is taken as verified without the public-key
     * operation (its validity period is still checked against {@code now}). Each zone keeps its own,
     * so the memory grows with the zones and a pass over all of them never pushes one out (a shared
     * memory of 50,000 signatures verified every signature again in a {@code recheck *} of 100,000
     * zones). Thread-safe.
     */
    public Result check(ZoneSnapshot s, Instant now, String verifiedBefore) {
        Instant earliest = null;
        for (RRSIGRecord sig : concat(s.dnskeySigs(), s.soaSigs())) {
            if (earliest == null || sig.getExpire().isBefore(earliest)) {
                earliest = sig.getExpire();
            }
        }
        if (s.keys().isEmpty()) {
            return new Result("unsigned", "", false, earliest);
        }
        int[] budget = {MAX_CHECKS};
        List<String> why = new ArrayList<>();
        boolean[] onlyTime = {true};
        RRset keys = new RRset();
        s.keys().forEach(keys::addRR);
        String keysOk = verified("DNSKEY", keys, s.dnskeySigs(), s.keys(), now, budget, why, onlyTime, verifiedBefore);
        boolean soaOk = signedInTime(s.soaSigs(), s.keys(), now, why, onlyTime);
        if (keysOk != null && soaOk) {
            return new Result("secure", "", false, earliest, keysOk);
        }
        return new Result("bogus", String.join("; ", why), onlyTime[0], earliest, keysOk);
    }

    /** The SOA carries an RRSIG, valid now, by an unrevoked key of the set (see the class comment). */
    private static boolean signedInTime(List<RRSIGRecord> sigs, List<DNSKEYRecord> keys, Instant now,
                                        List<String> why, boolean[] onlyTime) {
        if (sigs.isEmpty()) {
            why.add("SOA RRset has no RRSIG");
            onlyTime[0] = false;
            return false;
        }
        String last = "no RRSIG by a key in the DNSKEY RRset";
        boolean timeFailure = false;
        for (RRSIGRecord sig : sigs) {
            for (DNSKEYRecord key : keys) {
                if (key.getFootprint() != sig.getFootprint() || key.getAlgorithm() != sig.getAlgorithm()
                        || (key.getFlags() & DNSKEYRecord.Flags.REVOKE) != 0) {
                    continue;
                }
                if (now.isAfter(sig.getExpire())) {
                    last = "RRSIG by key " + sig.getFootprint() + " expired at " + sig.getExpire();
                    timeFailure = true;
                } else if (now.isBefore(sig.getTimeSigned())) {
                    last = "RRSIG by key " + sig.getFootprint() + " not valid before " + sig.getTimeSigned();
                    timeFailure = true;
                } else {
                    return true;
                }
            }
        }
        if (!timeFailure) {
            onlyTime[0] = false;
        }
        why.add("SOA RRset: " + last);
        return false;
    }

    /** The id of the signature of {@code set} that verifies now; null when none does (why says so). */
    private String verified(String what, RRset set, List<RRSIGRecord> sigs, List<DNSKEYRecord> keys,
                            Instant now, int[] budget, List<String> why, boolean[] onlyTime, String verifiedBefore) {
        if (sigs.isEmpty()) {
            why.add(what + " RRset has no RRSIG");
            onlyTime[0] = false;
            return null;
        }
        String last = "no RRSIG by a key in the DNSKEY RRset";
        boolean timeFailure = false;
        for (RRSIGRecord sig : sigs) {
            for (DNSKEYRecord key : keys) {
                if (key.getFootprint() != sig.getFootprint() || key.getAlgorithm() != sig.getAlgorithm()) {
                    continue;
                }
                // a revoked key still self-signs the DNSKEY RRset (RFC 5011 §2.1) but vouches for nothing
                if ((key.getFlags() & DNSKEYRecord.Flags.REVOKE) != 0) {
                    continue;
                }
                if (budget[0]-- <= 0) {
                    why.add(what + ": gave up after " + MAX_CHECKS + " signature checks");
                    onlyTime[0] = false;
                    return null;
                }
                try {
                    String id = id(sig, key, set);
                    if (id.equals(verifiedBefore) && !now.isAfter(sig.getExpire()) && !now.isBefore(sig.getTimeSigned())) {
                        return id; // verified before, and still in its validity period
                    }
                    verifications.incrementAndGet();
                    DNSSEC.verify(set, sig, key, now);
                    return id;
                } catch (DNSSEC.SignatureExpiredException e) {
                    last = "RRSIG by key " + sig.getFootprint() + " expired at " + sig.getExpire();
                    timeFailure = true;
                } catch (DNSSEC.SignatureNotYetValidException e) {
                    last = "RRSIG by key " + sig.getFootprint() + " not valid before " + sig.getTimeSigned();
                    timeFailure = true;
                } catch (DNSSEC.DNSSECException e) {
                    last = "RRSIG by key " + sig.getFootprint() + ": " + describe(e, key);
                    onlyTime[0] = false;
                }
            }
        }
        if (!timeFailure) {
            onlyTime[0] = false;
        }
        why.add(what + " RRset: " + last);
        return null;
    }

    /**
     * Why a signature check failed, in DNSSEC terms. dnsjava's own messages may carry a JCA
     * exception's {@code toString()} ({@code java.security.SignatureException: ...}), which says
     * nothing to an operator.
     */
    static String describe(DNSSEC.DNSSECException e, DNSKEYRecord key) {
        if (e instanceof DNSSEC.SignatureVerificationException) {
            return "signature does not verify (wrong key, or the RRset changed after signing)";
        }
        if (e instanceof DNSSEC.UnsupportedAlgorithmException) {
            return "algorithm " + key.getAlgorithm() + " (" + DNSSEC.Algorithm.string(key.getAlgorithm())
                    + ") is not supported here";
        }
        if (e instanceof DNSSEC.KeyMismatchException) {
            return "signature does not belong to key " + key.getFootprint();
        }
        if (e instanceof DNSSEC.MalformedKeyException || e instanceof DNSSEC.InvalidDnskeyException) {
            return "DNSKEY " + key.getFootprint() + " holds no usable public key";
        }
        return "signature or key data cannot be used (malformed)";
    }

    /**
     * What a verification's outcome depends on, in canonical wire form (RFC 4034 §6.2: the form
     * the signature covers): the RRSIG's RDATA, the key's RDATA and each record of the set, kept as
     * their SHA-256 in Base64 (44 characters instead of ~400 bytes in a zone's state). Equal wire
     * forms give equal ids; different ones the same id only through a SHA-256 collision, which
     * nobody can produce: an answer is never taken as verified unless it was.
     */
    static String id(RRSIGRecord sig, DNSKEYRecord key, RRset set) {
        org.xbill.DNS.DNSOutput out = new org.xbill.DNS.DNSOutput(512);
        field(out, sig.rdataToWireCanonical());
        field(out, key.rdataToWireCanonical());
        for (org.xbill.DNS.Record r : set.rrs(false)) {
            field(out, r.toWireCanonical());
        }
        return java.util.Base64.getEncoder().encodeToString(SHA256.get().digest(out.toByteArray()));
    }

    /** Each part with its length before it, so that parts cannot run into each other. */
    private static void field(org.xbill.DNS.DNSOutput out, byte[] part) {
        out.writeU32(part.length);
        out.writeByteArray(part);
    }

    private static List<RRSIGRecord> concat(List<RRSIGRecord> a, List<RRSIGRecord> b) {
        List<RRSIGRecord> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

}
