package org.dnssec2mqtt.dns;

import java.util.Map;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/** The TSIG keys the bridge knows, by key name (RFC 8945). */
public final class TsigKeys {
    private final Map<Name, TSIG> keys;

    public TsigKeys(Map<Name, TSIG> keys) {
        this.keys = Map.copyOf(keys);
    }

    public static TsigKeys none() {
        return new TsigKeys(Map.of());
    }

    /** The key called {@code name}, or null. */
    public TSIG get(Name name) {
        return keys.get(name);
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    public java.util.Set<Name> names() {
        return keys.keySet();
    }
}
