package org.dnssec2mqtt.flow;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.zone.ZoneState;
import org.xbill.DNS.Name;

/**
 * The zones the bridge tracks: configured ones (always), learned ones (from NOTIFY, a recheck
 * with {@code dns.servers}, or found on the broker), and which of them are known to subscribers.
 * Zones learned but not yet confirmed by a successful check are capped, so junk NOTIFYs for
 * random names cannot grow memory without bound. Removing a zone marks its object
 * {@link TrackedZone#removed}, so work queued for it does nothing.
 */
public final class ZoneRegistry {
    /**
     * Zones learned from NOTIFY that never answered yet. One costs about 490 bytes of heap with its
     * queued check (measured with 30-character names; a 255-byte name adds about 250), so the cap
     * holds at most about 70 MiB of junk, while a fleet of 100,000 new zones NOTIFYed at once is
     * learned whole: every NOTIFY is answered, so a primary never resends one that was ignored.
     */
    public static final int MAX_UNCONFIRMED = 150_000;

    /**
     * Distinct NOTIFY sources whose target is shared. Thousands of zones come from one primary, so
     * each source has one target object (its address and its text), not one per zone (~100 bytes a
     * zone). Past this many (a NOTIFY source per zone?) the map starts again: zones that took a
     * target keep it, later ones share anew, and the map never holds more than this.
     */
    static final int MAX_SHARED_TARGETS = 1024;

    private final Config config;
    private final Map<Name, TrackedZone> zones = new ConcurrentHashMap<>();
    private final AtomicInteger unconfirmed = new AtomicInteger();
    private final AtomicLong learned = new AtomicLong();
    private final AtomicLong forgotten = new AtomicLong();
    private final Map<QueryTarget, QueryTarget> targets = new ConcurrentHashMap<>();

    public ZoneRegistry(Config config) {
        this.config = config;
        for (Config.ZoneConfig z : config.zones().values()) {
            zones.put(z.zone(), new TrackedZone(z.zone(), true));
        }
    }

    /** A state read back from the data directory (or followed from the active cluster node): the zone is known. */
    public TrackedZone restore(Name name, ZoneState s) {
        TrackedZone fresh = new TrackedZone(name, false, s.zone());
        TrackedZone known = zones.putIfAbsent(name, fresh);
        TrackedZone z = known == null ? fresh : known;
        // a zone already here (a cluster node following the active one) may be counted as unconfirmed
        boolean wasCounted = known != null && !z.confirmed && !z.configured;
        z.state = s;
        z.confirmed = !s.keys().isEmpty() || s.reachable();
        boolean counted = !z.confirmed && !z.configured;
        if (counted != wasCounted) {
            unconfirmed.addAndGet(counted ? 1 : -1);
        }
        if (!z.configured && s.server() != null) {
            z.learnedFrom = learnedTarget(s.server());
        }
        return z;
    }

    public TrackedZone get(Name name) {
        return zones.get(name);
    }

    public Collection<TrackedZone> all() {
        return zones.values();
    }

    /** Zones subscribers know (with a state) plus configured ones: what polls and {@code recheck *} cover. */
    public List<TrackedZone> checkable() {
        List<TrackedZone> out = new ArrayList<>();
        for (TrackedZone z : zones.values()) {
            if (z.state != null || z.configured) {
                out.add(z);
            }
        }
        return out;
    }

    /** A copy of every zone state held (safe to read from any thread). */
    public List<ZoneState> states() {
        List<ZoneState> out = new ArrayList<>();
        for (TrackedZone z : zones.values()) {
            ZoneState s = z.state;
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** Number of zones with a state (known to subscribers). */
    public int known() {
        int n = 0;
        for (TrackedZone z : zones.values()) {
            if (z.state != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * The zone, learned now if it is new; null when the cap of unconfirmed zones is reached.
     * {@code from} (nullable) is where a learned zone is asked: the NOTIFY's source.
     */
    public TrackedZone learn(Name name, QueryTarget from) {
        TrackedZone z = zones.get(name);
        if (z == null) {
            if (unconfirmed.get() >= MAX_UNCONFIRMED) {
                return null;
            }
            TrackedZone fresh = new TrackedZone(name, false);
            z = zones.putIfAbsent(name, fresh);
            if (z == null) {
                z = fresh;
                unconfirmed.incrementAndGet();
                learned.incrementAndGet();
            }
        }
        if (!z.configured && from != null && !from.equals(z.learnedFrom)) {
            z.learnedFrom = shared(from);
        }
        return z;
    }

    /** A zone found on the broker (its retained state) that we hold no state for. */
    public TrackedZone adopt(Name name, String server, List<AdoptedKey> keys) {
        TrackedZone z = learn(name, server == null ? null : learnedTarget(server));
        if (z != null && z.state == null) {
            z.adoptedKeys = List.copyOf(keys);
            z.adopted = true;
        }
        return z;
    }

    /** The zone's state after a check; an adopted zone is then an ordinary one. */
    public void update(TrackedZone z, ZoneState s) {
        z.state = s;
        z.adopted = false;
        z.adoptedKeys = List.of();
    }

    /** The zone's first successful check: it is known from now on. */
    public void confirm(TrackedZone z) {
        if (!z.confirmed) {
            z.confirmed = true;
            if (!z.configured) {
                unconfirmed.decrementAndGet();
            }
        }
    }

    /** Drops a learned zone; false when it was already gone (or replaced). */
    public boolean remove(TrackedZone z) {
        if (z.configured || !zones.remove(z.name, z)) {
            return false;
        }
        z.removed = true;
        if (!z.confirmed) {
            unconfirmed.decrementAndGet();
        }
        forgotten.incrementAndGet();
        return true;
    }

    public long learnedCount() {
        return learned.get();
    }

    public long forgottenCount() {
        return forgotten.get();
    }

    public int unconfirmed() {
        return unconfirmed.get();
    }

    /** The one target object held for {@code t}'s source (equal targets, one object). */
    private QueryTarget shared(QueryTarget t) {
        QueryTarget known = targets.get(t);
        if (known != null) {
            return known;
        }
        if (targets.size() >= MAX_SHARED_TARGETS) {
            targets.clear();
        }
        known = targets.putIfAbsent(t, t);
        return known == null ? t : known;
    }

    /** Where a learned zone is asked: that host at dns.query-port; null when unusable. */
    QueryTarget learnedTarget(String server) {
        try {
            return shared(QueryTarget.unsigned(HostPort.parse(server, config.dnsQueryPort())));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
