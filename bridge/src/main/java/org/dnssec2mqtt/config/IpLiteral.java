package org.dnssec2mqtt.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address literals, parsed without ever asking DNS. */
public final class IpLiteral {
    private IpLiteral() {}

    /** The address {@code text} spells, or null when it is not an IPv4 or IPv6 literal. */
    public static InetAddress parseOrNull(String text) {
        if (text.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            // InetAddress.getByName("1.2.3.999") would fall back to a DNS lookup: reject it here
            for (String octet : text.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return null;
                }
            }
        } else if (text.indexOf(':') < 0 || !text.matches("[0-9a-fA-F:.]+")) {
            return null;
        }
        try {
            // a dotted quad or a string with ':' is parsed as a literal, never looked up
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
