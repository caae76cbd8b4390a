package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.List;

/**
 * What one of a zone's servers answered in the latest check.
 *
 * @param server {@code host:port}
 * @param serial its SOA serial; 0 when it did not answer
 * @param error why it did not answer; "" when it did
 * @param keytags the key tags it serves; empty when not fetched
 * @param keysMatch its DNSKEY RDATA equal the trusted answer's (TTLs ignored)
 * @param lagging its serial is below the highest seen, or its keys differ
 */
public record ServerState(String server, long serial, String error, List<Integer> keytags,
                          boolean keysMatch, boolean lagging, Instant checkedAt) {

    public ServerState {
        server = Shared.text(server);
        error = error == null ? "" : Shared.text(error);
        keytags = Shared.numbers(keytags);
    }

    public boolean reachable() {
        return error.isEmpty();
    }
}
