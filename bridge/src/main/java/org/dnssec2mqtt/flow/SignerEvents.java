package org.dnssec2mqtt.flow;

import java.time.Instant;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneState;

/** The events of a signer's signals ({@link Checker.Signal}), in the operator's words. */
final class SignerEvents {
    private SignerEvents() {}

    /** The zone state's problem while the signer's validation failed. */
    static String problem(Checker.SignerInvalid s) {
        return failed(s, "the zone");
    }

    private static String failed(Checker.SignerInvalid s, String what) {
        return signer(s.source()) + "'s DNSSEC validation of " + what + " failed"
                + (s.reason() == null ? " (its log says why)" : ": " + s.reason());
    }

    /** {@code dnssec_invalid} (priority 1): the signer's own validation failed. */
    static Event invalid(ZoneState s, Checker.SignerInvalid si, Instant now) {
        return Event.of("dnssec_invalid", s.zone(), now)
                .with("source", si.source())
                .with("reason", si.reason())
                .with("serial", s.serial())
                .text("DNSSEC of " + s.zone() + " invalid", failed(si, s.zone())
                        + "; the zone stays in error until a check of a newer serial validates", Event.HIGH);
    }

    /** {@code dnssec_valid}: the all-clear of {@code dnssec_invalid}, a full check of a newer serial validated. */
    static Event valid(ZoneState s, Instant now) {
        return Event.of("dnssec_valid", s.zone(), now)
                .with("serial", s.serial())
                .with("server", s.server())
                .text("DNSSEC of " + s.zone() + " valid again", s.zone() + " at " + s.server() + " validates again at serial "
                        + s.serial() + " after the signer reported a failed validation", Event.NORMAL);
    }

    /**
     * {@code ksk_submission} (priority 1) with the DS of {@code k} as this check found it; without
     * the DS when the zone's servers do not serve that key (yet).
     */
    static Event submission(ZoneState s, Checker.KskSubmission ks, KeyInfo k, Instant now) {
        String zone = s.zone();
        String who = signer(ks.source());
        String ds256 = k == null ? null : k.dsSha256();
        Event.Builder b = Event.of("ksk_submission", zone, now)
                .with("keytag", ks.keytag())
                .with("ds_sha256", ds256)
                .with("ds_sha384", k == null ? null : k.dsSha384())
                .with("source", ks.source())
                .with("key_id", ks.keyId());
        if (k == null) {
            return b.text("Submit DS for " + zone, who + " asks to submit the DS for KSK " + ks.keytag() + " of " + zone
                    + ", but " + s.server() + " does not serve that key: no DS to give", Event.HIGH);
        }
        return b.text("Submit DS for " + zone, who + " asks to submit DS " + ds256 + " for KSK " + ks.keytag()
                + " of " + zone + " at the parent", Event.HIGH);
    }

    private static String signer(String source) {
        return switch (source) {
            case "knot" -> "Knot";
            case "opendnssec" -> "OpenDNSSEC";
            default -> "the signer";
        };
    }
}
