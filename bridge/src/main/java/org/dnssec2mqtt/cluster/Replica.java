package org.dnssec2mqtt.cluster;

import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.ZoneState;

/**
 * A zone's whole state as the active cluster node holds it, on its retained replica topic: what
 * standby nodes follow, so that a takeover starts from exactly what the active knew (first-seen
 * times, topic choices for colliding tags, RFC 5011 dates, rollover timers).
 */
public final class Replica {
    /** Bumped when the state's shape changes in a way an older node cannot read. */
    static final int FORMAT = 1;

    private record Wire(int format, ZoneState state) {}

    private Replica() {}

    public static String encode(ZoneState state) {
        return Json.GSON.toJson(new Wire(FORMAT, state));
    }

    /** The state; null when the payload is not a replica this version reads. */
    public static ZoneState decode(String payload) {
        try {
            Wire w = Json.GSON.fromJson(payload, Wire.class);
            return w == null || w.format() != FORMAT || w.state() == null || w.state().zone() == null ? null : w.state();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
