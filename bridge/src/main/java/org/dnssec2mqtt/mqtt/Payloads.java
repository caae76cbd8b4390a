package org.dnssec2mqtt.mqtt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyInfo;
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
        if (k.dsSha256() != null) {
            m.put("ds_sha256", k.dsSha256());
        }
        if (k.dsSha384() != null) {
            m.put("ds_sha384", k.dsSha384());
        }
        m.put("first_seen", k.firstSeen());
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
        m.put("checked_at", s.checkedAt());
        m.put("changed_at", s.changedAt());
        return m;
    }

    public static Map<String, Object> event(Event e) {
        return e.fields();
    }

    public static String online() {
        return "{\"state\":\"online\"}";
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
