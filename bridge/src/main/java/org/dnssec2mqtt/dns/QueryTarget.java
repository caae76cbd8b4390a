package org.dnssec2mqtt.dns;

import org.dnssec2mqtt.config.HostPort;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/** A server to ask and the TSIG key to sign with (both key fields null for none). */
public record QueryTarget(HostPort address, Name keyName, TSIG key) {

    public static QueryTarget unsigned(HostPort address) {
        return new QueryTarget(address, null, null);
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
