package org.dnssec2mqtt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;

/**
 * The benchmark asks {@link org.dnssec2mqtt.support.Peers} for every program it runs before it
 * starts anything, so a missing one skips it locally and fails it in CI, instead of the naive loop
 * waiting for keys that never come (a machine without {@code dig} hung BenchSmokeIT for 120 s).
 */
class BenchToolsTest {
    @Test
    void everyProgramTheNaiveLoopRunsIsRequiredUpFront() throws Exception {
        String script = Files.readString(Path.of("bench/naive-bridge.pl"));
        List<String> required = Bench.tools(true);
        assertTrue(required.contains("perl"), required.toString());
        // backticks and system('prog', ...) are how the script runs programs
        Matcher m = Pattern.compile("`([\\w./-]+)|system\\('([^']+)'").matcher(script);
        int programs = 0;
        while (m.find()) {
            String program = m.group(1) != null ? m.group(1) : m.group(2);
            assertTrue(required.contains(program), program + " is run by naive-bridge.pl but not required: " + required);
            programs++;
        }
        assertTrue(programs >= 2, "expected dig and mosquitto_pub in the script");
    }

    @Test
    void withoutTheNaiveLoopItNeedsOnlyTheServers() {
        List<String> required = Bench.tools(false);
        assertTrue(required.contains("/usr/sbin/nsd") && required.contains("/usr/sbin/mosquitto"), required.toString());
        assertFalse(required.contains("dig"), required.toString());
    }

    /**
     * The bench's NOTIFY sender past the 16-bit ID space: 65,537 NOTIFYs, so the first and the
     * last share ID 1. A responder answers all but the first zone's. Matched by ID alone, the
     * last one's reply would also settle the first (or the first's entry would be overwritten):
     * the burst's "unanswered" count would read 0.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void repliesAreMatchedByIdAndZoneBeyondSixtyFiveThousandNotifies() throws Exception {
        int n = 65_537;
        List<Name> zones = BenchZones.names("w", n);
        Name silent = zones.get(0);
        try (DatagramChannel responder = DatagramChannel.open()) {
            responder.setOption(StandardSocketOptions.SO_RCVBUF, Notifier.RECEIVE_BUFFER);
            responder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread answering = new Thread(() -> answerAllBut(responder, silent), "test-responder");
            answering.setDaemon(true);
            answering.start();
            try (Notifier notifier = new Notifier((InetSocketAddress) responder.getLocalAddress())) {
                assertTrue(notifier.receiveBuffer() > 212_992, "receive buffer " + notifier.receiveBuffer());
                for (Name z : zones) {
                    notifier.notify(z, null, true); // retransmitted: a reply lost on loopback is asked again
                }
                while (notifier.answered.get() < n - 1) {
                    Thread.sleep(10); // polling the reader thread's counter; bounded by @Timeout
                }
                assertEquals(n - 1, notifier.answered.get());
                assertEquals(1, notifier.unanswered(), "only the first zone's NOTIFY is unanswered");
            }
        }
    }

    /** Echoes each NOTIFY back with QR set (RFC 1996 §4.7), except those for {@code silent}. */
    private static void answerAllBut(DatagramChannel channel, Name silent) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (channel.isOpen()) {
            try {
                buf.clear();
                SocketAddress from = channel.receive(buf);
                Message m = new Message(Arrays.copyOf(buf.array(), buf.position()));
                if (m.getQuestion().getName().equals(silent)) {
                    continue;
                }
                m.getHeader().setFlag(Flags.QR);
                channel.send(ByteBuffer.wrap(m.toWire()), from);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** The stamping subscriber sees a zone's next non-empty key message, not other zones' or cleared topics. */
    @Test
    @Timeout(30)
    void keyStampsCompleteOnTheZonesNextKeyMessage(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        org.dnssec2mqtt.broker.EmbeddedBroker broker = new org.dnssec2mqtt.broker.EmbeddedBroker(
                new InetSocketAddress("127.0.0.1", org.dnssec2mqtt.support.FreePorts.tcp()), dir);
        broker.start();
        try (KeyStamps stamps = KeyStamps.connect(broker.url(), "p");
                org.dnssec2mqtt.support.MqttRecorder pub = new org.dnssec2mqtt.support.MqttRecorder(broker.url(), "p/#")) {
            java.util.concurrent.CompletableFuture<Long> a = stamps.next("p/a.test");
            long t0 = System.nanoTime();
            pub.publish("p/b.test/keys/1", "{}", false);
            pub.publish("p/a.test/keys/2", "", false);
            pub.publish("p/a.test/state", "{}", false);
            pub.publish("p/a.test/keys/3", "{\"keytag\":3}", false);
            long at = a.get(10, TimeUnit.SECONDS);
            assertTrue(at > t0);
            pub.await(m -> m.topic().equals("p/a.test/keys/3"), java.time.Duration.ofSeconds(10));
            assertFalse(stamps.next("p/a.test").isDone(), "a new wait sees only later messages");
        } finally {
            broker.close();
        }
    }

    @Test
    void theHeapIsEveryGenerationNotOnlyTheYoung() {
        String serial = """
                12345:
                 def new generation   total 126976K, used 29484K [0x00000000d0000000, 0x00000000d89c0000, 0x00000000e0000000)
                  eden space 112896K,  19% used [0x00000000d0000000, 0x00000000d1590ce8, 0x00000000d6e40000)
                  from space 14080K,  52% used [0x00000000d6e40000, 0x00000000d757a428, 0x00000000d7c00000)
                  to   space 14080K,   0% used [0x00000000d7c00000, 0x00000000d7c00000, 0x00000000d89c0000)
                 tenured generation   total 282028K, used 252674K [0x00000000e0000000, 0x00000000f136b000, 0x0000000100000000)
                   the space 282028K,  89% used [0x00000000e0000000, 0x00000000ef6c0958, 0x00000000ef6c0a00, 0x00000000f136b000)
                 Metaspace       used 8447K, committed 9024K, reserved 1114112K
                  class space    used 1237K, committed 1472K, reserved 1048576K
                """;
        double[] heap = BridgeProcess.heapMiB(serial);
        assertEquals((29484 + 252674) / 1024.0, heap[0], 1e-9);
        assertEquals((126976 + 282028) / 1024.0, heap[1], 1e-9);
        assertEquals(-1, BridgeProcess.heapMiB("12345:\nno heap here\n")[0]);
    }
}
