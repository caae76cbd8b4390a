package org.dnssec2mqtt;

import java.util.LinkedHashMap;
import java.util.Map;
import org.dnssec2mqtt.signals.KnotSignals;
import org.xbill.DNS.Name;

/**
 * Knot's D-Bus signals into the bridge: {@code zone_updated} is a trigger like a NOTIFY,
 * {@code zone_ksk_submission} and {@code zone_dnssec_invalid} are signals the zone's next check
 * applies, and the bus connection's state is a field of {@code <prefix>/_bridge/state}. Every call
 * comes on the D-Bus library's thread and only hands work on (never blocks).
 */
final class KnotListener implements KnotSignals.Listener {
    static final String SOURCE = "knot";

    private final Bridge bridge;
    private final Runnable stateChanged;
    private volatile String state = KnotSignals.DISCONNECTED;
    private volatile String problem = "not connected yet";

    /** @param stateChanged called (without blocking) when the bus state changed: republish the bridge state */
    KnotListener(Bridge bridge, Runnable stateChanged) {
        this.bridge = bridge;
        this.stateChanged = stateChanged;
    }

    @Override
    public void zoneUpdated(Name zone, long serial) {
        bridge.onSignal(zone, serial, SOURCE);
    }

    @Override
    public void kskSubmission(Name zone, int keytag, String keyId) {
        bridge.onKskSubmission(zone, keytag, keyId, SOURCE);
    }

    @Override
    public void dnssecInvalid(Name zone, String reason) {
        bridge.onSignerInvalid(zone, reason, SOURCE);
    }

    @Override
    public void busState(String newState, String newProblem) {
        state = newState;
        problem = newProblem;
        stateChanged.run();
    }

    /** {@code knot_dbus} ({@code connected} or {@code disconnected}) and, while disconnected, {@code knot_dbus_problem}. */
    Map<String, Object> onlineFields() {
        Map<String, Object> m = new LinkedHashMap<>();
        String s = state;
        String p = problem;
        m.put("knot_dbus", s);
        if (p != null && !KnotSignals.CONNECTED.equals(s)) {
            m.put("knot_dbus_problem", p);
        }
        return m;
    }
}
