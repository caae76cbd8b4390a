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

    /** The reason alone, in the operator's words, e.g. {@code no answer within 5 s} or
     * {@code the server answered REFUSED to the DNSKEY query; ...}: never a Java class name. */
    public String reason() {
        return super.getMessage();
    }

    @Override
    public String getMessage() {
        return "zone " + zone + " at " + server + ": " + super.getMessage();
    }
}
