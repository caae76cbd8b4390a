package org.dnssec2mqtt.dns;

import java.net.InetAddress;
import org.xbill.DNS.Name;

/** An accepted NOTIFY: zone, qtype, serial from the answer's SOA (nullable), source, TSIG key (nullable). */
public record NotifyRequest(Name zone, int qtype, Long serial, InetAddress source, Name tsigKey) {}
