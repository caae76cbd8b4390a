package org.dnssec2mqtt.flow;

import java.util.Locale;

/**
 * Why a check runs. {@code force} fetches DNSKEY even when the serial did not move.
 * {@link #STARTUP} does not: a restart asks every known zone's servers for the SOA serial, as the
 * SOA poll does, and fetches the keys of the zones whose serial moved while the bridge was down
 * (or whose last check was not a trusted answer from every server now asked: {@link Checker#check}).
 * {@link #SIGNAL}: the signer said something about the zone (Knot's {@code zone_ksk_submission} or
 * {@code zone_dnssec_invalid}): a full check, then what it said is applied. {@link #ROLLOVER}: a
 * rollover step fell due: what is known is evaluated again against the time, without any query
 * (the weakest cause: any other one queued for the zone replaces it, and covers it).
 * {@link #TAKEOVER}: this cluster node became the active one: a full check against the state it
 * followed.
 */
public enum Cause {
    NOTIFY(false), COMMAND(true), POLL(true), SOA_POLL(false), STARTUP(false), RETRY(false), ADOPT(true),
    SIGNAL(true), ROLLOVER(false), TAKEOVER(true);

    public final boolean force;

    Cause(boolean force) {
        this.force = force;
    }

    /** Lower-case name, for logs and metrics labels. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
