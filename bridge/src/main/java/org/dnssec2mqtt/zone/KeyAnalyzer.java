package org.dnssec2mqtt.zone;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.RRSIGRecord;

/**
 * Turns a {@link ZoneSnapshot} into {@link KeyInfo}s: tag, flags, role, state, size and DS
 * digests. Pure: no I/O, time comes in as an argument.
 */
public final class KeyAnalyzer {
    private KeyAnalyzer() {}

    /**
     * Analyses every key of {@code snapshot}. Keys already in {@code previous} (same identity)
     * keep their {@code firstSeen} and topic; new keys are first seen at {@code now}.
     */
    public static List<KeyInfo> analyze(ZoneSnapshot snapshot, List<KeyInfo> previous, Instant now) {
        return analyze(snapshot, Zones.display(snapshot.zone()), previous, now);
    }

    /** {@link #analyze(ZoneSnapshot, List, Instant)} with the zone's payload name given (one copy for the state and its keys). */
    static List<KeyInfo> analyze(ZoneSnapshot snapshot, String zone, List<KeyInfo> previous, Instant now) {
        Set<String> signsDnskey = signers(snapshot.dnskeySigs());
        Set<String> signsSoa = signers(snapshot.soaSigs());
        Map<String, KeyInfo> before = KeyInfo.byIdentity(previous);
        List<KeyInfo> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (DNSKEYRecord key : snapshot.keys()) {
            String identity = identity(key);
            if (!seen.add(identity)) {
                continue; // the same key twice in one RRset (only the REVOKE bit differs)
            }
            KeyInfo prior = before.get(identity);
            out.add(analyzeKey(zone, key, identity, signsDnskey, signsSoa, prior, now));
        }
        return assignTopics(out, previous);
    }

    /** RFC 5011 §2.4.1 and §2.4.2: 30 days either way. */
    static final java.time.Duration HOLD_DOWN = java.time.Duration.ofDays(30);

    static KeyInfo analyzeKey(String zone, DNSKEYRecord key, String identity,
                              Set<String> signsDnskey, Set<String> signsSoa, KeyInfo prior, Instant now) {
        Instant firstSeen = prior != null ? prior.firstSeen() : now;
        int flags = key.getFlags();
        int tag = key.getFootprint();
        boolean sep = (flags & DNSKEYRecord.Flags.SEP_KEY) != 0;
        boolean revoked = (flags & DNSKEYRecord.Flags.REVOKE) != 0;
        String sig = key.getAlgorithm() + "/" + tag;
        boolean signsKeys = signsDnskey.contains(sig);
        boolean signsZone = signsSoa.contains(sig);

        KeyInfo.Role role = !sep ? KeyInfo.Role.ZSK : signsZone ? KeyInfo.Role.CSK : KeyInfo.Role.KSK;
        KeyInfo.KeyState state;
        if (revoked) {
            state = KeyInfo.KeyState.REVOKED;
        } else if (role == KeyInfo.Role.ZSK ? signsZone : signsKeys) {
            state = KeyInfo.KeyState.ACTIVE;
        } else {
            state = KeyInfo.KeyState.STANDBY;
        }

        Integer originalTag = null;
        if (revoked) {
            // RFC 5011 §3: the REVOKE bit is part of the tag computation, so the tag moves.
            originalTag = new DNSKEYRecord(key.getName(), key.getDClass(), key.getTTL(),
                    flags & ~DNSKEYRecord.Flags.REVOKE, key.getProtocol(), key.getAlgorithm(),
                    key.getKey()).getFootprint();
        }
        // A revoked key must never get a DS at the parent; dnssec-dsfromkey skips them too.
        // The digests are made from the key's fields when asked for (KeyInfo.ds, protocol 3), not kept.
        String text = text(key, identity);
        boolean standard = key.getProtocol() == 3;
        String ds256 = !sep || revoked ? null : standard ? KeyInfo.MADE_AGAIN : ds(key, DNSSEC.Digest.SHA256);
        String ds384 = !sep || revoked ? null : standard ? KeyInfo.MADE_AGAIN : ds(key, DNSSEC.Digest.SHA384);

        // The RFC 5011 timeline: fixed once set, so a restart or a re-check never moves it.
        Instant addHoldDown = sep ? firstSeen.plus(HOLD_DOWN) : null;
        Instant revokedAt = !revoked ? null : prior != null && prior.revokedAt() != null ? prior.revokedAt() : now;
        Instant removeHoldDown = revokedAt == null ? null : revokedAt.plus(HOLD_DOWN);
        return new KeyInfo(identity, String.valueOf(tag), text, zone, tag, flags, role, state,
                revoked, originalTag, key.getAlgorithm(), DNSSEC.Algorithm.string(key.getAlgorithm()),
                bits(key.getAlgorithm(), key.getKey()), key.getTTL(), ds256, ds384, firstSeen,
                prior != null && prior.cds(), prior == null ? null : prior.dsAtParent(),
                addHoldDown, revokedAt, removeHoldDown);
    }

    /**
     * Topic levels under {@code keys/}: the key tag. Two distinct keys can share a tag (RFC 4034
     * Appendix B: the tag is not unique), so a key that finds its tag taken gets
     * {@code <tag>-<n>} with the smallest free n ≥ 2. Keys that had a topic keep it, so a new
     * colliding key never moves an existing one; among new keys, earlier in the RRset wins.
     */
    static List<KeyInfo> assignTopics(List<KeyInfo> keys, List<KeyInfo> previous) {
        Map<String, String> priorTopic = new HashMap<>();
        for (KeyInfo k : previous) {
            // a revoked key's tag changed, so its old topic is not a claim on the new tag
            priorTopic.put(k.identity() + "/" + k.keytag(), k.topicId());
        }
        Set<String> taken = new HashSet<>();
        KeyInfo[] result = new KeyInfo[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            KeyInfo k = keys.get(i);
            String topic = priorTopic.get(k.identity() + "/" + k.keytag());
            if (topic != null && taken.add(topic)) {
                result[i] = k.withTopicId(topic);
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            if (result[i] != null) {
                continue;
            }
            KeyInfo k = keys.get(i);
            String topic = String.valueOf(k.keytag());
            for (int n = 2; !taken.add(topic); n++) {
                topic = k.keytag() + "-" + n;
            }
            result[i] = k.withTopicId(topic);
        }
        List<KeyInfo> out = new ArrayList<>(List.of(result));
        out.sort(Comparator.comparingInt(KeyInfo::keytag).thenComparing(KeyInfo::topicId));
        return out;
    }

    /**
     * {@code key.toString()}, without encoding the key in Base64 again ({@code identity} holds it)
     * where dnsjava's layout is the plain one: protocol 3, class IN, none of its printing options.
     * Every full check makes each key's text, and the record printing itself was ~8 % of the
     * bridge's CPU in a {@code recheck *} of 20,000 zones (JFR).
     */
    static String text(DNSKEYRecord key, String identity) {
        if (key.getProtocol() != DNSKEYRecord.Protocol.DNSSEC || key.getDClass() != org.xbill.DNS.DClass.IN
                || org.xbill.DNS.Options.check("multiline") || org.xbill.DNS.Options.check("BINDTTL")
                || org.xbill.DNS.Options.check("noPrintIN")) {
            return key.toString();
        }
        return KeyInfo.presentation(key.getName().toString(), key.getTTL(), key.getFlags(), key.getAlgorithm(), identity);
    }

    /** Algorithm and public key: stable across the REVOKE bit and TTL or flag changes. */
    public static String identity(DNSKEYRecord key) {
        return key.getAlgorithm() + ":" + Base64.getEncoder().encodeToString(key.getKey());
    }

    private static Set<String> signers(List<RRSIGRecord> sigs) {
        Set<String> out = new HashSet<>();
        for (RRSIGRecord s : sigs) {
            out.add(s.getAlgorithm() + "/" + s.getFootprint());
        }
        return out;
    }

    /** DS RDATA as {@code dnssec-dsfromkey} prints it after {@code IN DS}. */
    public static String ds(DNSKEYRecord key, int digest) {
        DSRecord ds = new DSRecord(key.getName(), DClass.IN, key.getTTL(), digest, key);
        return ds.rdataToString();
    }

    /**
     * Key size in bits. dnsjava has no API for it: RSA is the modulus length (RFC 3110 §2),
     * the curves have fixed sizes (RFC 6605, RFC 8080), DSA is 512 + 64·T (RFC 2536 §2).
     *
     * @return null for algorithms whose size we cannot tell
     */
    static Integer bits(int algorithm, byte[] key) {
        switch (algorithm) {
            case DNSSEC.Algorithm.RSAMD5:
            case DNSSEC.Algorithm.RSASHA1:
            case DNSSEC.Algorithm.RSA_NSEC3_SHA1:
            case DNSSEC.Algorithm.RSASHA256:
            case DNSSEC.Algorithm.RSASHA512:
                return rsaModulusBits(key);
            case DNSSEC.Algorithm.DSA:
            case DNSSEC.Algorithm.DSA_NSEC3_SHA1:
                return key.length == 0 ? null : 512 + 64 * (key[0] & 0xff);
            case DNSSEC.Algorithm.ECC_GOST:
            case DNSSEC.Algorithm.ECDSAP256SHA256:
            case DNSSEC.Algorithm.ED25519:
                return 256;
            case DNSSEC.Algorithm.ECDSAP384SHA384:
                return 384;
            case DNSSEC.Algorithm.ED448:
                return 456;
            default:
                return null;
        }
    }

    private static Integer rsaModulusBits(byte[] key) {
        if (key.length < 3) {
            return null;
        }
        int expLen = key[0] & 0xff;
        int offset = 1;
        if (expLen == 0) { // RFC 3110: a zero length byte means a two-byte length follows
            expLen = ((key[1] & 0xff) << 8) | (key[2] & 0xff);
            offset = 3;
        }
        int start = offset + expLen;
        if (start >= key.length) {
            return null;
        }
        byte[] modulus = java.util.Arrays.copyOfRange(key, start, key.length);
        return new BigInteger(1, modulus).bitLength();
    }
}
