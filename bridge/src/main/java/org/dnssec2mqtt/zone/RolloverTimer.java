package org.dnssec2mqtt.zone;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.xbill.DNS.DSRecord;

/**
 * Rollover timing from observation alone, for any signer: when a new KSK's DS may be submitted,
 * when the parent's DS has reached resolvers, when a withdrawn KSK's DS may go. Pure: no I/O, the
 * time comes in as an argument, and everything remembered is in the {@link RolloverRecord} it
 * returns.
 *
 * <ul>
 *   <li>{@code ds_submit_ready} (priority 1): an unrevoked SEP key with no DS at the parent has been
 *       published for its DNSKEY TTL plus the margin (RFC 7583 §3.3.1: the new DNSKEY must be in
 *       resolvers' caches before the DS that points at it).
 *   <li>{@code ds_propagated}: the parent's DS for a key has been seen for the DS TTL plus the
 *       margin: resolvers have it, so the old KSK may be withdrawn (RFC 7583 §3.3.2).
 *   <li>{@code dnskey_propagated}: a SEP key left the DNSKEY set or was revoked, and that has aged
 *       past its DNSKEY TTL plus the margin: its DS at the parent may be removed.
 * </ul>
 * Each fires once per key and step, never before its time. The parent side needs an answer for the
 * DS RRset at least once ({@code dns.resolver}); without one only {@code dnskey_propagated} applies.
 * A key whose DS was ever seen at the parent never gets {@code ds_submit_ready} afterwards (an old
 * KSK whose DS is withdrawn first is not "ready to submit").
 */
public final class RolloverTimer {
    public static final String DS_SUBMIT_READY = "ds_submit_ready";
    /** A marker step without an event of its own here (the zone evaluation announces {@code ds_seen}). */
    public static final String DS_SEEN = "ds_seen";
    public static final String DS_PROPAGATED = "ds_propagated";
    public static final String DNSKEY_PROPAGATED = "dnskey_propagated";

    /**
     * @param record what to keep for the next call (persist it)
     * @param events what became due, in key order
     * @param nextDue when the next step falls due if nothing changes; null when none is pending.
     *     Call again then (with {@code parentDs} null when there is no new observation).
     * @param awaitingDsSubmit key tags waiting for {@code ds_submit_ready}
     * @param awaitingDsPropagation key tags whose DS is at the parent, waiting for {@code ds_propagated}
     * @param awaitingDnskeyPropagation key tags removed or revoked, waiting for {@code dnskey_propagated}
     */
    public record Result(RolloverRecord record, List<Event> events, Instant nextDue, List<Integer> awaitingDsSubmit,
                         List<Integer> awaitingDsPropagation, List<Integer> awaitingDnskeyPropagation) {}

    private final Duration margin;

    /** @param margin {@code rollover.margin} */
    public RolloverTimer(Duration margin) {
        this.margin = margin;
    }

    /**
     * @param zone the zone in payload form
     * @param keys the zone's keys as the latest check analysed them ({@link KeyAnalyzer})
     * @param parentDs the parent's DS RRset as this call's check saw it (empty = the parent has none);
     *     null when the parent was not asked or did not answer: the last known RRset counts then
     * @param before the record the previous call returned, or {@link RolloverRecord#EMPTY}
     */
    public Result evaluate(String zone, List<KeyInfo> keys, List<DSRecord> parentDs, RolloverRecord before,
                           Instant now) {
        Instant parentCheckedAt = parentDs == null ? before.parentCheckedAt() : now;
        Map<String, RolloverRecord.SeenDs> seenDs = parentDs == null ? before.parentDs() : seen(parentDs, before, now);
        Run run = new Run(zone, now);
        Map<String, RolloverRecord.TrackedKey> tracked = new TreeMap<>();

        Set<String> present = new HashSet<>();
        for (KeyInfo k : keys) {
            if (!k.sep() || !present.add(k.identity())) {
                continue;
            }
            RolloverRecord.TrackedKey was = before.keys().get(k.identity());
            List<String> steps = new ArrayList<>(was == null ? List.of() : was.steps());
            if (k.revoked()) {
                // RFC 5011 §2.1: a revoked key is withdrawn as a trust anchor; its DS may go like a removed key's
                Instant goneAt = was != null && was.goneAt() != null ? was.goneAt()
                        : k.revokedAt() != null ? k.revokedAt() : now;
                RolloverRecord.TrackedKey t = new RolloverRecord.TrackedKey(k.keytag(), k.originalKeytag(), k.ttl(), goneAt, steps);
                if (run.departed(t)) {
                    steps.add(DNSKEY_PROPAGATED);
                }
                tracked.put(k.identity(), new RolloverRecord.TrackedKey(k.keytag(), k.originalKeytag(), k.ttl(), goneAt, steps));
                continue;
            }
            if (parentCheckedAt != null) {
                List<RolloverRecord.SeenDs> ours = matching(k, seenDs);
                if (ours.isEmpty()) {
                    if (!steps.contains(DS_SUBMIT_READY) && !steps.contains(DS_SEEN)
                            && run.submitReady(k, k.firstSeen().plusSeconds(k.ttl()).plus(margin))) {
                        steps.add(DS_SUBMIT_READY);
                    }
                } else {
                    if (!steps.contains(DS_SEEN)) {
                        steps.add(DS_SEEN);
                    }
                    if (!steps.contains(DS_PROPAGATED) && run.dsPropagated(k, dsDue(ours))) {
                        steps.add(DS_PROPAGATED);
                    }
                }
            }
            tracked.put(k.identity(), new RolloverRecord.TrackedKey(k.keytag(), null, k.ttl(), null, steps));
        }
        // keys that left the DNSKEY set since the last call, or earlier and still waiting
        for (Map.Entry<String, RolloverRecord.TrackedKey> e : new TreeMap<>(before.keys()).entrySet()) {
            RolloverRecord.TrackedKey t = e.getValue();
            if (present.contains(e.getKey()) || t.done(DNSKEY_PROPAGATED)) {
                continue; // served, or announced: forgotten, so the record does not grow without bound
            }
            RolloverRecord.TrackedKey gone = t.goneAt() != null ? t
                    : new RolloverRecord.TrackedKey(t.keytag(), t.originalKeytag(), t.ttl(), now, t.steps());
            if (!run.departed(gone)) {
                tracked.put(e.getKey(), gone);
            }
        }
        return new Result(new RolloverRecord(parentCheckedAt, seenDs, tracked), run.events, run.next,
                run.awaitSubmit, run.awaitDs, run.awaitDnskey);
    }

    /** One evaluation's output so far: events that fell due, keys still waiting, the next due time. */
    private final class Run {
        final String zone;
        final Instant now;
        final List<Event> events = new ArrayList<>();
        final List<Integer> awaitSubmit = new ArrayList<>();
        final List<Integer> awaitDs = new ArrayList<>();
        final List<Integer> awaitDnskey = new ArrayList<>();
        Instant next;

        Run(String zone, Instant now) {
            this.zone = zone;
            this.now = now;
        }

        /** @return true when {@code due} has come (the event is added); else the key waits */
        private boolean due(Instant due, List<Integer> waiting, int keytag) {
            if (!now.isBefore(due)) {
                return true;
            }
            waiting.add(keytag);
            next = earlier(next, due);
            return false;
        }

        boolean submitReady(KeyInfo k, Instant due) {
            if (!due(due, awaitSubmit, k.keytag())) {
                return false;
            }
            String ds256 = k.dsSha256();
            events.add(Event.of(DS_SUBMIT_READY, zone, now)
                    .with("keytag", k.keytag())
                    .with("ds_sha256", ds256)
                    .with("ds_sha384", k.dsSha384())
                    .with("ready_at", due)
                    .text("Submit DS for " + zone + " now",
                            "submit DS " + ds256 + " for " + k.role() + " " + k.keytag() + " of " + zone
                                    + " at the parent now: the key has been published for its DNSKEY TTL plus the margin",
                            Event.HIGH));
            return true;
        }

        boolean dsPropagated(KeyInfo k, Instant due) {
            if (!due(due, awaitDs, k.keytag())) {
                return false;
            }
            events.add(Event.of(DS_PROPAGATED, zone, now)
                    .with("keytag", k.keytag())
                    .with("propagated_at", due)
                    .text("DS for " + zone + " has propagated",
                            "the parent's DS for " + k.role() + " " + k.keytag() + " of " + zone
                                    + " has been seen for its TTL plus the margin: resolvers have it;"
                                    + " the old KSK may be withdrawn", Event.NORMAL));
            return true;
        }

        /** {@code dnskey_propagated} for a key gone (removed or revoked) at {@code t.goneAt()}. */
        boolean departed(RolloverRecord.TrackedKey t) {
            Instant due = t.goneAt().plusSeconds(t.ttl()).plus(margin);
            if (t.done(DNSKEY_PROPAGATED) || !due(due, awaitDnskey, t.keytag())) {
                return false;
            }
            boolean revoked = t.originalKeytag() != null;
            events.add(Event.of(DNSKEY_PROPAGATED, zone, now)
                    .with("keytag", t.keytag())
                    .with("original_keytag", t.originalKeytag())
                    .with("propagated_at", due)
                    .text("Old KSK of " + zone + " has propagated",
                            "KSK " + (revoked ? t.originalKeytag() + " (revoked, now " + t.keytag() + ")" : t.keytag())
                                    + " of " + zone + (revoked ? " was revoked" : " left the DNSKEY set")
                                    + " longer ago than its DNSKEY TTL plus the margin: its DS at the parent may be removed",
                            Event.NORMAL));
            return true;
        }
    }

    /** The DS entries at the parent that point at {@code k}. */
    private static List<RolloverRecord.SeenDs> matching(KeyInfo k, Map<String, RolloverRecord.SeenDs> seen) {
        List<RolloverRecord.SeenDs> out = new ArrayList<>();
        String ds256 = k.dsSha256(); // made again on each call: once each
        if (ds256 == null) {
            return out;
        }
        String sha256 = normalize(ds256);
        String sha384 = normalize(k.dsSha384());
        for (Map.Entry<String, RolloverRecord.SeenDs> e : seen.entrySet()) {
            String ds = e.getKey();
            String[] f = ds.split(" ");
            boolean otherDigest = f.length == 4 && !f[2].equals("2") && !f[2].equals("4");
            // a digest type we did not compute (SHA-1, GOST) counts as this key's when tag and algorithm match
            if (ds.equals(sha256) || ds.equals(sha384) || otherDigest
                    && f[0].equals(String.valueOf(k.keytag())) && f[1].equals(String.valueOf(k.algorithm()))) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /** From the first sighting of the key's DS, its largest TTL plus the margin. */
    private Instant dsDue(List<RolloverRecord.SeenDs> ours) {
        Instant first = null;
        long ttl = 0;
        for (RolloverRecord.SeenDs s : ours) {
            first = earlier(first, s.firstSeen());
            ttl = Math.max(ttl, s.ttl());
        }
        return first.plusSeconds(ttl).plus(margin);
    }

    /** The DS RRset as seen now, keeping first-seen times and the largest TTL of DS seen before. */
    private static Map<String, RolloverRecord.SeenDs> seen(List<DSRecord> parentDs, RolloverRecord before, Instant now) {
        Map<String, RolloverRecord.SeenDs> out = new LinkedHashMap<>();
        for (DSRecord ds : parentDs) {
            String key = normalize(ds.rdataToString());
            RolloverRecord.SeenDs was = out.containsKey(key) ? out.get(key) : before.parentDs().get(key);
            out.put(key, was == null ? new RolloverRecord.SeenDs(now, ds.getTTL())
                    : new RolloverRecord.SeenDs(was.firstSeen(), Math.max(was.ttl(), ds.getTTL())));
        }
        return out;
    }

    /** Upper-case hex, single spaces: {@code dnssec-dsfromkey}'s form. */
    static String normalize(String ds) {
        return ds.trim().replaceAll("\\s+", " ").toUpperCase(Locale.ROOT);
    }

    private static Instant earlier(Instant a, Instant b) {
        return a == null || b.isBefore(a) ? b : a;
    }
}
