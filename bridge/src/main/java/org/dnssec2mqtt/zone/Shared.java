package org.dnssec2mqtt.zone;

/**
 * One copy of a text that many zones' states hold alike: a server's {@code host:port}, a
 * status, an empty error. Each check makes these afresh (from the answer, from the state file),
 * and with 100,000 zones a copy per zone was ~100 bytes of each zone's heap. The JVM's string
 * table keeps one copy of each and lets it go when no state holds it any more.
 */
final class Shared {
    private Shared() {}

    static String text(String s) {
        return s == null ? null : s.isEmpty() ? "" : s.intern();
    }
}
