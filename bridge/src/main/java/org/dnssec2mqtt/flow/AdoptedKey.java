package org.dnssec2mqtt.flow;

import java.time.Instant;

/**
 * A key the broker still held (retained) for a zone the bridge had no state of: enough to carry
 * its {@code first_seen} over when the zone's first check adopts the zone.
 */
public record AdoptedKey(int keytag, int algorithm, Instant firstSeen) {}
