package org.dnssec2mqtt.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A server address as written in the config: {@code host}, {@code host:port}, {@code [v6]:port}
 * or a bare IPv6 literal, where {@code host} is an IPv4 literal or a host name by the LDH rule
 * (RFC 1123 §2.1: letters, digits and {@code -} in labels of 1-63 characters, not starting or
 * ending with {@code -}).
 *
 * <p>{@link #parse} checks the form only and never asks DNS, so {@code --check-config} works
 * offline and a name server that starts after the bridge does not stop it from starting. A host
 * name is resolved by {@link #resolve} when the server is queried; one that does not resolve is
 * that server's problem, in words, not an unresolved socket address.
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
     * @throws IllegalArgumentException with a message that names the text and says what is wrong,
     *     e.g. {@code '127.0.0.1:5301;x' is not a host[:port]: port must be 1-65535 (is '5301;x')}
     */
    public static HostPort parse(String text, int defaultPort) {
        String s = text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("expected host[:port]; got an empty value");
        }
        try {
            return parseChecked(s, defaultPort);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "' is not a host[:port]: " + e.getMessage());
        }
    }

    private static HostPort parseChecked(String s, int defaultPort) {
        if (s.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("it contains whitespace (in a list, separate entries with commas or spaces)");
        }
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing ']' (expected [ipv6]:port)");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("expected [ipv6]:port");
                }
                port = rest.substring(1);
            }
            if (!isIpv6(host)) {
                throw new IllegalArgumentException("'" + host + "' in brackets is not an IPv6 address");
            }
        } else if (s.indexOf(':') != s.lastIndexOf(':')) {
            host = s; // bare IPv6 literal, no port
            if (!isIpv6(host)) {
                throw new IllegalArgumentException("not an IPv6 address (with a port, write [ipv6]:port)");
            }
        } else {
            int colon = s.indexOf(':');
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
            if (host.isEmpty()) {
                throw new IllegalArgumentException("no host");
            }
            host = checkHostName(host);
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("port must be 1-65535 (is '" + port + "')");
            }
        }
        return new HostPort(host, p);
    }

    /** An IPv6 literal, optionally with a zone index ({@code fe80::1%eth0}, RFC 4007 §11) as a NOTIFY source has. */
    private static boolean isIpv6(String host) {
        int percent = host.indexOf('%');
        String address = percent < 0 ? host : host.substring(0, percent);
        if (percent >= 0 && !host.substring(percent + 1).matches("[A-Za-z0-9_.-]+")) {
            return false;
        }
        return address.indexOf(':') >= 0 && IpLiteral.parseOrNull(address) != null;
    }

    /**
     * An IPv4 literal or an LDH host name (RFC 1123 §2.1, RFC 1035 §2.3.4 lengths); a trailing dot
     * is allowed. Returns the host as queried (an IPv4 literal without a trailing dot).
     */
    private static String checkHostName(String host) {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (name.isEmpty()) {
            throw new IllegalArgumentException("'" + host + "' is not a host name");
        }
        for (char c : name.toCharArray()) {
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
                throw new IllegalArgumentException("'" + c + "' is not allowed in a host name"
                        + " (letters, digits, '-' and '.'; IPv6 as [address]:port)");
            }
        }
        if (name.length() > 253) {
            throw new IllegalArgumentException("host name longer than 253 characters");
        }
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty()) {
                throw new IllegalArgumentException("empty label in host name '" + host + "'");
            }
            if (label.length() > 63) {
                throw new IllegalArgumentException("label '" + label + "' is longer than 63 characters");
            }
            if (label.startsWith("-") || label.endsWith("-")) {
                throw new IllegalArgumentException("label '" + label + "' starts or ends with '-'");
            }
        }
        // RFC 1123 §2.1: a name whose last label is all digits would be taken for an IPv4 address
        if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
            if (IpLiteral.parseOrNull(name) == null) {
                throw new IllegalArgumentException("'" + host + "' is not an IPv4 address");
            }
            return name;
        }
        return host;
    }

    /**
     * The address to send queries to: an IP literal as it is, a host name looked up now through
     * the system resolver (so a changed address is picked up on the next query).
     *
     * @throws UnknownHostException when the name does not resolve; its message names the host
     */
    public InetSocketAddress resolve() throws UnknownHostException {
        InetAddress address = host.indexOf('%') < 0 ? IpLiteral.parseOrNull(host) : null;
        if (address == null) { // a name, or an IPv6 literal with a zone index (parsed, not looked up)
            try {
                address = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new UnknownHostException("cannot resolve host name '" + host + "'");
            }
        }
        return new InetSocketAddress(address, port);
    }

    /** {@code host:port}, with brackets around IPv6 literals. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
