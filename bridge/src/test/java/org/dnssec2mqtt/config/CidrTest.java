package org.dnssec2mqtt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        # block             | address          | contained
        127.0.0.0/8         | 127.1.2.3        | true
        127.0.0.0/8         | 128.0.0.1        | false
        192.0.2.0/25        | 192.0.2.127      | true
        192.0.2.0/25        | 192.0.2.128      | false
        192.0.2.1           | 192.0.2.1        | true
        192.0.2.1           | 192.0.2.2        | false
        0.0.0.0/0           | 203.0.113.9      | true
        ::1/128             | ::1              | true
        ::1/128             | ::2              | false
        2001:db8::/32       | 2001:db8:1::1    | true
        2001:db8::/32       | 2001:db9::1      | false
        ::/0                | 2001:db8::1      | true
        # an IPv4 block never matches an IPv6 source, nor the other way round
        0.0.0.0/0           | 2001:db8::1      | false
        ::/0                | 192.0.2.1        | false
        """)
    void contains(String block, String address, boolean contained) throws Exception {
        assertEquals(contained, Cidr.parse(block).contains(InetAddress.getByName(address)));
    }

    /** A dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d; they must match IPv4 blocks. */
    @ParameterizedTest
    @CsvSource({"127.0.0.0/8, true", "10.0.0.0/8, false", "::1/128, false"})
    void v4MappedV6SourceCountsAsV4(String block, boolean contained) throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        // InetAddress.getByName("::ffff:127.0.0.1") would already hand back an Inet4Address
        InetAddress source = Inet6Address.getByAddress(null, mapped, -1);
        assertEquals(16, source.getAddress().length);
        assertEquals(contained, Cidr.parse(block).contains(source));
    }

    @Test
    void normalisesHostBitsAway() {
        assertEquals("10.0.0.0/8", Cidr.parse("10.1.2.3/8").toString());
        assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse(" 10.1.2.3/8 "));
        assertEquals("2001:db8:0:0:0:0:0:0/32", Cidr.parse("2001:db8::1/32").toString());
        assertEquals("0:0:0:0:0:0:0:1/128", Cidr.parse("::1").toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        10.0.0.0/33      | prefix length must be 0-32 (is '33')
        ::/129           | prefix length must be 0-128 (is '129')
        10.0.0.0/x       | prefix length must be 0-32 (is 'x')
        host.example     | expected an IP address or CIDR block; got 'host.example'
        1.2.3.999        | expected an IP address or CIDR block; got '1.2.3.999'
        1.2.3            | expected an IP address or CIDR block; got '1.2.3'
        2001:db8::g/64   | expected an IP address or CIDR block; got '2001:db8::g/64'
        """)
    void rejects(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
        assertEquals(message, e.getMessage());
    }
}
