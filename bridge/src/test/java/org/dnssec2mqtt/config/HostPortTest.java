package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        """)
    void parses(String text, String host, int port, String shown) {
        HostPort hp = HostPort.parse(text, 53);
        assertEquals(new HostPort(host, port), hp);
        assertEquals(shown, hp.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        ""              | expected host[:port]; got an empty value
        :53             | expected host[:port]; got ':53' (no host)
        ns1:0           | port must be 1-65535 (is '0')
        ns1:70000       | port must be 1-65535 (is '70000')
        ns1:abc         | port must be 1-65535 (is 'abc')
        [::1            | expected [ipv6]:port; got '[::1' (missing ']')
        [::1]x          | expected [ipv6]:port; got '[::1]x'
        """)
    void rejects(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text, 53));
        assertEquals(message, e.getMessage());
    }
}
