package org.dnssec2mqtt.dns;

import static org.dnssec2mqtt.dns.NotifyHandlerTest.LOOPBACK;
import static org.dnssec2mqtt.dns.NotifyHandlerTest.NOTIFY_SOA;
import static org.dnssec2mqtt.dns.NotifyHandlerTest.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.dnssec2mqtt.support.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;

/** Real UDP and TCP sockets on 127.0.0.1, port 0. Waits on queues with timeouts, never sleeps. */
@Timeout(30)
class NotifyListenerTest {
    static final InetAddress LOCALHOST = NotifyHandlerTest.LOCAL;
    static final int IO_TIMEOUT_MS = 5000;

    final BlockingQueue<NotifyRequest> received = new LinkedBlockingQueue<>();
    NotifyListener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    NotifyListener start(Consumer<NotifyRequest> sink, Duration idle, int maxConnections, int maxMessage)
            throws IOException {
        listener = new NotifyListener(List.of(new InetSocketAddress(LOCALHOST, 0)),
                new NotifyHandler(LOOPBACK, TsigKeys.none(), false), sink, idle, maxConnections, maxMessage);
        listener.start();
        return listener;
    }

    NotifyListener start() throws IOException {
        return start(received::add, Duration.ofSeconds(10), 64, 65535);
    }

    @Test
    void udpAndTcpShareOnePortChosenForPortZero() throws Exception {
        start();
        InetSocketAddress bound = listener.boundAddresses().get(0);
        assertNotEquals(0, bound.getPort());
        assertEquals(List.of(bound), listener.udpAddresses());
        assertEquals(List.of(bound), listener.tcpAddresses());
    }

    @Test
    void theStartLineSaysWhichUdpReceiveBufferTheKernelGranted() throws Exception {
        try (LogCapture log = LogCapture.start()) {
            start();
            String line = log.await("UDP receive buffer", Duration.ofSeconds(5));
            assertTrue(line.matches("(?s).*notify listening on .*UDP receive buffer [1-9][0-9]* KiB.*"), line);
        }
    }

    @Test
    void aSmallerReceiveBufferThanAskedIsWarnedAboutWithTheSysctlThatRaisesIt() {
        // Linux with its default net.core.rmem_max: 212,992 bytes granted
        String warning = NotifyListener.receiveBufferWarning("127.0.0.1:5300", 4 << 20, 212_992);
        assertTrue(warning.contains("receive buffer 208 KiB, asked for 4096 KiB"), warning);
        assertTrue(warning.contains("sysctl -w net.core.rmem_max=4194304"), warning);
        assertNull(NotifyListener.receiveBufferWarning("127.0.0.1:5300", 4 << 20, 4 << 20));
    }

    @Test
    void notifyOverUdpIsAnsweredAndReachesTheSink() throws Exception {
        start();
        try (DatagramSocket client = udpClient()) {
            Message reply = udpExchange(client, NOTIFY_SOA);
            assertEquals(0x1234, reply.getHeader().getID());
            assertEquals(Rcode.NOERROR, reply.getRcode());
        }
        NotifyRequest request = received.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertEquals("example.com.", request.zone().toString());
        assertEquals(2024010101L, request.serial());
        assertEquals(1, listener.accepted());
    }

    /**
     * Issue 11: on a quiet listener the thread that read a NOTIFY hands it to the sink itself; a
     * hand-off to the dispatcher thread was one more wake-up on the NOTIFY → first key path.
     * One sink call at a time still: a second NOTIFY while the sink is busy waits in its queue.
     */
    @Test
    void aQuietListenerHandsTheNotifyToTheSinkOnTheThreadThatReadIt() throws Exception {
        BlockingQueue<String> threads = new LinkedBlockingQueue<>();
        start(r -> threads.add(Thread.currentThread().getName()), Duration.ofSeconds(10), 64, 65535);
        try (DatagramSocket udp = udpClient(); Socket tcp = tcpClient()) {
            assertEquals(Rcode.NOERROR, udpExchange(udp, NOTIFY_SOA).getRcode());
            String first = threads.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertTrue(first != null && first.startsWith("notify-udp-"), "sink called on " + first);
            assertEquals(Rcode.NOERROR, tcpExchange(tcp, NOTIFY_SOA).getRcode());
            String second = threads.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertTrue(second != null && second.startsWith("notify-tcp-"), "sink called on " + second);
        }
    }

    /**
     * Held (the bridge's saved states still load): NOTIFYs over UDP and TCP are answered and wait
     * in the queues, and no thread of the listener calls the sink; released, they all reach it.
     */
    @Test
    void aHeldListenerAnswersAndQueuesAndHandsOnOnlyWhenReleased() throws Exception {
        listener = new NotifyListener(List.of(new InetSocketAddress(LOCALHOST, 0)),
                new NotifyHandler(LOOPBACK, TsigKeys.none(), false), received::add);
        listener.hold();
        listener.start();
        try (DatagramSocket udp = udpClient(); Socket tcp = tcpClient()) {
            assertEquals(Rcode.NOERROR, udpExchange(udp, NOTIFY_SOA).getRcode());
            assertEquals(Rcode.NOERROR, tcpExchange(tcp, NOTIFY_SOA).getRcode());
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS);
        while (listener.queued() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(1); // polling interval: each is queued just after its reply went out
        }
        assertEquals(2, listener.queued(), "both wait in the queues");
        assertNull(received.poll(), "nothing reached the sink while held");
        listener.release();
        assertEquals("example.com.", received.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS).zone().toString());
        assertEquals("example.com.", received.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS).zone().toString());
        assertEquals(0, listener.queued());
    }

    @Test
    void notifyOverTcpIsAnsweredAndReachesTheSink() throws Exception {
        start();
        try (Socket client = tcpClient()) {
            Message reply = tcpExchange(client, NOTIFY_SOA);
            assertEquals(Rcode.NOERROR, reply.getRcode());
        }
        assertEquals("example.com.", received.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS).zone().toString());
    }

    @Test
    void severalMessagesOnOneTcpConnection() throws Exception {
        start();
        try (Socket client = tcpClient()) {
            assertEquals(Rcode.NOERROR, tcpExchange(client, NOTIFY_SOA).getRcode());
            assertEquals(Rcode.NOERROR, tcpExchange(client, NotifyHandlerTest.NOTIFY_NO_SOA).getRcode());
        }
        assertEquals(2024010101L, received.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS).serial());
        assertEquals(null, received.poll(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS).serial());
        assertEquals(2, listener.accepted());
    }

    @Test
    void garbageThenAValidNotifyStillWorks() throws Exception {
        start();
        byte[] garbage = bytes(
                0xde, 0xad,             // ID
                0x20, 0x00,             // NOTIFY, QR clear: a query, so it earns a FORMERR
                0xff, 0xff,             // QDCOUNT 65535, none of which follow
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02);
        byte[] junkResponse = bytes(0xbe, 0xef, 0x80, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00); // QR set
        try (DatagramSocket udp = udpClient(); Socket tcp = tcpClient()) {
            assertEquals(Rcode.FORMERR, udpExchange(udp, garbage).getRcode());
            // No reply to a response: the next datagram we get is the NOTIFY's answer.
            udp.send(new DatagramPacket(junkResponse, junkResponse.length, listener.udpAddresses().get(0)));
            assertEquals(0x1234, udpExchange(udp, NOTIFY_SOA).getHeader().getID());
            assertEquals(Rcode.FORMERR, tcpExchange(tcp, garbage).getRcode());
            assertEquals(Rcode.NOERROR, tcpExchange(tcp, NOTIFY_SOA).getRcode());
        }
        assertEquals(2, listener.formerr());
        assertEquals(1, listener.dropped());
        assertEquals(2, listener.accepted());
    }

    @Test
    void aThrowingSinkCostsNothingButACounter() throws Exception {
        start(r -> {
            throw new IllegalStateException("sink bug");
        }, Duration.ofSeconds(10), 64, 65535);
        try (DatagramSocket client = udpClient()) {
            assertEquals(Rcode.NOERROR, udpExchange(client, NOTIFY_SOA).getRcode());
            assertEquals(Rcode.NOERROR, udpExchange(client, NOTIFY_SOA).getRcode());
        }
        // The sink runs on the dispatcher thread, after the reply: poll for the count.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS);
        while (listener.sinkErrors() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(5); // polling interval
        }
        assertEquals(2, listener.sinkErrors());
        try (DatagramSocket client = udpClient()) {
            assertEquals(Rcode.NOERROR, udpExchange(client, NOTIFY_SOA).getRcode(), "still answering");
        }
    }

    /**
     * Issue 11: every NOTIFY answered at once whatever the check backlog. The sink blocks (as a
     * busy pipeline would) on the very first NOTIFY; every later one, over UDP from two sources
     * and over TCP, is still answered, and all reach the sink once it is released.
     */
    @Test
    void repliesNeverWaitForABlockedSink() throws Exception {
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger reached = new java.util.concurrent.atomic.AtomicInteger();
        start(r -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reached.incrementAndGet();
        }, Duration.ofSeconds(10), 64, 65535);
        int perSource = 100;
        try (DatagramSocket first = udpClient(); Socket tcp = tcpClient();
                DatagramSocket second = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0))) {
            second.setSoTimeout(IO_TIMEOUT_MS);
            assertEquals(Rcode.NOERROR, udpExchange(first, NOTIFY_SOA).getRcode());
            assertTrue(entered.await(IO_TIMEOUT_MS, TimeUnit.MILLISECONDS), "the sink took the first NOTIFY");
            for (int i = 1; i < perSource; i++) {
                assertEquals(Rcode.NOERROR, udpExchange(first, NOTIFY_SOA).getRcode(), "UDP reply " + i);
                assertEquals(Rcode.NOERROR, udpExchange(second, NOTIFY_SOA).getRcode(), "UDP reply from .2, " + i);
                assertEquals(Rcode.NOERROR, tcpExchange(tcp, NOTIFY_SOA).getRcode(), "TCP reply " + i);
            }
            assertEquals(0, reached.get(), "the sink is still blocked");
            // the last request is queued just after its reply went out
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS);
            while (listener.queued() < 3 * perSource - 3 && System.nanoTime() < deadline) {
                Thread.sleep(1); // polling interval
            }
            assertEquals(3 * perSource - 3, listener.queued(), "everything else waits in the queues");
        } finally {
            release.countDown();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS);
        while (reached.get() < 3 * perSource - 2 && System.nanoTime() < deadline) {
            Thread.sleep(5); // polling interval for the dispatcher's progress
        }
        assertEquals(3 * perSource - 2, reached.get(), "none lost");
    }

    @Test
    void oversizedTcpFrameClosesOnlyThatConnection() throws Exception {
        start(received::add, Duration.ofSeconds(10), 64, 512);
        try (Socket good = tcpClient(); Socket bad = tcpClient()) {
            assertEquals(Rcode.NOERROR, tcpExchange(good, NOTIFY_SOA).getRcode());

            bad.getOutputStream().write(bytes(0x08, 0x00)); // length 2048 > 512
            assertClosedByPeer(bad);

            assertEquals(Rcode.NOERROR, tcpExchange(good, NOTIFY_SOA).getRcode());
        }
    }

    @Test
    void zeroLengthTcpFrameClosesTheConnection() throws Exception {
        start();
        try (Socket client = tcpClient()) {
            client.getOutputStream().write(bytes(0x00, 0x00));
            assertClosedByPeer(client);
        }
    }

    @Test
    void idleTcpConnectionIsClosed() throws Exception {
        start(received::add, Duration.ofMillis(200), 64, 65535);
        try (Socket client = tcpClient()) {
            assertClosedByPeer(client); // within IO_TIMEOUT_MS, not the client's own timeout
        }
    }

    @Test
    void connectionsBeyondTheCapAreClosedAtOnce() throws Exception {
        start(received::add, Duration.ofSeconds(10), 1, 65535);
        try (Socket first = tcpClient()) {
            assertEquals(Rcode.NOERROR, tcpExchange(first, NOTIFY_SOA).getRcode()); // holds the slot
            try (Socket second = tcpClient()) {
                assertClosedByPeer(second);
            }
            assertEquals(1, listener.connectionsRejected());
            assertEquals(Rcode.NOERROR, tcpExchange(first, NOTIFY_SOA).getRcode());
        }
    }

    @Test
    void portInUseGivesAClearMessageAndLeavesNothingBound() throws Exception {
        try (DatagramChannel squatter = DatagramChannel.open()) {
            squatter.bind(new InetSocketAddress(LOCALHOST, 0));
            int port = ((InetSocketAddress) squatter.getLocalAddress()).getPort();
            listener = new NotifyListener(List.of(new InetSocketAddress(LOCALHOST, port)),
                    new NotifyHandler(LOOPBACK, TsigKeys.none(), false), received::add);

            IOException e = assertThrows(IOException.class, listener::start);

            assertEquals("notify.listen: cannot bind 127.0.0.1:" + port
                    + " (UDP): Address already in use; choose another port or stop the other process", e.getMessage());
            // The TCP socket bound before UDP failed must be released again.
            try (ServerSocketChannel tcp = ServerSocketChannel.open()) {
                tcp.bind(new InetSocketAddress(LOCALHOST, port));
            }
        }
    }

    @Test
    void closeIsIdempotentAndReleasesThePort() throws Exception {
        start();
        InetSocketAddress bound = listener.boundAddresses().get(0);
        listener.close();
        listener.close();
        try (DatagramChannel udp = DatagramChannel.open(); ServerSocketChannel tcp = ServerSocketChannel.open()) {
            udp.bind(bound);
            tcp.bind(bound);
        }
    }

    // ---- helpers ----

    DatagramSocket udpClient() throws SocketException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOCALHOST, 0));
        s.setSoTimeout(IO_TIMEOUT_MS);
        return s;
    }

    Message udpExchange(DatagramSocket client, byte[] request) throws IOException {
        client.send(new DatagramPacket(request, request.length, listener.udpAddresses().get(0)));
        DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
        client.receive(p);
        return new Message(Arrays.copyOf(p.getData(), p.getLength()));
    }

    Socket tcpClient() throws IOException {
        Socket s = new Socket();
        s.connect(listener.tcpAddresses().get(0), IO_TIMEOUT_MS);
        s.setSoTimeout(IO_TIMEOUT_MS);
        return s;
    }

    static Message tcpExchange(Socket client, byte[] request) throws IOException {
        OutputStream out = client.getOutputStream();
        out.write(new byte[] {(byte) (request.length >>> 8), (byte) request.length});
        out.write(request);
        out.flush();
        DataInputStream in = new DataInputStream(client.getInputStream());
        byte[] reply = new byte[in.readUnsignedShort()];
        in.readFully(reply);
        return new Message(reply);
    }

    /** The server closed: EOF, or a reset if it closed with our bytes unread. */
    static void assertClosedByPeer(Socket client) throws IOException {
        InputStream in = client.getInputStream();
        try {
            assertEquals(-1, in.read(), "connection closed by the listener");
        } catch (SocketException reset) {
            assertTrue(String.valueOf(reset.getMessage()).contains("reset"), reset.toString());
        }
    }
}
