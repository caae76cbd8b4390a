package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;

/**
 * The NOTIFY listener under abuse, black box, on real loopback sockets (127.0.0.0/8 only): a
 * stream of random and mutated packets over UDP and TCP, TCP connections that never send or drip,
 * and a flood from one source while another sends one NOTIFY. Budgets are small for CI and can be
 * raised: {@code -Dabuse.packets=1000000 -Dabuse.seconds=300 -Dflood.count=200000}.
 */
@Timeout(120)
class NotifyAbuseIT {
    static final int PACKETS = Integer.getInteger("abuse.packets", 30_000);
    static final long SECONDS = Long.getLong("abuse.seconds", 4);
    static final int FLOOD = Integer.getInteger("flood.count", 20_000);
    static final long SEED = Long.getLong("abuse.seed", System.nanoTime());
    /** How often a probe NOTIFY over UDP is resent until answered. */
    static final int PROBE_RETRY_MS = 200;

    final BlockingQueue<NotifyRequest> received = new LinkedBlockingQueue<>();
    NotifyListener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    NotifyListener start(Consumer<NotifyRequest> sink, Duration idle, int maxConnections) throws IOException {
        listener = new NotifyListener(List.of(new InetSocketAddress(addr("127.0.0.1"), 0)),
                new NotifyHandler(NotifyHandlerTest.LOOPBACK, NotifyHandlerFuzzTest.KEYS, false), sink, idle,
                maxConnections, 65535);
        listener.start();
        return listener;
    }

    InetSocketAddress at() {
        return listener.boundAddresses().get(0);
    }

    @Test
    void randomAndMutatedPacketsOverUdpAndTcpLeaveItAnsweringWithAFlatHeap() throws Exception {
        start(received::add, Duration.ofSeconds(1), 64);
        System.out.println("abuse: seed=" + SEED + " (run again with -Dabuse.seed=" + SEED + ")");
        Random random = new Random(SEED);
        List<byte[]> seeds = NotifyPackets.seeds(NotifyHandlerFuzzTest.KEY, NotifyHandlerFuzzTest.WRONG_KEY);
        // Warm up (class loading, JIT) before the heap baseline.
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(addr("127.0.0.1"), 0))) {
            for (int i = 0; i < 2000; i++) {
                byte[] p = NotifyPackets.mutate(seeds, random);
                udp.send(new DatagramPacket(p, p.length, at()));
            }
            assertAnswersPromptly();
        }
        long heapBefore = usedHeapAfterGc();

        long sent = 0;
        long sentTcp = 0;
        long tcpReconnects = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        List<Socket> tcp = new ArrayList<>();
        List<Thread> drainers = new ArrayList<>();
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(addr("127.0.0.1"), 0))) {
            for (int i = 0; i < 4; i++) {
                tcp.add(tcpConnect(drainers));
            }
            while (sent < PACKETS && System.nanoTime() < deadline) {
                byte[] p = NotifyPackets.mutate(seeds, random);
                if (random.nextInt(8) != 0) {
                    if (p.length <= 65_507) {
                        udp.send(new DatagramPacket(p, p.length, at()));
                    }
                } else {
                    int slot = random.nextInt(tcp.size());
                    try {
                        OutputStream out = tcp.get(slot).getOutputStream();
                        int length = random.nextInt(40) == 0 ? random.nextInt(65536) : Math.min(p.length, 65535);
                        out.write(new byte[] {(byte) (length >>> 8), (byte) length}); // sometimes a lie
                        out.write(p, 0, Math.min(p.length, 65535));
                        out.flush();
                        sentTcp++;
                    } catch (IOException closedByListener) {
                        // a bad frame closes the connection: that is the point; open another
                        tcp.get(slot).close();
                        tcp.set(slot, tcpConnect(drainers));
                        tcpReconnects++;
                    }
                }
                sent++;
                if ((sent & 1023) == 0) {
                    // UDP has no back-pressure: pace a little so the kernel buffer is not the only target
                    LockSupport.parkNanos(1_000_000);
                }
            }
        } finally {
            for (Socket s : tcp) {
                s.close();
            }
        }
        received.clear();
        assertAnswersPromptly();
        long heapAfter = usedHeapAfterGc();
        System.out.printf("abuse: seed=%d packets=%d (tcp %d, tcp reconnects %d) accepted=%d formerr=%d refused=%d "
                        + "notimp=%d notauth=%d dropped=%d heap before=%d KiB after=%d KiB%n",
                SEED, sent, sentTcp, tcpReconnects, listener.accepted(), listener.formerr(), listener.refused(),
                listener.notimp(), listener.notauth(), listener.dropped(), heapBefore / 1024, heapAfter / 1024);
        assertTrue(sent >= Math.min(PACKETS, 5_000), "sent only " + sent + " packets (seed " + SEED + ")");
        assertEquals(0, listener.sinkErrors());
        // Flat heap: nothing per packet is kept. Generous: GC and JIT make used heap noisy.
        assertTrue(heapAfter - heapBefore < 24L << 20,
                "used heap grew from " + heapBefore / 1024 + " KiB to " + heapAfter / 1024 + " KiB (seed " + SEED + ")");
    }

    @Test
    void idleDrippingAndHoggingTcpClientsAreCutOffWhileUdpKeepsWorking() throws Exception {
        Duration idle = Duration.ofMillis(600);
        start(received::add, idle, 16); // at most 16 connections, 4 per source address
        List<Socket> idleOnes = new ArrayList<>();
        try {
            // 5 sources x 6 connections that never send: 4 each are held until the cap of 16
            for (int source = 1; source <= 5; source++) {
                for (int i = 0; i < 6; i++) {
                    idleOnes.add(connectFrom("127.0.0." + source));
                }
            }
            long t0 = System.nanoTime();
            try (DatagramSocket udp = udpFrom("127.0.0.9")) {
                assertEquals(Rcode.NOERROR, exchange(udp, NotifyPackets.wire(NotifyPackets.notify(NotifyPackets.ZONE, 1, 77))).getRcode());
            }
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500), "UDP answer slow while TCP is hogged");
            // the kernel completes handshakes before the acceptor decides: poll for its verdicts
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (listener.connectionsRejected() < 14 && System.nanoTime() < deadline) {
                Thread.sleep(10); // polling interval
            }
            assertEquals(14, listener.connectionsRejected(), "30 connections against a cap of 16");

            // A length prefix of 65535 with no body, and a client dripping one byte per 100 ms:
            // both closed after the idle timeout, not when (if ever) the message is complete.
            for (Socket s : idleOnes) {
                s.close();
            }
            idleOnes.clear();
            awaitNoConnections();
            try (Socket big = connectFrom("127.0.0.7"); Socket drip = connectFrom("127.0.0.8")) {
                long start = System.nanoTime();
                big.getOutputStream().write(new byte[] {(byte) 0xff, (byte) 0xff, 0x12});
                drip.getOutputStream().write(new byte[] {0x00, 100});
                Thread dripper = new Thread(() -> {
                    try {
                        for (int i = 0; i < 100; i++) {
                            drip.getOutputStream().write(0x00);
                            Thread.sleep(100); // the slow client's pace, not a wait for a result
                        }
                    } catch (IOException | InterruptedException closed) {
                        // closed by the listener: expected
                    }
                });
                dripper.start();
                assertClosedByPeer(big);
                assertClosedByPeer(drip);
                long took = (System.nanoTime() - start) / 1_000_000;
                assertTrue(took < idle.toMillis() * 3, "closed after " + took + " ms");
                dripper.interrupt();
                dripper.join();
            }
            // Fresh clients are served again over TCP.
            try (Socket s = connectFrom("127.0.0.6")) {
                assertEquals(Rcode.NOERROR, tcpExchange(s, NotifyPackets.wire(NotifyPackets.notify(NotifyPackets.ZONE, 2, 78))).getRcode());
            }
        } finally {
            for (Socket s : idleOnes) {
                s.close();
            }
        }
    }

    @Test
    void aFloodFromOneSourceDoesNotDelayAnotherSourcesNotify() throws Exception {
        Name bZone = Name.fromConstantString("b.test.");
        BlockingQueue<Long> bArrived = new LinkedBlockingQueue<>();
        AtomicLong sinkCalls = new AtomicLong();
        // A sink that costs 0.5 ms a call: draining A's whole flood takes FLOOD/2000 seconds.
        start(r -> {
            sinkCalls.incrementAndGet();
            if (r.zone().equals(bZone)) {
                bArrived.add(System.nanoTime());
            }
            LockSupport.parkNanos(500_000);
        }, Duration.ofSeconds(10), 64);

        long bSent;
        long sentByA = 0;
        long floodMs;
        long floodStart = System.nanoTime();
        try (DatagramSocket a = udpFrom("127.0.0.2"); DatagramSocket b = udpFrom("127.0.0.3")) {
            AtomicLong answeredA = new AtomicLong();
            Thread drain = new Thread(() -> drainReplies(a, answeredA)); // A reads its replies, like a real primary
            drain.setDaemon(true);
            drain.start();
            long floodEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (int i = 0; i < FLOOD && System.nanoTime() < floodEnd; i++) {
                byte[] p = NotifyPackets.wire(NotifyPackets.notify(Name.fromConstantString("z" + (i % 5000) + ".a.test."), i, i & 0xffff));
                a.send(new DatagramPacket(p, p.length, at()));
                sentByA++;
                // At most 200 unanswered, so the kernel's socket buffer never overflows: this tests
                // the listener's queues, not UDP loss. The listener answers at once, so A still
                // sends thousands within a fraction of a second.
                while (sentByA - answeredA.get() > 200 && System.nanoTime() < floodEnd) {
                    LockSupport.parkNanos(20_000);
                }
            }
            floodMs = (System.nanoTime() - floodStart) / 1_000_000;
            assertTrue(listener.queued() > 1000, "A's backlog should be queued, is " + listener.queued());
            bSent = System.nanoTime();
            assertEquals(Rcode.NOERROR, exchange(b, NotifyPackets.wire(NotifyPackets.notify(bZone, 1, 4242))).getRcode());
        }
        Long bAt = bArrived.poll(5, TimeUnit.SECONDS);
        assertTrue(bAt != null, "B's NOTIFY never reached the sink");
        long delayMs = (bAt - bSent) / 1_000_000;
        long backlog = listener.queued();
        System.out.printf("flood: A sent %d in %d ms, accepted %d, B reached the sink after %d ms with %d of A's still queued; dropped %d%n",
                sentByA, floodMs, listener.accepted(), delayMs, backlog, listener.queueDropped());
        assertTrue(delayMs < 500, "B waited " + delayMs + " ms behind A's flood");
        assertEquals(0, listener.queueDropped(), "a burst far below the per-source cap must never be dropped");
    }

    // ---- helpers ----

    /**
     * A valid NOTIFY is answered within 1 s over UDP and over TCP. Over UDP the probe is resent
     * every {@link #PROBE_RETRY_MS} ms as a primary would (RFC 1996 §3.6): right after a flood the
     * listener's receive buffer may still be full, and the kernel drops what arrives until the
     * reader has worked through it; a probe sent once would then fail the test for nothing.
     */
    void assertAnswersPromptly() throws IOException {
        long t0 = System.nanoTime();
        try (DatagramSocket udp = udpFrom("127.0.0.1")) {
            Message reply = exchangeResending(udp, NotifyPackets.wire(NotifyPackets.notify(NotifyPackets.ZONE, 99, 0x7777)),
                    Duration.ofSeconds(1));
            assertEquals(Rcode.NOERROR, reply.getRcode());
        }
        try (Socket s = connectFrom("127.0.0.1")) {
            assertEquals(Rcode.NOERROR, tcpExchange(s, NotifyPackets.wire(NotifyPackets.notify(NotifyPackets.ZONE, 99, 0x7778))).getRcode());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "a valid NOTIFY took " + ms + " ms over UDP and TCP (seed " + SEED + ")");
    }

    /** Sends {@code request}, again every {@link #PROBE_RETRY_MS} ms until answered; fails after {@code bound}. */
    Message exchangeResending(DatagramSocket s, byte[] request, Duration bound) throws IOException {
        int id = ((request[0] & 0xff) << 8) | (request[1] & 0xff);
        long deadline = System.nanoTime() + bound.toNanos();
        int timeout = s.getSoTimeout();
        int sends = 0;
        try {
            s.setSoTimeout(PROBE_RETRY_MS);
            while (System.nanoTime() < deadline) {
                s.send(new DatagramPacket(request, request.length, at()));
                sends++;
                long resendAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_RETRY_MS);
                try {
                    while (System.nanoTime() < resendAt) {
                        DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
                        s.receive(p);
                        Message m = new Message(Arrays.copyOf(p.getData(), p.getLength()));
                        if (m.getHeader().getID() == id) {
                            return m;
                        }
                    }
                } catch (java.net.SocketTimeoutException resend) {
                    // no answer within the retry interval: send it again
                }
            }
        } finally {
            s.setSoTimeout(timeout);
        }
        throw new AssertionError("a valid NOTIFY sent " + sends + " times over UDP was not answered within " + bound
                + " (seed " + SEED + ")");
    }

    Socket tcpConnect(List<Thread> drainers) throws IOException {
        Socket s = connectFrom("127.0.0.1");
        Thread t = new Thread(() -> {
            try {
                InputStream in = s.getInputStream();
                byte[] buf = new byte[8192];
                while (in.read(buf) >= 0) {
                    // discard replies so the listener never blocks on a full socket
                }
            } catch (IOException closed) {
                // done
            }
        });
        t.setDaemon(true);
        t.start();
        drainers.add(t);
        return s;
    }

    Socket connectFrom(String source) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(addr(source), 0));
        s.connect(at(), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    static DatagramSocket udpFrom(String source) throws SocketException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr(source), 0));
        s.setSoTimeout(2000);
        return s;
    }

    Message exchange(DatagramSocket s, byte[] request) throws IOException {
        int id = ((request[0] & 0xff) << 8) | (request[1] & 0xff);
        s.send(new DatagramPacket(request, request.length, at()));
        while (true) {
            DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
            s.receive(p);
            Message m = new Message(Arrays.copyOf(p.getData(), p.getLength()));
            if (m.getHeader().getID() == id) {
                return m;
            }
        }
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

    static void drainReplies(DatagramSocket s, AtomicLong count) {
        byte[] buf = new byte[4096];
        try {
            while (!s.isClosed()) {
                try {
                    s.receive(new DatagramPacket(buf, buf.length));
                    count.incrementAndGet();
                } catch (java.net.SocketTimeoutException again) {
                    // keep draining until closed
                }
            }
        } catch (IOException closed) {
            // done
        }
    }

    static void assertClosedByPeer(Socket client) throws IOException {
        try {
            assertEquals(-1, client.getInputStream().read(), "connection closed by the listener");
        } catch (SocketException reset) {
            assertTrue(String.valueOf(reset.getMessage()).contains("reset"), reset.toString());
        }
    }

    void awaitNoConnections() throws InterruptedException {
        // the listener closes its side as soon as it sees our FIN; poll until a slot is free
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            try (Socket probe = connectFrom("127.0.0.6")) {
                probe.setSoTimeout(200);
                try {
                    if (tcpExchange(probe, NotifyPackets.wire(NotifyPackets.notify(NotifyPackets.ZONE, 3, 79))).getRcode() == Rcode.NOERROR) {
                        return;
                    }
                } catch (IOException notYet) {
                    // closed at once: still full
                }
            } catch (IOException notYet) {
                // still full
            }
            Thread.sleep(20); // polling interval
        }
        throw new AssertionError("connections not released within 5 s");
    }

    static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    static InetAddress addr(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (IOException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }
}
