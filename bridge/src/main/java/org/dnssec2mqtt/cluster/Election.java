package org.dnssec2mqtt.cluster;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Instant;
import java.util.Collection;

/**
 * Which cluster node is active, decided by each node alone from what the retained node topics
 * say, so that all of them reach the same answer without talking to each other:
 * <ul>
 *   <li>an active node stays active while it lives (a restarted node does not take the role back);
 *   <li>when no online node is active, the online node with the lowest name becomes active;
 *   <li>when two are active at once (after a broker partition heals, or two standbys deciding at
 *       the same instant), the one active longer stays and the other stands by; on a tie the
 *       lower name stays;
 *   <li>a standby does not take the role while the bridge's state topic says online from another
 *       node whose node topic does not say it stands by: that node's bridge connection is up, it is
 *       active and publishing, whatever its node topic says (its own cluster connection may be
 *       down or stuck reconnecting while the other is back).
 * </ul>
 * Pure: no I/O, no clock.
 */
public final class Election {
    private Election() {}

    /** One node as its topic says; {@code activeSince} null unless active. */
    public record Node(String name, boolean online, boolean active, Instant activeSince) {
        /** The node topic's payload; null when it is not one of ours (or empty: the topic was cleared). */
        public static Node parse(String name, String payload) {
            try {
                JsonElement e = JsonParser.parseString(payload);
                if (!e.isJsonObject()) {
                    return null;
                }
                JsonObject o = e.getAsJsonObject();
                boolean online = o.has("state") && "online".equals(o.get("state").getAsString());
                boolean active = o.has("role") && "active".equals(o.get("role").getAsString());
                Instant since = o.has("active_since") ? Instant.parse(o.get("active_since").getAsString()) : null;
                return new Node(name, online, online && active, online && active ? since : null);
            } catch (RuntimeException ex) {
                return null;
            }
        }
    }

    /**
     * Whether {@code me} should be the active node now.
     *
     * @param activeSince when {@code me} became active; null while it is standby
     * @param others the other nodes as their topics say ({@code me}'s own entry is ignored)
     */
    public static boolean shouldBeActive(String me, Instant activeSince, Collection<Node> others) {
        return shouldBeActive(me, activeSince, others, null);
    }

    /**
     * The same, knowing which node's bridge connection says online on the bridge's state topic.
     *
     * @param publishing the node named by the bridge state's latest {@code online} message (the
     *     one connected to publish zones), null when it says offline or nothing fresh
     */
    public static boolean shouldBeActive(String me, Instant activeSince, Collection<Node> others, String publishing) {
        boolean iAmActive = activeSince != null;
        if (!iAmActive && publishing != null && !publishing.equals(me) && !standsBy(publishing, others)) {
            return false;
        }
        for (Node o : others) {
            if (o.name().equals(me) || !o.active()) {
                continue;
            }
            if (!iAmActive || staysOver(o, me, activeSince)) {
                return false;
            }
        }
        if (iAmActive) {
            return true;
        }
        for (Node o : others) {
            if (!o.name().equals(me) && o.online() && o.name().compareTo(me) < 0) {
                return false; // nobody is active: the lowest name takes it
            }
        }
        return true;
    }

    /** Whether node {@code name}'s topic says it is online and standing by (so its bridge state is an old copy). */
    private static boolean standsBy(String name, Collection<Node> others) {
        for (Node o : others) {
            if (o.name().equals(name)) {
                return o.online() && !o.active();
            }
        }
        return false;
    }

    /** Of two active nodes, whether {@code other} is the one that stays. */
    static boolean staysOver(Node other, String me, Instant mySince) {
        if (other.activeSince() != null && !other.activeSince().equals(mySince)) {
            return other.activeSince().isBefore(mySince);
        }
        return other.name().compareTo(me) < 0;
    }
}
