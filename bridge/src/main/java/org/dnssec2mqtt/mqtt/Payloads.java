package org.dnssec2mqtt.mqtt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneSignals;
import org.dnssec2mqtt.zone.ZoneState;

/** The flat JSON payloads of the public contract, built field by field. */
public final class Payloads {
    private Payloads() {}

    /** A key topic: only what describes the key, so it changes only when the key does. */
    public static Map<String, Object> key(KeyInfo k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("zone", k.zone());
        m.put("keytag", k.keytag());
        m.put("flags", k.flags());
        m.put("role", k.role().name());
        m.put("state", k.state().label());
        m.put("revoked", k.revoked());
        if (k.originalKeytag() != null) {
            m.put("original_keytag", k.originalKeytag());
        }
        m.put("algorithm", k.algorithm());
        m.put("algorithm_name", k.algorithmName());
        if (k.bits() != null) {
            m.put("bits", k.bits());
        }
        m.put("ttl", k.ttl());
        String ds256 = k.dsSha256(); // made again on each call: once each
        if (ds256 != null) {
            m.put("ds_sha256", ds256);
        }
        String ds384 = k.dsSha384();
        if (ds384 != null) {
            m.put("ds_sha384", ds384);
        }
        m.put("first_seen", k.firstSeen());
        m.put("cds", k.cds());
        if (k.dsAtParent() != null) {
            m.put("ds_at_parent", k.dsAtParent());
        }
        if (k.addHolddownUntil() != null) {
            m.put("add_holddown_until", k.addHolddownUntil());
        }
        if (k.revokedAt() != null) {
            m.put("revoked_at", k.revokedAt());
            m.put("remove_holddown_until", k.removeHolddownUntil());
        }
        return m;
    }

    /** The zone state topic: the summary dashboards show. */
    public static Map<String, Object> zoneState(ZoneState s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("zone", s.zone());
        m.put("status", s.status());
        m.put("problem", s.problem());
        m.put("serial", s.serial());
        m.put("server", s.server());
        m.put("reachable", s.reachable());
        m.put("keys", s.keys().size());
        List<Integer> ksk = new ArrayList<>();
        List<Integer> zsk = new ArrayList<>();
        List<Integer> csk = new ArrayList<>();
        List<Integer> standby = new ArrayList<>();
        List<Integer> revoked = new ArrayList<>();
        for (KeyInfo k : s.keys()) {
            if (k.revoked()) {
                revoked.add(k.keytag());
                continue;
            }
            (k.role() == KeyInfo.Role.KSK ? ksk : k.role() == KeyInfo.Role.ZSK ? zsk : csk).add(k.keytag());
            if (k.state() == KeyInfo.KeyState.STANDBY) {
                standby.add(k.keytag());
            }
        }
        m.put("ksk_keytags", ksk);
        m.put("zsk_keytags", zsk);
        m.put("csk_keytags", csk);
        m.put("standby_keytags", standby);
        m.put("revoked_keytags", revoked);
        m.put("validation", s.validation() == null ? "unknown" : s.validation());
        if (s.rrsigExpires() != null) {
            m.put("rrsig_expires", s.rrsigExpires());
            m.put("rrsig_days_left", ZoneEvaluator.round(ZoneEvaluator.daysLeft(s.rrsigExpires(), s.checkedAt())));
        }
        m.put("stale", s.stale());
        m.put("serial_changed_at", s.serialChangedAt());
        List<Integer> cds = new ArrayList<>();
        List<Integer> atParent = new ArrayList<>();
        for (KeyInfo k : s.keys()) {
            if (k.cds()) {
                cds.add(k.keytag());
            }
            if (Boolean.TRUE.equals(k.dsAtParent())) {
                atParent.add(k.keytag());
            }
        }
        m.put("cds_keytags", cds);
        m.put("cds_delete", s.cds().stream().anyMatch(r -> r.startsWith("0 0 ")) || s.cdnskey().stream().anyMatch(r -> r.startsWith("0 3 0 ")));
        if (s.parentDs() != null) {
            m.put("ds_keytags", atParent);
            m.put("ds_validated", s.dsValidated());
            m.put("ds_orphans", ZoneEvaluator.orphanDs(s.parentDs(), s.keys()));
        }
        List<String> lagging = new ArrayList<>();
        for (ServerState sv : s.servers()) {
            if (sv.lagging() || !sv.reachable()) {
                lagging.add(sv.server());
            }
        }
        m.put("servers", s.servers().size());
        m.put("lagging_servers", lagging);
        // rollover timing (RolloverTimer) and the signer's signals: what is awaited, by key tag
        ZoneSignals sig = s.signals();
        m.put("ds_submission_pending", sig.dsSubmissionPending());
        m.put("awaiting_ds_submit", sig.awaitingDsSubmit());
        m.put("awaiting_ds_propagation", sig.awaitingDsPropagation());
        m.put("awaiting_dnskey_propagation", sig.awaitingDnskeyPropagation());
        if (sig.rolloverDue() != null) {
            m.put("rollover_due", sig.rolloverDue());
        }
        m.put("checked_at", s.checkedAt());
        m.put("changed_at", s.changedAt());
        return m;
    }

    /** {@code <prefix>/<zone>/servers/<host:port>}: one server's view; no check time, so it changes only when it does. */
    public static Map<String, Object> server(String zone, ServerState sv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("zone", zone);
        m.put("server", sv.server());
        m.put("reachable", sv.reachable());
        m.put("serial", sv.serial());
        m.put("keytags", sv.keytags());
        m.put("keys_match", sv.keysMatch());
        m.put("lagging", sv.lagging());
        m.put("error", sv.error());
        return m;
    }

    public static Map<String, Object> event(Event e) {
        return e.fields();
    }

    /**
     * {@code {"state":"online","version":...,"since":...}}: {@code since} is the time of this
     * connect to the millisecond, so each connect's online message differs from the last.
     */
    public static String online(java.time.Instant since) {
        return online(since, Map.of());
    }

    /** The online payload with the bridge's other parts' fields after it (e.g. {@code knot_dbus}). */
    public static String online(java.time.Instant since, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", "online");
        m.put("version", org.dnssec2mqtt.Version.VERSION);
        m.put("since", java.time.format.DateTimeFormatter.ISO_INSTANT.format(since.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
        m.putAll(extra);
        return Json.object(m);
    }

    /**
     * A cluster node's topic: {@code {"node","state","role","version"}}, plus {@code active_since}
     * (when it became active, to the millisecond) while it is the active node: of two actives the
     * one active longer stays.
     */
    public static String node(String node, boolean online, boolean active, java.time.Instant activeSince) {
        return node(node, online, active, activeSince, null);
    }

    /** The same with {@code since}: the node's connect time, so each connect's payload differs from the last. */
    public static String node(String node, boolean online, boolean active, java.time.Instant activeSince,
                              java.time.Instant since) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("state", online ? "online" : "offline");
        m.put("role", active ? "active" : "standby");
        m.put("version", org.dnssec2mqtt.Version.VERSION);
        if (active && activeSince != null) {
            m.put("active_since", java.time.format.DateTimeFormatter.ISO_INSTANT.format(
                    activeSince.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
        }
        if (online && since != null) {
            m.put("since", java.time.format.DateTimeFormatter.ISO_INSTANT.format(
                    since.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
        }
        return Json.object(m);
    }

    public static String offline() {
        return "{\"state\":\"offline\"}";
    }

    /** {@code {"status":"ok","data":...,"transaction":...}}; transaction left out when null. */
    public static Map<String, Object> ok(Object data, String transaction) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("data", data);
        if (transaction != null) {
            m.put("transaction", transaction);
        }
        return m;
    }

    /** {@code {"status":"error","error":"...","transaction":...}}. */
    public static Map<String, Object> error(String error, String transaction) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "error");
        m.put("error", error);
        if (transaction != null) {
            m.put("transaction", transaction);
        }
        return m;
    }
}
