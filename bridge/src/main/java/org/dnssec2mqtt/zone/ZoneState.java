package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.List;

/**
 * What the bridge last knew of a zone: the keys and the outcome of the latest check. Persisted
 * in the data directory and published (as a summary) on the zone's state topic.
 *
 * @param zone the zone in payload form ({@link Zones#display}); {@link Zones#parse} reads it back
 * @param serial SOA serial of the last successful full check
 * @param server {@code host:port} that answered last
 * @param checkedAt end of the latest check, successful or not
 * @param changedAt when the key set last changed (first sight counts)
 * @param reachable false while the latest check failed
 * @param problem why the latest check failed, or what is wrong with the keys; "" when nothing is
 * @param keys the keys of the last successful check, ordered by tag
 */
public record ZoneState(
        String zone,
        long serial,
        String server,
        Instant checkedAt,
        Instant changedAt,
        boolean reachable,
        String problem,
        List<KeyInfo> keys) {

    public ZoneState {
        keys = List.copyOf(keys);
        problem = problem == null ? "" : problem;
    }

    /** {@code ok}, {@code warning} or {@code error}, folded from reachability and the keys. */
    public String status() {
        if (!reachable) {
            return "error";
        }
        return problem.isEmpty() ? "ok" : "warning";
    }

    /** The same state after a failed check: keys kept (a server being down retracts nothing). */
    public ZoneState unreachable(Instant at, String why) {
        return new ZoneState(zone, serial, server, at, changedAt, false, why, keys);
    }

    /** What looks wrong with a key set, or "" (used for {@code warning}). */
    public static String keyProblem(List<KeyInfo> keys) {
        if (keys.isEmpty()) {
            return "no DNSKEY records";
        }
        boolean signsKeys = false;
        boolean signsZone = false;
        for (KeyInfo k : keys) {
            if (k.state() != KeyInfo.KeyState.ACTIVE) {
                continue;
            }
            signsKeys |= k.role() != KeyInfo.Role.ZSK;
            signsZone |= k.role() != KeyInfo.Role.KSK;
        }
        if (!signsKeys) {
            return "no active KSK signs the DNSKEY RRset";
        }
        if (!signsZone) {
            return "no active ZSK signs the SOA RRset";
        }
        return "";
    }
}
