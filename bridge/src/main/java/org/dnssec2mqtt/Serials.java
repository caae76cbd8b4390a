package org.dnssec2mqtt;

/** SOA serial arithmetic (RFC 1982 §3.2): serials wrap at 2^32, so "newer" is not "greater". */
final class Serials {
    private Serials() {}

    /** True when {@code a} is newer than {@code b}. */
    static boolean newer(long a, long b) {
        long d = (a - b) & 0xffffffffL;
        return d != 0 && d < 0x80000000L;
    }
}
