package org.dnssec2mqtt.zone;

/**
 * One copy of what many zones' states hold alike. Texts: a server's {@code host:port}, a status,
 * an empty error; each check makes these afresh (from the answer, from the state file), and with
 * 100,000 zones a copy per zone was ~100 bytes of each zone's heap; the JVM's string table keeps
 * one copy of each and lets it go when no state holds it any more. Numbers: key tags and key
 * sizes (0 to 65535, of which the JDK shares only up to 127), 16 bytes a copy, ~4 a zone.
 */
final class Shared {
    private Shared() {}

    private static final int NUMBERS = 65_536;
    /** Filled as numbers come: at most 65,536 references (256 KiB) and the numbers met. */
    private static final java.util.concurrent.atomic.AtomicReferenceArray<Integer> NUMBER =
            new java.util.concurrent.atomic.AtomicReferenceArray<>(NUMBERS);

    static Integer number(Integer n) {
        if (n == null || n < 0 || n >= NUMBERS) {
            return n;
        }
        Integer c = NUMBER.get(n);
        if (c != null) {
            return c;
        }
        Integer won = NUMBER.compareAndExchange(n, null, n);
        return won != null ? won : n;
    }

    /** {@code ns} unmodifiable, each number shared. */
    static java.util.List<Integer> numbers(java.util.List<Integer> ns) {
        if (ns == null || ns.isEmpty()) {
            return java.util.List.of();
        }
        Integer[] out = new Integer[ns.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(ns.get(i));
        }
        return java.util.List.of(out);
    }

    static String text(String s) {
        return s == null ? null : s.isEmpty() ? "" : s.intern();
    }
}
