package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares two key sets of one zone and says what happened, as events. Keys are matched by
 * identity (algorithm + public key), never by tag: RFC 5011 §2.1 revocation changes the tag, and
 * must read as one {@code key_revoked}, not as a removal plus an addition. Pure.
 */
public final class ZoneDiff {
    private ZoneDiff() {}

    /**
     * @param before the keys of the previous check; null when the zone is seen for the first time
     * @return events in a stable order: removals, revocations, changes, additions
     */
    public static List<Event> compare(String zone, List<KeyInfo> before, List<KeyInfo> after, Instant at) {
        List<Event> events = new ArrayList<>();
        if (before == null) {
            List<Integer> tags = after.stream().map(KeyInfo::keytag).toList();
            events.add(Event.of("zone_added", zone, at)
                    .with("keytags", tags)
                    .text("DNSSEC zone " + zone + " tracked",
                            zone + " is now watched with " + after.size() + " key"
                                    + (after.size() == 1 ? "" : "s") + describe(after),
                            Event.NORMAL));
            return events;
        }
        Map<String, KeyInfo> old = KeyInfo.byIdentity(before);
        Map<String, KeyInfo> now = KeyInfo.byIdentity(after);
        for (KeyInfo k : old.values()) {
            if (!now.containsKey(k.identity())) {
                events.add(keyEvent("key_removed", k, at)
                        .text("DNSKEY removed from " + zone,
                                k.role() + " " + k.keytag() + " (" + k.algorithmName() + ") was removed from " + zone,
                                Event.HIGH));
            }
        }
        for (KeyInfo k : now.values()) {
            KeyInfo was = old.get(k.identity());
            if (was == null) {
                continue;
            }
            if (k.revoked() && !was.revoked()) {
                events.add(keyEvent("key_revoked", k, at)
                        .text("DNSKEY revoked in " + zone,
                                k.role() + " " + was.keytag() + " of " + zone + " was revoked (RFC 5011); it now has key tag " + k.keytag(),
                                Event.HIGH));
            } else if (k.flags() != was.flags() || k.role() != was.role() || k.state() != was.state()) {
                events.add(keyEvent("key_changed", k, at)
                        .with("previous_flags", was.flags())
                        .with("previous_role", was.role().name())
                        .with("previous_state", was.state().label())
                        .with("previous_keytag", was.keytag() == k.keytag() ? null : was.keytag())
                        .text("DNSKEY changed in " + zone,
                                change(was, k) + " in " + zone,
                                k.revoked() ? Event.HIGH : Event.NORMAL));
            }
        }
        for (KeyInfo k : now.values()) {
            if (!old.containsKey(k.identity())) {
                events.add(keyEvent("key_added", k, at)
                        .text("DNSKEY added to " + zone,
                                "new " + k.state().label() + " " + k.role() + " " + k.keytag() + " (" + k.algorithmName()
                                        + (k.bits() == null ? "" : ", " + k.bits() + " bits") + ") in " + zone,
                                Event.NORMAL));
            }
        }
        return events;
    }

    private static Event.Builder keyEvent(String type, KeyInfo k, Instant at) {
        return Event.of(type, k.zone(), at)
                .with("keytag", k.keytag())
                .with("original_keytag", k.originalKeytag())
                .with("flags", k.flags())
                .with("role", k.role().name())
                .with("state", k.state().label())
                .with("algorithm", k.algorithm())
                .with("algorithm_name", k.algorithmName());
    }

    private static String change(KeyInfo was, KeyInfo k) {
        if (was.revoked() && !k.revoked()) {
            return k.role() + " " + k.keytag() + " is no longer revoked (was " + was.keytag() + ")";
        }
        if (was.role() != k.role() || was.flags() != k.flags()) {
            return "key " + k.keytag() + " changed from " + was.role() + " (flags " + was.flags() + ") to "
                    + k.role() + " (flags " + k.flags() + ")";
        }
        return k.role() + " " + k.keytag() + " is now " + k.state().label() + " (was " + was.state().label() + ")";
    }

    private static String describe(List<KeyInfo> keys) {
        if (keys.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(": ");
        for (int i = 0; i < keys.size(); i++) {
            KeyInfo k = keys.get(i);
            sb.append(i == 0 ? "" : ", ").append(k.role()).append(' ').append(k.keytag());
            if (k.state() != KeyInfo.KeyState.ACTIVE) {
                sb.append(" (").append(k.state().label()).append(')');
            }
        }
        return sb.toString();
    }

}
