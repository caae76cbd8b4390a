package org.dnssec2mqtt.config;

import java.net.InetSocketAddress;

/**
 * A server address as written in the config: {@code host}, {@code host:port}, {@code [v6]:port}
 * or a bare IPv6 literal. Resolution is left to the caller, so a config check never touches DNS.
 */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1-65535 (is '" + port + "')");
        }
    }

    /**
     * Parses {@code text}, using {@code defaultPort} when none is given.
     *
     * @throws IllegalArgumentException with a message that says what is wrong
     */
    public static HostPort parse(String text, int defaultPort) {
        String s = text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("expected host[:port]; got an empty value");
        }
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("expected [ipv6]:port; got '" + s + "' (missing ']')");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("expected [ipv6]:port; got '" + s + "'");
                }
                port = rest.substring(1);
            }
        } else if (s.indexOf(':') != s.lastIndexOf(':')) {
            host = s; // bare IPv6 literal, no port
        } else {
            int colon = s.indexOf(':');
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("expected host[:port]; got '" + s + "' (no host)");
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("port must be 1-65535 (is '" + port + "')");
            }
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("port must be 1-65535 (is '" + port + "')");
            }
        }
        return new HostPort(host, p);
    }

    /** An unresolved socket address; resolve it when you connect. */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** {@code host:port}, with brackets around IPv6 literals. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
