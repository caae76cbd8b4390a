package org.dnssec2mqtt;

import java.util.Collection;
import org.xbill.DNS.Serial;

/**
 * SOA serial arithmetic, the one rule for the whole code base (RFC 1982 §3.2, via dnsjava's
 * {@link Serial#compare}): serials wrap at 2^32, so "newer" is not "greater" (5 is newer than
 * 4294967295). Never compare serials with {@code <}, {@code >} or {@code max()}.
 */
public final class Serials {
    private Serials() {}

    /** True when {@code a} is newer than {@code b}. */
    public static boolean newer(long a, long b) {
        return Serial.compare(a, b) > 0;
    }

    /** The newest of {@code serials} (RFC 1982), or {@code fallback} when there are none. */
    public static long newest(Collection<Long> serials, long fallback) {
        Long best = null;
        for (long s : serials) {
            if (best == null || newer(s, best)) {
                best = s;
            }
        }
        return best == null ? fallback : best;
    }
}
