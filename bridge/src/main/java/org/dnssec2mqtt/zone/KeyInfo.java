package org.dnssec2mqtt.zone;

import java.time.Instant;

/**
 * Everything the bridge knows about one DNSKEY. The payload fields are those of the public
 * contract; {@code identity}, {@code topicId} and {@code dnskey} are bookkeeping that never
 * reaches a key payload.
 *
 * @param identity algorithm and public key: what stays the same when REVOKE changes the tag
 * @param topicId the last topic level under {@code keys/}: the key tag, or the tag with a
 *     suffix when two keys share a tag (see {@link KeyAnalyzer#assignTopics})
 * @param dnskey the record in presentation format, for the key log
 * @param originalKeytag the tag before REVOKE was set; null unless revoked
 * @param dsSha256 DS RDATA as {@code dnssec-dsfromkey} prints it; null unless an unrevoked SEP key
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

    /** {@code keys} by {@link #identity()}, in their order: how a check finds a key's previous self. */
    public static java.util.Map<String, KeyInfo> byIdentity(java.util.List<KeyInfo> keys) {
        java.util.Map<String, KeyInfo> m = new java.util.LinkedHashMap<>();
        for (KeyInfo k : keys) {
            m.put(k.identity(), k);
        }
        return m;
    }
}
