package org.dnssec2mqtt.signals;

import org.xbill.DNS.Name;

/** What Knot DNS says over D-Bus ({@link KnotDbus}), as plain calls. */
public final class KnotSignals {
    private KnotSignals() {}

    /** The bus connection is up and subscribed to Knot's events. */
    public static final String CONNECTED = "connected";
    /** No bus connection: not reachable yet, or lost; {@link KnotDbus} keeps retrying. */
    public static final String DISCONNECTED = "disconnected";

    /**
     * Receives Knot's signals. Calls come from the D-Bus library's signal thread, one at a time:
     * hand the work to your own executor and return quickly. Zone names are absolute and lower case.
     */
    public interface Listener {
        /** {@code zone_updated(s zone, u serial)}: the zone has a new serial (a trigger like a NOTIFY). */
        void zoneUpdated(Name zone, long serial);

        /**
         * {@code zone_ksk_submission(s zone, q keytag, s keyid)}: a new KSK is ready and its DS
         * should be submitted to the parent. {@code keyId} is Knot's 40-hex KASP key ID.
         */
        void kskSubmission(Name zone, int keytag, String keyId);

        /**
         * {@code zone_dnssec_invalid(s zone)}: Knot's DNSSEC validation of the zone failed. Knot 3.2
         * sends the zone only; the reason is in knotd's log ("DNSSEC, validation failed (...)").
         * {@code reason} is null then; a later Knot that adds arguments gets them here as text.
         */
        void dnssecInvalid(Name zone, String reason);

        /**
         * The bus connection changed: {@link #CONNECTED} (problem null) or {@link #DISCONNECTED}
         * with the problem in the operator's terms, e.g. "cannot connect to the D-Bus system bus:
         * No such file or directory; retrying in 30s".
         */
        void busState(String state, String problem);
    }
}
