package org.dnssec2mqtt.zone;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.dnssec2mqtt.Serials;
import org.xbill.DNS.CDNSKEYRecord;
import org.xbill.DNS.CDSRecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Record;

/**
 * Everything a check concludes, as a new {@link ZoneState} and the events that go with it:
 * key changes, validation, signature expiry, CDS/CDNSKEY, the parent's DS, lagging servers and
 * staleness, folded into one status and problem line. Pure: no I/O, time passed in.
 */
public final class ZoneEvaluator {
    private ZoneEvaluator() {}

    /**
     * @param warnDays {@code rrsig.warn-days}: expiring below this many days
     * @param reminder {@code rrsig.reminder}: repeat an expiring/expired event this often
     * @param staleShare {@code poll.stale-share}: stale when the serial has not moved for this
     *     share of the SOA expire; 0 = never
     */
    public record Settings(double warnDays, Duration reminder, double staleShare) {
        public static final Settings DEFAULTS = new Settings(7, Duration.ofDays(1), 0.5);
    }

    /** The parent side's DS RRset and whether it came validated (AD). */
    public record ParentDs(List<DSRecord> records, boolean validated) {}

    /**
     * What one full check saw: the trusted answer, every server, and the parent's DS (nullable);
     * {@code zone}: the zone's name in payload form as the bridge already holds it (its tracked
     * zone's), for the state to share on its first check; null when none.
     */
    public record Observation(ZoneSnapshot answer, List<ServerState> servers, ParentDs parentDs, String zone) {
        public Observation(ZoneSnapshot answer, List<ServerState> servers, ParentDs parentDs) {
            this(answer, servers, parentDs, null);
        }
    }

    /** The new state, its events, and the keys before (for clearing topics). */
    public record Outcome(ZoneState state, List<Event> events, List<KeyInfo> keysBefore) {
        public boolean keysChanged() {
            return !state.keys().equals(keysBefore);
        }
    }

    /**
     * A full check that got an answer.
     *
     * @param before the previous state, null on first sight
     * @param confirmed whether {@code before} holds keys from a trusted answer (else this is first sight)
     */
    public static Outcome full(ZoneState before, boolean confirmed, Observation obs, Settings settings, Instant now) {
        return full(before, confirmed, obs, settings, now, new Validator());
    }

    /** {@link #full} with the checker's {@link Validator} (it counts the signatures it verifies). */
    public static Outcome full(ZoneState before, boolean confirmed, Observation obs, Settings settings, Instant now,
                               Validator validator) {
        ZoneSnapshot a = obs.answer();
        String display = Zones.display(a.zone());
        // one copy of the name for the state and its keys, the same from check to check and the
        // tracked zone's (100,000 zones: ~10 MiB a copy)
        String zone = before != null && display.equals(before.zone()) ? before.zone()
                : display.equals(obs.zone()) ? obs.zone() : display;
        List<Event> events = new ArrayList<>();
        List<KeyInfo> oldKeys = confirmed ? before.keys() : List.of();
        // the signature the zone's previous check verified: not verified again (a restart neither)
        Validator.Result v = validator.check(a, now, before == null ? null : before.verified());
        boolean bogus = v.result().equals("bogus");

        List<KeyInfo> keys;
        long serial;
        boolean wasBogus = before != null && "bogus".equals(before.validation());
        if (bogus) {
            // A bogus answer (spoofed, broken, or expired) never retracts or replaces keys.
            keys = oldKeys;
            serial = confirmed ? before.serial() : 0;
            // Also when only the signatures' validity period is the cause (rrsig_expired says that
            // too): the condition is "does not validate", and dnskey_valid must have its start.
            if (!wasBogus) {
                events.add(Event.of("dnskey_bogus", zone, now)
                        .with("server", a.server())
                        .with("error", v.problem())
                        .text("DNSSEC answer for " + zone + " does not validate",
                                zone + " at " + a.server() + ": " + v.problem() + "; keys left as they were",
                                Event.HIGH));
            }
        } else {
            keys = mark(KeyAnalyzer.analyze(a, zone, oldKeys, now), a, obs.parentDs());
            serial = a.serial();
            if (wasBogus) {
                events.add(Event.of("dnskey_valid", zone, now)
                        .with("server", a.server())
                        .with("validation", v.result())
                        .text("DNSSEC answer for " + zone + " validates again",
                                v.result().equals("secure") ? zone + " at " + a.server() + " validates again"
                                        : zone + " at " + a.server() + " is no longer bogus: it has no DNSKEY records",
                                Event.NORMAL));
            }
            events.addAll(ZoneDiff.compare(zone, confirmed ? oldKeys : null, keys, now));
        }

        if (before != null && !before.reachable()) {
            events.add(recovered(zone, a.server(), now));
        }

        List<String> cds = sorted(a.cds());
        List<String> cdnskey = sorted(a.cdnskey());
        if (confirmed && !bogus && (!cds.equals(before.cds()) || !cdnskey.equals(before.cdnskey()))) {
            List<Integer> tags = keys.stream().filter(KeyInfo::cds).map(KeyInfo::keytag).toList();
            boolean delete = isDelete(a.cds(), a.cdnskey());
            events.add(Event.of("cds_changed", zone, now)
                    .with("cds_keytags", tags)
                    .with("cds_delete", delete)
                    .text("CDS/CDNSKEY changed in " + zone,
                            delete ? zone + " asks its parent to remove the DS RRset (RFC 8078 delete)"
                                    : cds.isEmpty() && cdnskey.isEmpty()
                                    ? zone + " no longer publishes CDS/CDNSKEY"
                                    : zone + " asks its parent for DS pointing at key(s) " + tags,
                            Event.NORMAL));
        }

        List<String> parentDs = before == null ? null : before.parentDs();
        Boolean dsValidated = before == null ? null : before.dsValidated();
        if (obs.parentDs() != null && !bogus) {
            parentDs = sorted(obs.parentDs().records());
            dsValidated = obs.parentDs().validated();
            events.addAll(dsEvents(zone, before, confirmed, keys, obs.parentDs(), now));
        }

        boolean serialMoved = before == null || before.serial() != serial || before.serialChangedAt() == null;
        Instant serialChangedAt = serialMoved ? now : before.serialChangedAt();
        boolean keysChanged = !confirmed || !keys.equals(oldKeys);
        Instant changedAt = keysChanged || before == null ? now : before.changedAt();
        ZoneState draft = new ZoneState(zone, serial, a.server(), now, changedAt, true, "ok", "", keys,
                v.result(), v.earliestExpiry(), before == null ? "ok" : before.rrsigAlert(),
                before == null ? null : before.rrsigAlertedAt(), a.soaExpire(), serialChangedAt,
                before != null && before.stale(), cds, cdnskey, parentDs, dsValidated, obs.servers(),
                a.dnskeyRrsigExpires(), a.soaRrsigExpires(), null, v.verified());
        return finish(draft, before, events, v, settings, now);
    }

    /** A quick SOA check found the serial unchanged everywhere: only time-driven alerts move. */
    public static Outcome quick(ZoneState before, List<ServerState> servers, Settings settings, Instant now) {
        List<Event> events = new ArrayList<>();
        if (!before.reachable()) {
            events.add(recovered(before.zone(), before.server(), now));
        }
        ZoneState draft = before.with(now, true, "ok", "", before.rrsigAlert(), before.rrsigAlertedAt(),
                before.stale(), servers);
        Validator.Result v = new Validator.Result(before.validation() == null ? "unsigned" : before.validation(),
                "bogus".equals(before.validation()) ? "DNSKEY answer did not validate at the last full check" : "",
                false, before.rrsigExpires());
        return finish(draft, before, events, v, settings, now);
    }

    /** Every server failed: keys kept, one {@code zone_unreachable} on the transition. */
    public static Outcome unreachable(String zone, ZoneState before, String server, String error,
                                      List<ServerState> servers, Instant now) {
        String why = server + ": " + error;
        ZoneState after = before == null ? ZoneState.neverSeen(zone, server, now, why)
                : before.unreachable(now, why, lagging(servers, before, before.serial()));
        List<Event> events = new ArrayList<>();
        if (before == null || before.reachable()) {
            events.add(Event.of("zone_unreachable", zone, now)
                    .with("server", server)
                    .with("error", error)
                    .text("DNS zone " + zone + " unreachable", "cannot check " + zone + ": " + why, Event.HIGH));
        }
        return new Outcome(after, events, before == null ? List.of() : before.keys());
    }

    // ---- the parts --------------------------------------------------------------------------

    /** The zone answers again after {@code zone_unreachable}. */
    private static Event recovered(String zone, String server, Instant now) {
        return Event.of("zone_recovered", zone, now)
                .with("server", server)
                .text("DNS zone " + zone + " reachable again", zone + " answers again at " + server, Event.NORMAL);
    }

    /** Marks each key with what the CDS/CDNSKEY RRsets and the parent's DS say of it. */
    static List<KeyInfo> mark(List<KeyInfo> keys, ZoneSnapshot a, ParentDs parent) {
        List<KeyInfo> out = new ArrayList<>(keys.size());
        for (KeyInfo k : keys) {
            DNSKEYRecord key = findKey(a, k);
            boolean inCds = key != null && (matchesCds(key, a.cds()) || matchesCdnskey(key, a.cdnskey()));
            Boolean atParent = k.dsAtParent();
            if (parent != null) {
                atParent = k.sep() && !k.revoked() && key != null ? matchesDs(key, parent.records()) : null;
            }
            out.add(k.withPublication(inCds, atParent));
        }
        return out;
    }

    private static List<Event> dsEvents(String zone, ZoneState before, boolean confirmed, List<KeyInfo> keys,
                                        ParentDs parent, Instant now) {
        List<Event> events = new ArrayList<>();
        boolean knewDs = confirmed && before.parentDs() != null;
        java.util.Map<String, KeyInfo> old = new java.util.HashMap<>();
        if (confirmed) {
            for (KeyInfo k : before.keys()) {
                old.put(k.identity(), k);
            }
        }
        for (KeyInfo k : keys) {
            if (k.dsAtParent() == null) {
                continue;
            }
            KeyInfo was = old.get(k.identity());
            Boolean had = was == null ? null : was.dsAtParent();
            if (knewDs && k.dsAtParent() && !Boolean.TRUE.equals(had)) {
                events.add(Event.of("ds_seen", zone, now).with("keytag", k.keytag()).with("role", k.role().name())
                        .text("DS for " + zone + " at the parent", "the parent now has a DS for " + k.role() + " "
                                + k.keytag() + " of " + zone, Event.NORMAL));
            } else if (knewDs && !k.dsAtParent() && Boolean.TRUE.equals(had)) {
                events.add(Event.of("ds_gone", zone, now).with("keytag", k.keytag()).with("role", k.role().name())
                        .text("DS for " + zone + " gone from the parent", "the parent no longer has a DS for "
                                + k.role() + " " + k.keytag() + " of " + zone, Event.NORMAL));
            }
            boolean missing = !k.dsAtParent() && k.state() == KeyInfo.KeyState.ACTIVE;
            boolean wasMissing = had != null && !had && was.state() == KeyInfo.KeyState.ACTIVE;
            if (missing && !wasMissing) {
                events.add(Event.of("ds_missing", zone, now).with("keytag", k.keytag()).with("role", k.role().name())
                        .text("No DS for active " + k.role() + " of " + zone, k.role() + " " + k.keytag() + " of " + zone
                                + " signs the DNSKEY RRset but the parent has no DS for it", Event.NORMAL));
            }
        }
        Set<String> wereOrphans = new HashSet<>(orphans(before == null || before.parentDs() == null ? List.of()
                : before.parentDs(), before == null ? List.of() : before.keys()));
        List<String> atParent = sorted(parent.records());
        Set<String> orphansNow = new HashSet<>(orphans(atParent, keys));
        for (String ds : orphans(atParent, keys)) {
            if (!wereOrphans.contains(ds) || !knewDs) {
                events.add(Event.of("ds_orphan", zone, now).with("ds", ds).with("keytag", dsTag(ds))
                        .text("DS at the parent matches no key of " + zone,
                                "the parent's DS " + ds + " matches no DNSKEY of " + zone
                                        + "; the chain breaks when the last matching key goes", Event.HIGH));
            }
        }
        if (knewDs) {
            for (String ds : new java.util.TreeSet<>(wereOrphans)) {
                if (!orphansNow.contains(ds)) {
                    events.add(Event.of("ds_orphan_gone", zone, now).with("ds", ds).with("keytag", dsTag(ds))
                            .text("DS at the parent of " + zone + " no longer orphaned", atParent.contains(ds)
                                    ? "the parent's DS " + ds + " matches a DNSKEY of " + zone + " again"
                                    : "the parent no longer has the DS " + ds + " that matched no key of " + zone,
                                    Event.NORMAL));
                }
            }
        }
        return events;
    }

    /** DS RDATA at the parent that match no unrevoked key of the zone. */
    public static List<String> orphanDs(List<String> parentDs, List<KeyInfo> keys) {
        return orphans(parentDs, keys);
    }

    static List<String> orphans(List<String> parentDs, List<KeyInfo> keys) {
        Set<String> ours = new HashSet<>();
        for (KeyInfo k : keys) {
            String ds256 = k.dsSha256(); // made again on each call: once each
            if (ds256 != null) {
                ours.add(normalize(ds256));
                ours.add(normalize(k.dsSha384()));
            }
        }
        List<String> out = new ArrayList<>();
        for (String ds : parentDs) {
            if (!ours.contains(normalize(ds)) && !matchesByTagOnly(ds, keys)) {
                out.add(ds);
            }
        }
        return out;
    }

    /** A DS with a digest type we did not compute (SHA-1, GOST) counts as ours when tag and algorithm match. */
    private static boolean matchesByTagOnly(String ds, List<KeyInfo> keys) {
        String[] f = ds.split(" ");
        if (f.length < 4 || f[2].equals("2") || f[2].equals("4")) {
            return false;
        }
        for (KeyInfo k : keys) {
            if (k.sep() && !k.revoked() && String.valueOf(k.keytag()).equals(f[0])
                    && String.valueOf(k.algorithm()).equals(f[1])) {
                return true;
            }
        }
        return false;
    }

    private static String normalize(String ds) {
        return ds.toUpperCase(Locale.ROOT).replace(" ", "");
    }

    private static Integer dsTag(String ds) {
        try {
            return Integer.parseInt(ds.split(" ")[0]);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static DNSKEYRecord findKey(ZoneSnapshot a, KeyInfo k) {
        for (DNSKEYRecord r : a.keys()) {
            if (r.getFootprint() == k.keytag() && KeyAnalyzer.identity(r).equals(k.identity())) {
                return r;
            }
        }
        return null;
    }

    static boolean matchesDs(DNSKEYRecord key, List<? extends DSRecord> records) {
        for (DSRecord ds : records) {
            if (ds.getFootprint() != key.getFootprint() || ds.getAlgorithm() != key.getAlgorithm()) {
                continue;
            }
            try {
                DSRecord ours = new DSRecord(key.getName(), DClass.IN, 0, ds.getDigestID(), key);
                if (java.util.Arrays.equals(ours.getDigest(), ds.getDigest())) {
                    return true;
                }
            } catch (IllegalArgumentException e) {
                // a digest type dnsjava cannot compute (GOST): trust tag and algorithm (RFC 4509 §3 says prefer SHA-256)
                return true;
            }
        }
        return false;
    }

    private static boolean matchesCds(DNSKEYRecord key, List<CDSRecord> cds) {
        return matchesDs(key, cds);
    }

    private static boolean matchesCdnskey(DNSKEYRecord key, List<CDNSKEYRecord> cdnskey) {
        for (CDNSKEYRecord c : cdnskey) {
            if (c.getAlgorithm() == key.getAlgorithm() && java.util.Arrays.equals(c.getKey(), key.getKey())) {
                return true;
            }
        }
        return false;
    }

    /** RFC 8078 §4: {@code CDS 0 0 0 00} / {@code CDNSKEY 0 3 0 AA==} ask for removal of the DS. */
    static boolean isDelete(List<CDSRecord> cds, List<CDNSKEYRecord> cdnskey) {
        for (CDSRecord c : cds) {
            if (c.getAlgorithm() == 0) {
                return true;
            }
        }
        for (CDNSKEYRecord c : cdnskey) {
            if (c.getAlgorithm() == 0) {
                return true;
            }
        }
        return false;
    }

    private static List<String> sorted(List<? extends Record> records) {
        Set<String> out = new LinkedHashSet<>();
        for (Record r : records) {
            out.add(r.rdataToString());
        }
        List<String> list = new ArrayList<>(out);
        list.sort(null);
        return list;
    }

    /**
     * The time-driven parts (expiry alerts, staleness, lagging servers) and the fold of every
     * finding into one status and problem line.
     */
    private static Outcome finish(ZoneState draft, ZoneState before, List<Event> events, Validator.Result v,
                                  Settings settings, Instant now) {
        String zone = draft.zone();
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();

        if ("bogus".equals(v.result())) {
            errors.add(v.expiredOnly() ? "signatures out of their validity period: " + v.problem()
                    : "DNSKEY answer does not validate: " + v.problem());
        }

        // Signature expiry: an event on each transition, again after the reminder interval.
        String alert = draft.rrsigAlert();
        Instant alertedAt = draft.rrsigAlertedAt();
        Instant expires = draft.rrsigExpires();
        if (expires != null) {
            double days = daysLeft(expires, now);
            String level = days < 0 ? "expired" : days < settings.warnDays() ? "expiring" : "ok";
            boolean remind = !level.equals("ok") && level.equals(alert) && alertedAt != null
                    && !now.isBefore(alertedAt.plus(settings.reminder()));
            if (!level.equals(alert) || remind) {
                if (level.equals("ok")) {
                    events.add(Event.of("rrsig_ok", zone, now).with("rrsig_expires", expires)
                            .with("rrsig_days_left", round(days))
                            .text("Signatures of " + zone + " fine again", "the earliest RRSIG of " + zone
                                    + " now expires in " + round(days) + " days", Event.NORMAL));
                    alertedAt = null;
                } else {
                    boolean expired = level.equals("expired");
                    events.add(Event.of(expired ? "rrsig_expired" : "rrsig_expiring", zone, now)
                            .with("rrsig_expires", expires)
                            .with("rrsig_days_left", round(days))
                            .with("reminder", remind)
                            .text(expired ? "Signatures of " + zone + " EXPIRED" : "Signatures of " + zone + " expiring",
                                    expired ? "the DNSKEY or SOA signatures of " + zone + " expired at " + expires
                                            + ": validating resolvers see the zone as bogus; re-sign it now"
                                            : "the earliest DNSKEY/SOA signature of " + zone + " expires in "
                                            + round(days) + " days (" + expires + "); is the signer running?",
                                    Event.HIGH));
                    alertedAt = now;
                }
                alert = level;
            }
            if (level.equals("expired")) {
                errors.add("signatures expired at " + expires);
            } else if (level.equals("expiring")) {
                warnings.add("signatures expire in " + round(days) + " days");
            } else if (draft.soaExpire() > 0 && expires.isBefore(now.plusSeconds(draft.soaExpire()))) {
                // A secondary may serve this zone until SOA expire after losing its primary:
                // signatures that end sooner turn the zone bogus on such a secondary.
                warnings.add("signatures expire in " + round(days) + " days, sooner than the SOA expire ("
                        + round(draft.soaExpire() / 86400.0) + " days)");
            }
        } else if (!"ok".equals(alert)) {
            // the zone has no DNSKEY/SOA signatures any more (unsigned): nothing left to expire
            events.add(Event.of("rrsig_ok", zone, now)
                    .text("Signatures of " + zone + " fine again", zone + " has no DNSKEY or SOA signatures left"
                            + " to expire", Event.NORMAL));
            alert = "ok";
            alertedAt = null;
        }

        // Staleness: the serial has not moved for longer than a share of the SOA expire.
        boolean stale = settings.staleShare() > 0 && draft.soaExpire() > 0 && draft.serialChangedAt() != null
                && now.isAfter(draft.serialChangedAt().plusSeconds((long) (draft.soaExpire() * settings.staleShare())));
        if (stale && !draft.stale()) {
            events.add(Event.of("zone_stale", zone, now)
                    .with("serial", draft.serial())
                    .with("serial_changed_at", draft.serialChangedAt())
                    .text("DNS zone " + zone + " stale", "the serial of " + zone + " (" + draft.serial()
                            + ") has not moved since " + draft.serialChangedAt()
                            + "; are NOTIFYs and transfers from the primary working?", Event.HIGH));
        }
        if (!stale && draft.stale()) {
            boolean moved = before != null && before.serialChangedAt() != null && draft.serialChangedAt() != null
                    && draft.serialChangedAt().isAfter(before.serialChangedAt());
            events.add(Event.of("zone_fresh", zone, now)
                    .with("serial", draft.serial())
                    .with("serial_changed_at", draft.serialChangedAt())
                    .text("DNS zone " + zone + " fresh again", moved
                            ? "the serial of " + zone + " moved to " + draft.serial() + ": updates from the primary arrive again"
                            : zone + " no longer counts as stale (serial " + draft.serial() + " since "
                                    + draft.serialChangedAt() + "; poll.stale-share or the SOA expire changed)",
                            Event.NORMAL));
        }
        if (stale) {
            warnings.add("serial " + draft.serial() + " unchanged since " + draft.serialChangedAt());
        }

        // Servers: lagging ones get one event on the transition, and a warning while they lag.
        Set<String> wasLagging = new HashSet<>();
        if (before != null) {
            for (ServerState s : before.servers()) {
                if (s.lagging()) {
                    wasLagging.add(s.server());
                }
            }
        }
        List<ServerState> servers = lagging(draft.servers(), before, draft.serial());
        long highest = newestServed(servers, draft.serial());
        Set<String> asked = new HashSet<>();
        for (ServerState s : servers) {
            asked.add(s.server());
            if (!s.reachable()) {
                warnings.add("server " + s.server() + " does not answer (" + s.error() + ")");
            } else if (s.lagging()) {
                warnings.add("server " + s.server() + " serves serial " + s.serial()
                        + (Serials.newer(highest, s.serial()) ? " (expected " + highest + ")" : " with other keys"));
                if (!wasLagging.contains(s.server())) {
                    events.add(Event.of("server_lagging", zone, now)
                            .with("server", s.server())
                            .with("serial", s.serial())
                            .with("expected_serial", highest)
                            .with("keys_match", s.keysMatch())
                            .text("Server lagging for " + zone, s.server() + " serves " + zone + " at serial "
                                    + s.serial() + ", expected " + highest
                                    + (s.keysMatch() ? "" : ", with a different DNSKEY RRset"), Event.HIGH));
                }
            } else if (wasLagging.contains(s.server())) {
                events.add(Event.of("server_synced", zone, now)
                        .with("server", s.server())
                        .with("serial", s.serial())
                        .text("Server in sync for " + zone, s.server() + " serves " + zone + " at serial "
                                + s.serial() + " again", Event.NORMAL));
            }
        }
        if (!servers.isEmpty()) { // an empty list says nothing about the servers (no server was asked)
            for (String gone : new java.util.TreeSet<>(wasLagging)) {
                if (!asked.contains(gone)) {
                    events.add(Event.of("server_synced", zone, now)
                            .with("server", gone)
                            .text("Server in sync for " + zone, gone + " is no longer asked for " + zone
                                    + " (not among its servers any more)", Event.NORMAL));
                }
            }
        }

        // The parent's DS.
        if (draft.parentDs() != null) {
            List<String> orphans = orphans(draft.parentDs(), draft.keys());
            if (!draft.parentDs().isEmpty() && orphans.size() == draft.parentDs().size() && !draft.keys().isEmpty()) {
                errors.add("no DS at the parent matches a DNSKEY: validators see the zone as bogus");
            } else if (!orphans.isEmpty()) {
                warnings.add("DS at the parent without a key: " + String.join(", ", orphans));
            }
            for (KeyInfo k : draft.keys()) {
                if (Boolean.FALSE.equals(k.dsAtParent()) && k.state() == KeyInfo.KeyState.ACTIVE) {
                    warnings.add("no DS at the parent for active " + k.role() + " " + k.keytag());
                }
            }
        }

        if (!"bogus".equals(v.result())) {
            String keyProblem = keyProblem(draft.keys());
            if (!keyProblem.isEmpty()) {
                warnings.add(keyProblem);
            }
        }

        String status = !errors.isEmpty() ? "error" : !warnings.isEmpty() ? "warning" : "ok";
        List<String> all = new ArrayList<>(errors);
        all.addAll(warnings);
        ZoneState after = new ZoneState(zone, draft.serial(), draft.server(), draft.checkedAt(), draft.changedAt(),
                true, status, String.join("; ", all), draft.keys(), draft.validation(), expires, alert, alertedAt,
                draft.soaExpire(), draft.serialChangedAt(), stale, draft.cds(), draft.cdnskey(), draft.parentDs(),
                draft.dsValidated(), servers, draft.dnskeyRrsigExpires(), draft.soaRrsigExpires(), null, draft.verified());
        return new Outcome(after, events, before == null ? List.of() : before.keys());
    }

    /** The newest serial the answering servers serve (RFC 1982, {@link Serials}); {@code fallback} when none answered. */
    private static long newestServed(List<ServerState> servers, long fallback) {
        return Serials.newest(servers.stream().filter(ServerState::reachable).map(ServerState::serial).toList(),
                fallback);
    }

    /**
     * The servers with {@code lagging} decided here, by the one serial rule: a server that answers lags
     * when it serves an older serial than the newest served (RFC 1982: 5 is newer than 4294967295)
     * or other keys than the trusted answer. A server that does not answer keeps what it was before
     * (nobody saw it catch up), so its {@code server_synced} still comes once it answers in sync.
     */
    private static List<ServerState> lagging(List<ServerState> servers, ZoneState before, long fallback) {
        long newest = newestServed(servers, fallback);
        Set<String> wasLagging = new HashSet<>();
        if (before != null) {
            before.servers().stream().filter(ServerState::lagging).forEach(s -> wasLagging.add(s.server()));
        }
        List<ServerState> out = new ArrayList<>(servers.size());
        for (ServerState s : servers) {
            boolean lags = s.reachable() ? Serials.newer(newest, s.serial()) || !s.keysMatch()
                    : wasLagging.contains(s.server());
            out.add(lags == s.lagging() ? s
                    : new ServerState(s.server(), s.serial(), s.error(), s.keytags(), s.keysMatch(), lags, s.checkedAt()));
        }
        return out;
    }

    /** What looks wrong with a key set, or "". */
    static String keyProblem(List<KeyInfo> keys) {
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

    /** Days from {@code now} to {@code t}, fractional, negative when past. */
    public static double daysLeft(Instant t, Instant now) {
        return (t.getEpochSecond() - now.getEpochSecond()) / 86400.0;
    }

    /** Two decimals: enough for a dashboard, stable in JSON. */
    public static double round(double d) {
        return Math.round(d * 100) / 100.0;
    }
}
