package org.dnssec2mqtt.zone;

import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/** Zone name forms used in payloads and state. */
public final class Zones {
    private Zones() {}

    /**
     * The contract's payload form: lower case, no trailing dot, the root as {@code "."}. DNS
     * presentation escapes (RFC 1035 §5.1) are kept, so distinct names stay distinct.
     */
    public static String display(Name zone) {
        if (zone.equals(Name.root)) {
            return ".";
        }
        return zone.canonicalize().toString(true);
    }

    /** Parses a zone as a user writes it ({@code example.com}, {@code example.com.}, {@code .}). */
    public static Name parse(String text) throws TextParseException {
        String s = text.trim();
        if (s.isEmpty()) {
            throw new TextParseException("empty zone name");
        }
        return Name.fromString(s, Name.root).canonicalize();
    }
}
