package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SerialsTest {

    /** RFC 1982 §3.2, with the examples of §5.2 (SERIAL_BITS 32). */
    @ParameterizedTest
    @CsvSource({
        "2,          1,          true",
        "1,          2,          false",
        "7,          7,          false",
        "5,          4294967295, true",
        "4294967295, 5,          false",
        "0,          4294967295, true",
        "2147483647, 0,          true",
        "2147483648, 0,          false", // undefined by the RFC: neither is newer
        "0,          2147483648, false",
    })
    void newer(long a, long b, boolean expected) {
        assertEquals(expected, Serials.newer(a, b));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        1 2 3             | 3
        4294967295 5      | 5
        5 4294967295 4    | 5
        4294967290        | 4294967290
        """)
    void newest(String serials, long expected) {
        List<Long> list = List.of(serials.split(" ")).stream().map(Long::parseLong).toList();
        assertEquals(expected, Serials.newest(list, 0));
        assertEquals(9, Serials.newest(List.of(), 9), "none: the fallback");
    }
}
