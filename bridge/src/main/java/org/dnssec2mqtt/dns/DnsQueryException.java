package org.dnssec2mqtt.dns;

import org.xbill.DNS.Name;

/** A query about {@code zone} to {@code server} that gave no usable answer, and why. */
public final class DnsQueryException extends Exception {
    private final Name zone;
    private final String server;

    public DnsQueryException(Name zone, String server, String reason) {
        this(zone, server, reason, null);
    }

    public DnsQueryException(Name zone, String server, String reason, Throwable cause) {
        super(reason, cause);
        this.zone = zone;
        this.server = server;
    }

    public Name zone() {
        return zone;
    }

    /** {@code host:port} that was asked. */
    public String server() {
        return server;
    }

    /** The reason alone, e.g. {@code timeout after 5s} or {@code rcode REFUSED}. */
    public String reason() {
        return super.getMessage();
    }

    @Override
    public String getMessage() {
        return "zone " + zone + " at " + server + ": " + super.getMessage();
    }
}
