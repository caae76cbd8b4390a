package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.List;

/**
 * What the bridge last knew of a zone: the keys and everything the latest checks found.
 * Persisted in the data directory and published (as a summary) on the zone's state topic.
 * Built by {@link ZoneEvaluator}; nullable fields are marked.
 *
 * @param zone the zone in payload form ({@link Zones#display}); {@link Zones#parse} reads it back
 * @param serial SOA serial of the last successful full check
 * @param server {@code host:port} whose answer the keys come from
 * @param checkedAt end of the latest check, successful or not
 * @param changedAt when the key set last changed (first sight counts)
 * @param reachable false while the latest check failed at every server
 * @param status {@code ok}, {@code warning} or {@code error}
 * @param problem one line saying what is wrong, most severe first; "" when nothing is
 * @param keys the keys of the last trusted answer, ordered by tag
 * @param validation {@code secure}, {@code bogus} or {@code unsigned}; null before the first answer
 * @param rrsigExpires earliest RRSIG expiration over the DNSKEY and SOA RRsets; nullable
 * @param rrsigAlert {@code ok}, {@code expiring} or {@code expired}
 * @param rrsigAlertedAt when the current non-ok alert was last announced; nullable
 * @param soaExpire the SOA expire field in seconds
 * @param serialChangedAt when the serial last moved (first sight counts)
 * @param stale true while the serial has not moved for longer than the configured share of the
 *     SOA expire
 * @param cds the zone's CDS records' RDATA (RFC 7344), sorted
 * @param cdnskey the zone's CDNSKEY records' RDATA, sorted
 * @param parentDs the DS RDATA the parent side serves, sorted; null when not asked or not known
 * @param dsValidated whether the DS answer carried the AD bit; null when not known
 * @param servers what each of the zone's servers answered in the latest check
 * @param dnskeyRrsigExpires earliest RRSIG expiration over the DNSKEY RRset alone; nullable (also
 *     null until the evaluator sets it: see {@link ZoneSnapshot#dnskeyRrsigExpires})
 * @param soaRrsigExpires earliest RRSIG expiration over the SOA RRset alone; nullable
 * @param signals rollover timing and the signer's signals; never null ({@link ZoneSignals#NONE}
 *     when a state file has none)
 * @param verified the signature over the DNSKEY RRset that verified in the latest full check
 *     ({@link Validator.Result#verified}): the next check takes the same bytes as verified without
 *     the public-key operation; null when none did, or not known (a state from before)
 */
public record ZoneState(
        String zone,
        long serial,
        String server,
        Instant checkedAt,
        Instant changedAt,
        boolean reachable,
        String status,
        String problem,
        List<KeyInfo> keys,
        String validation,
        Instant rrsigExpires,
        String rrsigAlert,
        Instant rrsigAlertedAt,
        long soaExpire,
        Instant serialChangedAt,
        boolean stale,
        List<String> cds,
        List<String> cdnskey,
        List<String> parentDs,
        Boolean dsValidated,
        List<ServerState> servers,
        Instant dnskeyRrsigExpires,
        Instant soaRrsigExpires,
        ZoneSignals signals,
        String verified) {

    public ZoneState {
        keys = List.copyOf(keys);
        // One copy of the few texts many zones hold alike (their server, "ok", no problem): with
        // 100,000 zones a copy of each per zone was ~100 bytes of every zone's heap.
        server = Shared.text(server);
        problem = problem == null || problem.isEmpty() ? "" : problem;
        status = status == null ? "ok" : Shared.text(status);
        validation = Shared.text(validation);
        rrsigAlert = rrsigAlert == null ? "ok" : Shared.text(rrsigAlert);
        cds = cds == null ? List.of() : List.copyOf(cds);
        cdnskey = cdnskey == null ? List.of() : List.copyOf(cdnskey);
        parentDs = parentDs == null ? null : List.copyOf(parentDs);
        servers = servers == null ? List.of() : List.copyOf(servers);
        signals = signals == null ? ZoneSignals.NONE : signals;
    }

    /** A state without a verified signature. */
    public ZoneState(String zone, long serial, String server, Instant checkedAt, Instant changedAt, boolean reachable,
                     String status, String problem, List<KeyInfo> keys, String validation, Instant rrsigExpires,
                     String rrsigAlert, Instant rrsigAlertedAt, long soaExpire, Instant serialChangedAt, boolean stale,
                     List<String> cds, List<String> cdnskey, List<String> parentDs, Boolean dsValidated,
                     List<ServerState> servers, Instant dnskeyRrsigExpires, Instant soaRrsigExpires,
                     ZoneSignals signals) {
        this(zone, serial, server, checkedAt, changedAt, reachable, status, problem, keys, validation, rrsigExpires,
                rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey, parentDs, dsValidated,
                servers, dnskeyRrsigExpires, soaRrsigExpires, signals, null);
    }

    /** A state without signals ({@link ZoneSignals#NONE}): what {@link ZoneEvaluator} builds; the checker adds them. */
    public ZoneState(String zone, long serial, String server, Instant checkedAt, Instant changedAt, boolean reachable,
                     String status, String problem, List<KeyInfo> keys, String validation, Instant rrsigExpires,
                     String rrsigAlert, Instant rrsigAlertedAt, long soaExpire, Instant serialChangedAt, boolean stale,
                     List<String> cds, List<String> cdnskey, List<String> parentDs, Boolean dsValidated,
                     List<ServerState> servers, Instant dnskeyRrsigExpires, Instant soaRrsigExpires) {
        this(zone, serial, server, checkedAt, changedAt, reachable, status, problem, keys, validation, rrsigExpires,
                rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey, parentDs, dsValidated,
                servers, dnskeyRrsigExpires, soaRrsigExpires, null);
    }

    /** A state without the per-RRset expiries (they stay null). */
    public ZoneState(String zone, long serial, String server, Instant checkedAt, Instant changedAt, boolean reachable,
                     String status, String problem, List<KeyInfo> keys, String validation, Instant rrsigExpires,
                     String rrsigAlert, Instant rrsigAlertedAt, long soaExpire, Instant serialChangedAt, boolean stale,
                     List<String> cds, List<String> cdnskey, List<String> parentDs, Boolean dsValidated,
                     List<ServerState> servers) {
        this(zone, serial, server, checkedAt, changedAt, reachable, status, problem, keys, validation, rrsigExpires,
                rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey, parentDs, dsValidated,
                servers, null, null, null);
    }

    /** A zone that never answered yet: no keys, just the failure. */
    public static ZoneState neverSeen(String zone, String server, Instant at, String why) {
        return new ZoneState(zone, 0, server, at, at, false, "error", why, List.of(), null, null, "ok", null,
                0, at, false, List.of(), List.of(), null, null, List.of());
    }

    /** The same state after a check that failed everywhere: keys kept, nothing retracted. */
    public ZoneState unreachable(Instant at, String why, List<ServerState> serverStates) {
        return new ZoneState(zone, serial, server, at, changedAt, false, "error", why, keys, validation,
                rrsigExpires, rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey,
                parentDs, dsValidated, serverStates, dnskeyRrsigExpires, soaRrsigExpires, signals, verified);
    }

    /**
     * This state as a state line holds it: each key {@link KeyInfo#stored(String) stored}, without
     * what is made again from its other fields. Read back with {@link #restored()}.
     */
    public ZoneState stored() {
        return withKeys(keys.stream().map(k -> k.stored(zone)).toList());
    }

    /** The state {@link #stored()} gave, read back. */
    public ZoneState restored() {
        return withKeys(keys.stream().map(k -> k.restored(zone)).toList());
    }

    private ZoneState withKeys(List<KeyInfo> newKeys) {
        return new ZoneState(zone, serial, server, checkedAt, changedAt, reachable, status, problem, newKeys,
                validation, rrsigExpires, rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey,
                parentDs, dsValidated, servers, dnskeyRrsigExpires, soaRrsigExpires, signals, verified);
    }

    /** The same state, checked at {@code at}. */
    public ZoneState withCheckedAt(Instant at) {
        return with(at, reachable, status, problem, rrsigAlert, rrsigAlertedAt, stale, servers);
    }

    /** The same state with other signals. */
    public ZoneState withSignals(ZoneSignals newSignals) {
        return new ZoneState(zone, serial, server, checkedAt, changedAt, reachable, status, problem, keys, validation,
                rrsigExpires, rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey, parentDs,
                dsValidated, servers, dnskeyRrsigExpires, soaRrsigExpires, newSignals, verified);
    }

    /** The same state with another status and problem line. */
    public ZoneState withStatus(String newStatus, String newProblem) {
        return new ZoneState(zone, serial, server, checkedAt, changedAt, reachable, newStatus, newProblem, keys,
                validation, rrsigExpires, rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey,
                parentDs, dsValidated, servers, dnskeyRrsigExpires, soaRrsigExpires, signals, verified);
    }

    /** The same state with the per-RRset signature expiries of {@code answer}. */
    public ZoneState withRrsigExpires(ZoneSnapshot answer) {
        return new ZoneState(zone, serial, server, checkedAt, changedAt, reachable, status, problem, keys, validation,
                rrsigExpires, rrsigAlert, rrsigAlertedAt, soaExpire, serialChangedAt, stale, cds, cdnskey, parentDs,
                dsValidated, servers, answer.dnskeyRrsigExpires(), answer.soaRrsigExpires(), signals, verified);
    }

    /** The same state with what a check found that does not touch the keys. */
    ZoneState with(Instant at, boolean isReachable, String newStatus, String newProblem, String newAlert,
                   Instant alertedAt, boolean isStale, List<ServerState> serverStates) {
        return new ZoneState(zone, serial, server, at, changedAt, isReachable, newStatus, newProblem, keys,
                validation, rrsigExpires, newAlert, alertedAt, soaExpire, serialChangedAt, isStale, cds, cdnskey,
                parentDs, dsValidated, serverStates, dnskeyRrsigExpires, soaRrsigExpires, signals, verified);
    }
}
