package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.TSIG;

/**
 * Coverage-guided fuzzing of {@link NotifyHandler#handle} with Jazzer. In a normal test run
 * (regression mode) it replays every input in
 * {@code src/test/resources/org/dnssec2mqtt/dns/NotifyHandlerFuzzTestInputs/handle/} (seeds plus
 * anything a fuzzing run found); with {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration}:
 *
 * <pre>
 * JAZZER_FUZZ=1 mvn -B test -Dtest=NotifyHandlerFuzzTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * <p>Each input goes to a lenient and a TSIG-requiring handler, from an allowed and a foreign
 * source, and every outcome must keep the invariants below: no internal error (dnsjava surprise),
 * a reply exactly when the packet is not dropped, a reply that parses with the request's ID and
 * opcode and QR set, no amplification, REFUSED and nothing accepted for a foreign source.
 */
class NotifyHandlerFuzzTest {
    static final Name KEY_NAME = Name.fromConstantString("notify-key.");
    static final TSIG KEY = new TSIG(TSIG.HMAC_SHA256, KEY_NAME,
            Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes()));
    static final TSIG WRONG_KEY = new TSIG(TSIG.HMAC_SHA256, KEY_NAME,
            Base64.getEncoder().encodeToString("fedcba9876543210fedcba9876543210".getBytes()));
    static final TsigKeys KEYS = new TsigKeys(Map.of(KEY_NAME, KEY));
    static final InetAddress ALLOWED = InetAddress.getLoopbackAddress();
    static final InetAddress FOREIGN = NotifyHandlerTest.STRANGER;
    static final NotifyHandler LENIENT = new NotifyHandler(NotifyHandlerTest.LOOPBACK, KEYS, false);
    static final NotifyHandler STRICT = new NotifyHandler(NotifyHandlerTest.LOOPBACK, KEYS, true);
    static final Path CORPUS = Path.of("src/test/resources/org/dnssec2mqtt/dns/NotifyHandlerFuzzTestInputs/handle");

    @FuzzTest(maxDuration = "2m")
    void handle(byte[] packet) {
        for (NotifyHandler handler : List.of(LENIENT, STRICT)) {
            check(handler, packet, ALLOWED);
            check(handler, packet, FOREIGN);
        }
    }

    static void check(NotifyHandler handler, byte[] packet, InetAddress source) {
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, source);
        String what = out.reason() + " for " + HexFormat.of().formatHex(packet);
        assertNotNull(out.reason());
        assertFalse(out.reason().endsWith("-internal"), "handler hit an internal error: " + what);
        assertEquals(out.reason().startsWith("dropped"), out.reply() == null, what);
        if (out.reply() == null) {
            assertNull(out.accepted(), what);
            return;
        }
        Message reply;
        try {
            reply = new Message(out.reply());
        } catch (IOException e) {
            throw new AssertionError("reply does not parse: " + e + "; " + what, e);
        }
        assertEquals(((packet[0] & 0xff) << 8) | (packet[1] & 0xff), reply.getHeader().getID(), what);
        assertTrue(reply.getHeader().getFlag(Flags.QR), what);
        assertEquals((packet[2] >> 3) & 0x0f, reply.getHeader().getOpcode(), what);
        // No amplification: a reply is never much larger than what provoked it.
        assertTrue(out.reply().length <= Math.max(packet.length, 12) + 64,
                "reply of " + out.reply().length + " bytes to " + packet.length + ": " + what);
        if (source.equals(FOREIGN)) {
            assertEquals(Rcode.REFUSED, reply.getHeader().getRcode(), what);
            assertNull(out.accepted(), what);
        }
        if (out.accepted() != null) {
            assertEquals("accepted", out.reason());
            assertEquals(Rcode.NOERROR, reply.getRcode(), what);
        }
    }

    /** The seed corpus is the one {@link NotifyPackets#seeds} builds; regenerate it when that changes. */
    @Test
    void seedCorpusIsPresent() throws IOException {
        if (Boolean.getBoolean("fuzz.writeSeeds")) {
            Files.createDirectories(CORPUS);
            List<byte[]> seeds = NotifyPackets.seeds(KEY, WRONG_KEY);
            for (int i = 0; i < seeds.size(); i++) {
                Files.write(CORPUS.resolve(String.format("seed-%02d", i)), seeds.get(i));
            }
        }
        try (var files = Files.list(CORPUS)) {
            assertTrue(files.count() >= 30, "seed corpus in " + CORPUS);
        }
    }
}
