package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;


/**
 * Checks the RRSIGs over a zone's DNSKEY and SOA RRsets against the keys in the DNSKEY RRset
 * (RFC 4035 §5.3). It proves the answer is self-consistent and signed, not that a parent vouches
 * for it (that is the DS check). Pure; time comes in as an argument.
 */
public final class Validator {
    /** KeyTrap (CVE-2023-50387): never try more signature checks than this per answer. */
    static final int MAX_CHECKS = 8;

    private Validator() {}

    /**
     * @param result {@code secure}, {@code bogus} or {@code unsigned}
     * @param problem why it is not secure; "" when it is
     * @param expiredOnly bogus only because signatures are out of their validity window
     * @param earliestExpiry the earliest RRSIG expiration over both RRsets; null without RRSIGs
     */
    public record Result(String result, String problem, boolean expiredOnly, Instant earliestExpiry) {}

    public static Result validate(ZoneSnapshot s, Instant now) {
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
        RRset soa = new RRset(s.soa());
        boolean keysOk = verified("DNSKEY", keys, s.dnskeySigs(), s.keys(), now, budget, why, onlyTime);
        boolean soaOk = verified("SOA", soa, s.soaSigs(), s.keys(), now, budget, why, onlyTime);
        if (keysOk && soaOk) {
            return new Result("secure", "", false, earliest);
        }
        return new Result("bogus", String.join("; ", why), onlyTime[0], earliest);
    }

    private static boolean verified(String what, RRset set, List<RRSIGRecord> sigs, List<DNSKEYRecord> keys,
                                    Instant now, int[] budget, List<String> why, boolean[] onlyTime) {
        if (sigs.isEmpty()) {
            why.add(what + " RRset has no RRSIG");
            onlyTime[0] = false;
            return false;
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
                    return false;
                }
                try {
                    DNSSEC.verify(set, sig, key, now);
                    return true;
                } catch (DNSSEC.SignatureExpiredException e) {
                    last = "RRSIG by key " + sig.getFootprint() + " expired at " + sig.getExpire();
                    timeFailure = true;
                } catch (DNSSEC.SignatureNotYetValidException e) {
                    last = "RRSIG by key " + sig.getFootprint() + " not valid before " + sig.getTimeSigned();
                    timeFailure = true;
                } catch (DNSSEC.DNSSECException e) {
                    last = "RRSIG by key " + sig.getFootprint() + ": " + e.getMessage();
                    onlyTime[0] = false;
                }
            }
        }
        if (!timeFailure) {
            onlyTime[0] = false;
        }
        why.add(what + " RRset: " + last);
        return false;
    }

    private static List<RRSIGRecord> concat(List<RRSIGRecord> a, List<RRSIGRecord> b) {
        List<RRSIGRecord> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

}
