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
        Instant firstSeen) {

    /** What the key is for: RFC 4034 §2.1.1 SEP bit, and whether it also signs the zone data. */
    public enum Role { KSK, ZSK, CSK }

    /** {@code revoked}; {@code active} when it signs what its role signs; else {@code standby}. */
    public enum KeyState {
        ACTIVE, STANDBY, REVOKED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The same key with another topic level. */
    public KeyInfo withTopicId(String id) {
        return new KeyInfo(identity, id, dnskey, zone, keytag, flags, role, state, revoked,
                originalKeytag, algorithm, algorithmName, bits, ttl, dsSha256, dsSha384, firstSeen);
    }

    /** The same key first seen at {@code at}. */
    public KeyInfo withFirstSeen(Instant at) {
        return new KeyInfo(identity, topicId, dnskey, zone, keytag, flags, role, state, revoked,
                originalKeytag, algorithm, algorithmName, bits, ttl, dsSha256, dsSha384, at);
    }
}
