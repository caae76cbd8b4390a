package org.dnssec2mqtt.flow;

import java.util.Locale;

/** Why a check runs. {@code force} fetches DNSKEY even when the serial did not move. */
public enum Cause {
    NOTIFY(false), COMMAND(true), POLL(true), SOA_POLL(false), STARTUP(true), RETRY(false), ADOPT(true);

    public final boolean force;

    Cause(boolean force) {
        this.force = force;
    }

    /** Lower-case name, for logs and metrics labels. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
