package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Name;

class CommandsTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "example.com                                 | example.com. |",
        "  Example.COM.                              | example.com. |",
        "{\"zone\":\"example.com\"}                  | example.com. |",
        "{\"zone\":\"example.com\",\"transaction\":\"t1\"} | example.com. | t1",
        "{\"transaction\":7,\"zone\":\".\"}          | .            | 7",
    })
    void readsZoneAndTransaction(String payload, String zone, String transaction) throws Exception {
        Commands.Recheck r = Commands.parseRecheck(b(payload));
        assertEquals(Name.fromString(zone), r.zone());
        assertEquals(transaction, r.transaction());
    }

    @Test
    void starMeansEveryZone() throws Exception {
        assertNull(Commands.parseRecheck(b("*")).zone());
        assertNull(Commands.parseRecheck(b("{\"zone\":\"*\",\"transaction\":\"x\"}")).zone());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "                          | empty request: send a zone name, '*', or {\"zone\":\"example.com\"}",
        "{\"zone\":               | request is not valid JSON: send a zone name, '*', or {\"zone\":\"example.com\"}",
        "[1,2]                     | request is JSON but not an object: send {\"zone\":\"example.com\"}",
        "{\"transaction\":\"t\"}  | request has no \"zone\" string: send {\"zone\":\"example.com\"}",
        "{\"zone\":5}             | request has no \"zone\" string: send {\"zone\":\"example.com\"}",
        "a..b                      | 'a..b' is not a zone name",
    })
    void refusesBadRequestsWithAClearMessage(String payload, String message) {
        Commands.BadRequest e = assertThrows(Commands.BadRequest.class,
                () -> Commands.parseRecheck(b(payload == null ? "" : payload)));
        assertEquals(message, e.getMessage().substring(0, Math.min(e.getMessage().length(), message.length())));
        // issue 10 fault 8: no parser internals such as "java.io.EOFException: End of input at line 1 column 9"
        assertFalse(e.getMessage().contains("Exception") || e.getMessage().contains("line 1 column"), e.getMessage());
    }

    @Test
    void refusesBinaryAndHugePayloads() {
        assertEquals("request is not UTF-8 text", assertThrows(Commands.BadRequest.class,
                () -> Commands.parseRecheck(new byte[] {(byte) 0xff, (byte) 0xfe, 0})).getMessage());
        assertEquals("request of 65537 bytes is over the 65536 byte limit", assertThrows(Commands.BadRequest.class,
                () -> Commands.parseRecheck(new byte[65537])).getMessage());
    }

    @Test
    void transactionSurvivesABadZone() {
        Commands.BadRequest e = assertThrows(Commands.BadRequest.class,
                () -> Commands.parseRecheck(b("{\"zone\":\"a..b\",\"transaction\":\"t9\"}")));
        assertEquals("t9", e.transaction);
    }
}
