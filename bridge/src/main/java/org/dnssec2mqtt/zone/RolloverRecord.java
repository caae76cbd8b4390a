package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@link RolloverTimer} remembers of one zone between checks and across restarts: when each
 * DS at the parent was first seen, and per SEP key (by {@link KeyInfo#identity()}) which steps are
 * done and when the key left the DNSKEY set or was revoked. Absolute times only, so a restart
 * neither moves a timer nor repeats an event. Persist it with the zone's state (plain JSON: maps,
 * lists, records, ISO-8601 instants).
 *
 * @param parentCheckedAt the last check that got an answer for the parent's DS RRset; null = the
 *     parent side was never seen (no {@code dns.resolver}): then only {@code dnskey_propagated} applies
 * @param parentDs each DS of the parent's RRset as last seen, keyed by its RDATA as
 *     {@code dnssec-dsfromkey} prints it (upper-case hex)
 * @param keys the SEP keys followed, keyed by identity
 */
public record RolloverRecord(Instant parentCheckedAt, Map<String, SeenDs> parentDs, Map<String, TrackedKey> keys) {
    /** Nothing seen yet: a zone's first check, or a state file from before rollover timing. */
    public static final RolloverRecord EMPTY = new RolloverRecord(null, Map.of(), Map.of());

    public RolloverRecord {
        parentDs = parentDs == null ? Map.of() : Map.copyOf(parentDs);
        keys = keys == null ? Map.of() : Map.copyOf(keys);
    }

    /**
     * One DS at the parent.
     *
     * @param firstSeen the check that first saw it
     * @param ttl the largest TTL seen for it (a caching resolver counts the TTL down)
     */
    public record SeenDs(Instant firstSeen, long ttl) {}

    /**
     * One SEP key.
     *
     * @param keytag its tag as last served (after REVOKE the new tag)
     * @param originalKeytag the tag before REVOKE; null unless revoked
     * @param ttl its DNSKEY TTL as last served
     * @param goneAt when it was first seen revoked or first missing from the DNSKEY set; null while served unrevoked
     * @param steps what is done: {@link RolloverTimer#DS_SUBMIT_READY}, {@link RolloverTimer#DS_SEEN},
     *     {@link RolloverTimer#DS_PROPAGATED}, {@link RolloverTimer#DNSKEY_PROPAGATED}
     */
    public record TrackedKey(int keytag, Integer originalKeytag, long ttl, Instant goneAt, List<String> steps) {
        public TrackedKey {
            originalKeytag = Shared.number(originalKeytag);
            steps = steps == null ? List.of() : List.copyOf(steps);
        }

        boolean done(String step) {
            return steps.contains(step);
        }
    }
}
