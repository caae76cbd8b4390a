package org.dnssec2mqtt.flow;

import java.util.List;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.zone.ZoneState;
import org.dnssec2mqtt.zone.Zones;
import org.xbill.DNS.Name;

/**
 * One zone the bridge tracks: what the registry knows of it. The scheduler's bookkeeping lives
 * in {@link Scheduler} (keyed by this object), the publisher's in its own map: each stage owns
 * its own fields.
 */
public final class TrackedZone {
    public final Name name;
    public final String display;
    public final boolean configured;
    /** Null until the first check ends (for learned zones: succeeds). */
    volatile ZoneState state;
    /** A check has succeeded at least once (or a stored state says so). */
    volatile boolean confirmed;
    /** Found on the broker without a state of ours: its first check adopts it (no false events). */
    volatile boolean adopted;
    /** The adopted zone's keys as the broker held them (see {@link Checker}). */
    volatile List<AdoptedKey> adoptedKeys = List.of();
    /** Source of the latest accepted NOTIFY, at dns.query-port (learned zones). */
    volatile QueryTarget learnedFrom;
    /** zones.&lt;zone&gt;.use-ns: the addresses of the NS RRset. */
    volatile List<HostPort> nameServers = List.of();
    /** Set once the registry dropped this object: a queued check of it does nothing. */
    volatile boolean removed;

    TrackedZone(Name name, boolean configured) {
        this(name, configured, null);
    }

    /**
     * @param known the zone's name in payload form as a state already holds it (read back): kept
     *     instead of a copy of its own where it is the same text; null for none
     */
    TrackedZone(Name name, boolean configured, String known) {
        this.name = name;
        String display = Zones.display(name);
        this.display = display.equals(known) ? known : display;
        this.configured = configured;
    }

    public ZoneState state() {
        return state;
    }

    public boolean confirmed() {
        return confirmed;
    }

    @Override
    public String toString() {
        return display;
    }
}
