package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.List;

/**
 * What the bridge follows of a zone beyond one check: the rollover timing ({@link RolloverTimer})
 * and what the signer said (Knot's D-Bus signals). Part of {@link ZoneState}, so it is persisted
 * with it; a state file from before these fields reads as {@link #NONE}.
 *
 * @param rollover what {@link RolloverTimer} remembers
 * @param rolloverDue when the next rollover step falls due; null when none is pending
 * @param awaitingDsSubmit key tags waiting for {@code ds_submit_ready}
 * @param awaitingDsPropagation key tags whose DS is at the parent, waiting for {@code ds_propagated}
 * @param awaitingDnskeyPropagation key tags removed or revoked, waiting for {@code dnskey_propagated}
 * @param dsSubmissionPending key tags the signer asked a DS for ({@code ksk_submission}) whose DS
 *     the parent does not serve yet
 * @param signerInvalid the signer's "DNSSEC validation failed" in plain words; null when it did not say so
 * @param signerInvalidSerial the serial the bridge knew when the signer said so: a full check of a
 *     newer serial that validates clears it
 */
public record ZoneSignals(RolloverRecord rollover, Instant rolloverDue, List<Integer> awaitingDsSubmit,
                          List<Integer> awaitingDsPropagation, List<Integer> awaitingDnskeyPropagation,
                          List<Integer> dsSubmissionPending, String signerInvalid, Long signerInvalidSerial) {
    public static final ZoneSignals NONE = new ZoneSignals(null, null, null, null, null, null, null, null);

    public ZoneSignals {
        rollover = rollover == null ? RolloverRecord.EMPTY : rollover;
        awaitingDsSubmit = awaitingDsSubmit == null ? List.of() : List.copyOf(awaitingDsSubmit);
        awaitingDsPropagation = awaitingDsPropagation == null ? List.of() : List.copyOf(awaitingDsPropagation);
        awaitingDnskeyPropagation = awaitingDnskeyPropagation == null ? List.of() : List.copyOf(awaitingDnskeyPropagation);
        dsSubmissionPending = dsSubmissionPending == null ? List.of() : List.copyOf(dsSubmissionPending);
    }

    /** The same with what one {@link RolloverTimer#evaluate} returned. */
    public ZoneSignals withRollover(RolloverTimer.Result r) {
        return new ZoneSignals(r.record(), r.nextDue(), r.awaitingDsSubmit(), r.awaitingDsPropagation(),
                r.awaitingDnskeyPropagation(), dsSubmissionPending, signerInvalid, signerInvalidSerial);
    }

    /** The same with the signer's side replaced. */
    public ZoneSignals withSigner(List<Integer> pending, String invalid, Long invalidSerial) {
        return new ZoneSignals(rollover, rolloverDue, awaitingDsSubmit, awaitingDsPropagation,
                awaitingDnskeyPropagation, pending, invalid, invalidSerial);
    }
}
