package org.dnssec2mqtt.zone;

import java.time.Instant;

/**
 * Everything the bridge knows about one DNSKEY. The payload fields are those of the public
 * contract; {@code identity}, {@code topicId} and {@code dnskey} are bookkeeping that never
 * reaches a key payload.
 *
 * @param identity algorithm and public key: what stays the same when REVOKE changes the tag
 * @param topicId the last topic level under {@code keys/}: the key tag, or the tag with a
 *     suffix when two keys share a tag (see {@link KeyAnalyzer#assignTopics}); the plain tag is not
 *     kept but made again when asked
 * @param dnskey the record in presentation format, for the key log; where it is exactly what the
 *     key's other fields give ({@link #presentation}), it is not kept but made again when asked
 * @param originalKeytag the tag before REVOKE was set; null unless revoked
 * @param dsSha256 DS RDATA as {@code dnssec-dsfromkey} prints it; null unless an unrevoked SEP key.
 *     Like {@code dnskey}, it and {@code dsSha384} are not kept where they are what the key's own
 *     fields give ({@link #ds}), but made again when asked
 * @param cds true when a CDS or CDNSKEY record of the zone points at this key (RFC 7344)
 * @param dsAtParent SEP keys: whether a DS at the parent matches; null when not known
 * @param addHolddownUntil SEP keys: first seen + 30 days (RFC 5011 §2.4.1); null otherwise
 * @param revokedAt when the REVOKE bit was first seen; null unless revoked
 * @param removeHolddownUntil revokedAt + 30 days (RFC 5011 §2.4.2); null unless revoked
 */
public record KeyInfo(
        String identity,
        String topicId,
        String dnskey,
        String zone,
        int keytag,
        int flags,
        Role role,
        KeyState state,
        boolean revoked,
        Integer originalKeytag,
        int algorithm,
        String algorithmName,
        Integer bits,
        long ttl,
        String dsSha256,
        String dsSha384,
        Instant firstSeen,
        boolean cds,
        Boolean dsAtParent,
        Instant addHolddownUntil,
        Instant revokedAt,
        Instant removeHolddownUntil) {

    /**
     * Held in place of {@code dnskey} when that is the text {@link #presentation} makes (the key's
     * data is in {@code identity} already, and the text, ~170 bytes, was the largest part of a key
     * kept for 100,000 zones), of {@code topicId} when that is the plain key tag, and of the DS
     * texts when they are what {@link #ds} makes (~270 bytes of a SEP key). Compared by instance;
     * never seen outside ({@link #dnskey()}, {@link #topicId()}, {@link #dsSha256()},
     * {@link #dsSha384()}). {@link KeyAnalyzer} gives it for the DS texts of a key it analyses.
     */
    @SuppressWarnings("StringOperationCanBeSimplified") // a distinct instance on purpose
    static final String MADE_AGAIN = new String("");

    public KeyInfo {
        bits = Shared.number(bits);
        originalKeytag = Shared.number(originalKeytag);
        if (topicId != null && topicId != MADE_AGAIN && topicId.equals(Integer.toString(keytag))) {
            topicId = MADE_AGAIN;
        }
        if (dnskey != null && dnskey != MADE_AGAIN
                && dnskey.equals(presentation(zone, ttl, flags, algorithm, identity))) {
            dnskey = MADE_AGAIN;
        }
        if (dsSha256 != null && dsSha256 != MADE_AGAIN
                && dsSha256.equals(ds(zone, keytag, flags, algorithm, identity, SHA256))) {
            dsSha256 = MADE_AGAIN;
        }
        if (dsSha384 != null && dsSha384 != MADE_AGAIN
                && dsSha384.equals(ds(zone, keytag, flags, algorithm, identity, SHA384))) {
            dsSha384 = MADE_AGAIN;
        }
    }

    /** DS digest types (RFC 4509, RFC 6605). */
    private static final int SHA256 = 2;
    private static final int SHA384 = 4;

    @Override
    public String dsSha256() {
        return dsSha256 == MADE_AGAIN ? ds(zone, keytag, flags, algorithm, identity, SHA256) : dsSha256;
    }

    @Override
    public String dsSha384() {
        return dsSha384 == MADE_AGAIN ? ds(zone, keytag, flags, algorithm, identity, SHA384) : dsSha384;
    }

    /**
     * The DS RDATA for this key as dnsjava and {@code dnssec-dsfromkey} print it: tag, algorithm,
     * digest type, the digest in upper-case hex over the owner's canonical wire form and the DNSKEY
     * RDATA (RFC 4034 §5.1.4); null when the fields do not make a key or a name.
     */
    static String ds(String zone, int keytag, int flags, int algorithm, String identity, int digestType) {
        int colon = identity == null ? -1 : identity.indexOf(':');
        if (zone == null || colon < 0) {
            return null;
        }
        byte[] owner = canonicalWire(zone);
        if (owner == null) {
            return null;
        }
        byte[] key;
        try {
            key = java.util.Base64.getDecoder().decode(identity.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
        java.security.MessageDigest md = DIGESTS.get()[digestType == SHA256 ? 0 : 1];
        md.update(owner);
        md.update(new byte[] {(byte) (flags >> 8), (byte) flags, 3, (byte) algorithm});
        md.update(key);
        byte[] digest = md.digest();
        StringBuilder b = new StringBuilder(16 + 2 * digest.length)
                .append(keytag).append(' ').append(algorithm).append(' ').append(digestType).append(' ');
        for (byte x : digest) {
            b.append(HEX[(x >> 4) & 0xF]).append(HEX[x & 0xF]);
        }
        return b.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** SHA-256 and SHA-384 per thread: looking them up was half the time of a DS made again. */
    private static final ThreadLocal<java.security.MessageDigest[]> DIGESTS = ThreadLocal.withInitial(() -> {
        try {
            return new java.security.MessageDigest[] {
                java.security.MessageDigest.getInstance("SHA-256"), java.security.MessageDigest.getInstance("SHA-384")};
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256 or SHA-384", e);
        }
    });

    /**
     * {@code zone} (payload form, trailing dot or not) as a lower-case wire name (RFC 4034 §6.2);
     * written directly for plain names, through dnsjava's parser for escapes; null when no name.
     */
    static byte[] canonicalWire(String zone) {
        byte[] plain = plainWire(zone);
        if (plain != null) {
            return plain;
        }
        try {
            return org.xbill.DNS.Name.fromString(zone, org.xbill.DNS.Name.root).toWireCanonical();
        } catch (org.xbill.DNS.TextParseException e) {
            return null;
        }
    }

    /** A name of plain ASCII labels without escapes, lower-cased to wire form; else null. */
    private static byte[] plainWire(String zone) {
        int n = zone.length();
        if (zone.equals(".")) {
            return new byte[] {0};
        }
        if (n == 0 || n > 253 || zone.indexOf('\\') >= 0) {
            return null;
        }
        int end = zone.charAt(n - 1) == '.' ? n - 1 : n;
        byte[] w = new byte[end + 2];
        int start = 0;
        for (int i = 0; i <= end; i++) {
            char c = i == end ? '.' : zone.charAt(i);
            if (c == '.') {
                if (i == start || i - start > 63) {
                    return null;
                }
                w[start] = (byte) (i - start);
                start = i + 1;
            } else if (c > 0x7e || c <= ' ') {
                return null;
            } else {
                w[i + 1] = (byte) (c >= 'A' && c <= 'Z' ? c + 32 : c);
            }
        }
        return w; // the last byte, the root label, is 0
    }

    /** The last topic level under {@code keys/}: the key tag, or as given when it is not just that. */
    @Override
    public String topicId() {
        return topicId == MADE_AGAIN ? Integer.toString(keytag) : topicId;
    }

    /** The record in presentation format, as given (or as it was, made again from the key's fields). */
    @Override
    public String dnskey() {
        return dnskey == MADE_AGAIN ? presentation(zone, ttl, flags, algorithm, identity) : dnskey;
    }

    /**
     * The DNSKEY record's text as dnsjava prints it, from the zone (payload form), TTL, flags,
     * algorithm and {@code identity} ({@link KeyAnalyzer#identity}: algorithm, then the public key
     * in Base64), protocol 3 (RFC 4034 §2.1.2); null when these do not make a record.
     */
    static String presentation(String zone, long ttl, int flags, int algorithm, String identity) {
        int colon = identity == null ? -1 : identity.indexOf(':');
        if (zone == null || colon < 0 || zone.isEmpty()) {
            return null;
        }
        // Record.toString's layout, written directly: the constructor compares the given text
        // with this on every key made (a record built and printed each time was ~5 % of the
        // bridge's CPU in a 10,000-zone burst, JFR). Only a text equal to it is ever dropped, so
        // what dnskey() gives back is the text given, whatever dnsjava would print.
        StringBuilder b = new StringBuilder(zone.length() + identity.length() + 40).append(zone);
        if (zone.charAt(zone.length() - 1) != '.') {
            b.append('.');
        }
        if (b.length() < 8) {
            b.append('\t');
        }
        if (b.length() < 16) {
            b.append('\t');
        }
        return b.append('\t').append(ttl).append("\tIN\tDNSKEY\t").append(flags).append(" 3 ").append(algorithm)
                .append(' ').append(identity, colon + 1, identity.length()).toString();
    }

    /** What the key is for: RFC 4034 §2.1.1 SEP bit, and whether it also signs the zone data. */
    public enum Role { KSK, ZSK, CSK }

    /** {@code revoked}; {@code active} when it signs what its role signs; else {@code standby}. */
    public enum KeyState {
        ACTIVE, STANDBY, REVOKED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A SEP key (KSK or CSK): the kind a DS at the parent points at. */
    public boolean sep() {
        return role != Role.ZSK;
    }

    /** The same key with another topic level. */
    public KeyInfo withTopicId(String id) {
        return new KeyInfo(identity, id, dnskey, zone, keytag, flags, role, state, revoked, originalKeytag,
                algorithm, algorithmName, bits, ttl, dsSha256, dsSha384, firstSeen, cds, dsAtParent,
                addHolddownUntil, revokedAt, removeHolddownUntil);
    }

    /** The same key with what the zone's CDS/CDNSKEY and the parent's DS say of it. */
    public KeyInfo withPublication(boolean inCds, Boolean atParent) {
        return new KeyInfo(identity, topicId, dnskey, zone, keytag, flags, role, state, revoked, originalKeytag,
                algorithm, algorithmName, bits, ttl, dsSha256, dsSha384, firstSeen, inCds, atParent,
                addHolddownUntil, revokedAt, removeHolddownUntil);
    }

    /**
     * This key as a state line holds it ({@link ZoneState#stored()}): what is made again from the
     * key's other fields ({@code topicId}, {@code dnskey}, the DS texts) and {@code zone} when it is
     * the state's are left out (null); a text that is none where one would be made again is written
     * as {@code ""}. {@link #restored(String)} undoes it. Without them a state line is 30-40 %
     * shorter (micro.sh store), and neither writing nor reading it hashes the DS again.
     */
    public KeyInfo stored(String stateZone) {
        boolean dsMade = sep() && !revoked;
        return new KeyInfo(identity, storedText(topicId, true), storedText(dnskey, true),
                zone != null && zone.equals(stateZone) ? null : zone == null ? "" : zone, keytag, flags, role, state,
                revoked, originalKeytag, algorithm, algorithmName, bits, ttl, storedText(dsSha256, dsMade),
                storedText(dsSha384, dsMade), firstSeen, cds, dsAtParent, addHolddownUntil, revokedAt,
                removeHolddownUntil);
    }

    /** {@link #stored}: null for a text made again, "" for none where {@code madeWhenAbsent}. */
    private static String storedText(String text, boolean madeWhenAbsent) {
        return text == MADE_AGAIN ? null : text == null && madeWhenAbsent ? "" : text;
    }

    /** The key {@link #stored(String)} gave, read back from the line of a state of {@code stateZone}. */
    public KeyInfo restored(String stateZone) {
        boolean dsMade = sep() && !revoked;
        return new KeyInfo(identity, restoredText(topicId, true), restoredText(dnskey, true),
                zone == null ? stateZone : zone.isEmpty() ? null : zone, keytag, flags, role, state, revoked,
                originalKeytag, algorithm, algorithmName, bits, ttl, restoredText(dsSha256, dsMade),
                restoredText(dsSha384, dsMade), firstSeen, cds, dsAtParent, addHolddownUntil, revokedAt,
                removeHolddownUntil);
    }

    private static String restoredText(String text, boolean madeWhenAbsent) {
        return text == null ? madeWhenAbsent ? MADE_AGAIN : null : text.isEmpty() && madeWhenAbsent ? null : text;
    }

    /** {@code keys} by {@link #identity()}, in their order: how a check finds a key's previous self. */
    public static java.util.Map<String, KeyInfo> byIdentity(java.util.List<KeyInfo> keys) {
        java.util.Map<String, KeyInfo> m = new java.util.LinkedHashMap<>();
        for (KeyInfo k : keys) {
            m.put(k.identity(), k);
        }
        return m;
    }
}
