package org.dnssec2mqtt.flow;

import java.util.List;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.ZoneState;

/** The publish stage: what subscribers see of one zone. */
public interface Publisher {
    /**
     * Sends the events of one check, then makes the zone's retained topics equal to {@code state}
     * (only what differs goes out). Never blocks on the broker.
     */
    void publish(ZoneState state, List<Event> events);

    /** Clears every retained topic of the zone (keys, state, servers, dashboards' configs). */
    void clear(String zone);
}
