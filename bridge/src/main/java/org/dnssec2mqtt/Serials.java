package org.dnssec2mqtt;

import org.xbill.DNS.Serial;

/**
 * The one serial rule of the code base: SOA serial arithmetic (RFC 1982 §3.2). Serials wrap at
 * 2^32, so "newer" is not "greater": 5 is newer than 4294967295.
 */
public final class Serials {
    private Serials() {}

    /** True when {@code a} is newer than {@code b}. */
    public static boolean newer(long a, long b) {
        return a != b && Serial.compare(a, b) > 0;
    }
}
