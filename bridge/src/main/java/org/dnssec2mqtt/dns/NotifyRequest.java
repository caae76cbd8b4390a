package org.dnssec2mqtt.dns;

import java.net.InetAddress;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

/**
 * One accepted NOTIFY: the trigger the bridge acts on.
 *
 * @param zone the zone from the question, absolute and lower case
 * @param qtype the question type: SOA (RFC 1996), or DNSKEY, CDS, CDNSKEY (generalized NOTIFY,
 *     RFC 9859)
 * @param serial the SOA serial from the answer section, or null when the sender sent none
 *     (PowerDNS never does; RFC 1996 §3.7 makes it optional)
 * @param source the address the NOTIFY came from
 * @param tsigKey the name of the TSIG key that signed it, or null when it was unsigned
 */
public record NotifyRequest(Name zone, int qtype, Long serial, InetAddress source, Name tsigKey) {

    @Override
    public String toString() {
        return "NotifyRequest[zone=" + zone + " qtype=" + Type.string(qtype) + " serial=" + serial
                + " source=" + source.getHostAddress() + " tsigKey=" + tsigKey + "]";
    }
}
