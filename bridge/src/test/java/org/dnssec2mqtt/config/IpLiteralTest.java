package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpLiteralTest {
    @ParameterizedTest
    @CsvSource({
        "127.0.0.1, 127.0.0.1",
        "0.0.0.0, 0.0.0.0",
        "255.255.255.255, 255.255.255.255",
        "::1, 0:0:0:0:0:0:0:1",
        "2001:db8::53, 2001:db8:0:0:0:0:0:53",
        "::ffff:192.0.2.1, 192.0.2.1",
    })
    void literalsAreParsed(String text, String address) {
        assertEquals(address, IpLiteral.parseOrNull(text).getHostAddress());
    }

    @ParameterizedTest
    @CsvSource({"1.2.3.999", "256.0.0.1", "1.2.3", "1.2.3.4.5", "ns1.example.net", "localhost", "example", "1.2.3.4a", "g::1"})
    void anythingElseIsNotALiteralAndIsNeverLookedUp(String text) {
        assertNull(IpLiteral.parseOrNull(text));
    }
}
