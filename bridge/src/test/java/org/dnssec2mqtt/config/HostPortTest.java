package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPortTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        # text                | host             | port | toString
        ns1.example.org       | ns1.example.org  | 53   | ns1.example.org:53
        ns1.example.org:5300  | ns1.example.org  | 5300 | ns1.example.org:5300
        192.0.2.1:53          | 192.0.2.1        | 53   | 192.0.2.1:53
        ' 192.0.2.1 '         | 192.0.2.1        | 53   | 192.0.2.1:53
        [2001:db8::1]:5300    | 2001:db8::1      | 5300 | [2001:db8::1]:5300
        [::1]                 | ::1              | 53   | [::1]:53
        2001:db8::1           | 2001:db8::1      | 53   | [2001:db8::1]:53
        192.0.2.1.:53         | 192.0.2.1        | 53   | 192.0.2.1:53
        ns1.example.org.      | ns1.example.org. | 53   | ns1.example.org.:53
        a-1.b2.EXAMPLE        | a-1.b2.EXAMPLE   | 53   | a-1.b2.EXAMPLE:53
        localhost:5300        | localhost        | 5300 | localhost:5300
        [fe80::1%eth0]:53     | fe80::1%eth0     | 53   | [fe80::1%eth0]:53
        """)
    void parses(String text, String host, int port, String shown) {
        HostPort hp = HostPort.parse(text, 53);
        assertEquals(new HostPort(host, port), hp);
        assertEquals(shown, hp.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        ""                    | expected host[:port]; got an empty value
        :53                   | ':53' is not a host[:port]: no host
        ns1:0                 | 'ns1:0' is not a host[:port]: port must be 1-65535 (is '0')
        ns1:70000             | 'ns1:70000' is not a host[:port]: port must be 1-65535 (is '70000')
        ns1:abc               | 'ns1:abc' is not a host[:port]: port must be 1-65535 (is 'abc')
        [::1                  | '[::1' is not a host[:port]: missing ']' (expected [ipv6]:port)
        [::1]x                | '[::1]x' is not a host[:port]: expected [ipv6]:port
        127.0.0.1:5301 127.0.0.1:5302 | '127.0.0.1:5301 127.0.0.1:5302' is not a host[:port]: it contains whitespace (in a list, separate entries with commas or spaces)
        127.0.0.1:5301;x      | '127.0.0.1:5301;x' is not a host[:port]: port must be 1-65535 (is '5301;x')
        ns1;x:53              | 'ns1;x:53' is not a host[:port]: ';' is not allowed in a host name (letters, digits, '-' and '.'; IPv6 as [address]:port)
        ns_1.example.org      | 'ns_1.example.org' is not a host[:port]: '_' is not allowed in a host name (letters, digits, '-' and '.'; IPv6 as [address]:port)
        ns1..example.org      | 'ns1..example.org' is not a host[:port]: empty label in host name 'ns1..example.org'
        .                     | '.' is not a host[:port]: '.' is not a host name
        -ns1.example.org      | '-ns1.example.org' is not a host[:port]: label '-ns1' starts or ends with '-'
        1.2.3.999             | '1.2.3.999' is not a host[:port]: '1.2.3.999' is not an IPv4 address
        127.0.0.1.5301        | '127.0.0.1.5301' is not a host[:port]: '127.0.0.1.5301' is not an IPv4 address
        2001:db8::1:5300:x    | '2001:db8::1:5300:x' is not a host[:port]: not an IPv6 address (with a port, write [ipv6]:port)
        [ns1.example.org]:53  | '[ns1.example.org]:53' is not a host[:port]: 'ns1.example.org' in brackets is not an IPv6 address
        [192.0.2.1]:53        | '[192.0.2.1]:53' is not a host[:port]: '192.0.2.1' in brackets is not an IPv6 address
        [fe80::1%a/b]:53      | '[fe80::1%a/b]:53' is not a host[:port]: 'fe80::1%a/b' in brackets is not an IPv6 address
        """)
    void rejects(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text, 53));
        assertEquals(message, e.getMessage());
    }

    @Test
    void longLabelsAndNamesAreRejected() {
        String label = "a".repeat(64);
        assertEquals("'" + label + ".test' is not a host[:port]: label '" + label + "' is longer than 63 characters",
                assertThrows(IllegalArgumentException.class, () -> HostPort.parse(label + ".test", 53)).getMessage());
        String name = ("a".repeat(63) + ".").repeat(4) + "test";
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HostPort.parse(name, 53)).getMessage()
                .endsWith(": host name longer than 253 characters"));
        HostPort.parse(("a".repeat(63) + ".").repeat(3) + "a".repeat(61), 53); // 253: fine
    }

    @Test
    void resolvesLiteralsWithoutDnsAndNamesFromTheSystemResolver() throws Exception {
        assertEquals(new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1}), 5300),
                HostPort.parse("192.0.2.1:5300", 53).resolve());
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 53), HostPort.parse("[::1]", 53).resolve());
        // /etc/hosts: no DNS traffic leaves the machine
        InetSocketAddress localhost = HostPort.parse("localhost:5300", 53).resolve();
        assertFalse(localhost.isUnresolved());
        assertTrue(localhost.getAddress().isLoopbackAddress(), localhost.toString());
    }
}
