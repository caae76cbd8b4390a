package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;
import org.xbill.DNS.WireParseException;

/** Both transports against a small loopback server, and the failure texts an operator reads. */
@Timeout(30)
class ZoneFetcherTest {
    static final Name ZONE = Name.fromConstantString("fetch.test.");
    /** A Java class name as it would leak from {@code Throwable.toString()}. */
    static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z]+\\.)+[A-Z]\\w+|Exception|Error\\b");

    final DemoZone zone = new DemoZone(ZONE, 7, Clock.fixed(Instant.parse("2026-11-22T06:00:00Z"), ZoneOffset.UTC));
    Server server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private ZoneFetcher fetcher(boolean tcp, Duration timeout) {
        return new ZoneFetcher(timeout, tcp);
    }

    private QueryTarget target() {
        return QueryTarget.unsigned(new HostPort("127.0.0.1", server.port()));
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {true, false})
    void fetchesSoaAndKeysWithTheirSignatures(boolean tcp) throws Exception {
        zone.addKey(true, true);
        zone.addKey(false, true);
        server = new Server(zone);
        ZoneSnapshot s = fetcher(tcp, Duration.ofSeconds(5)).fetch(ZONE, target());
        assertEquals(zone.signed().serial(), s.serial());
        assertEquals(2, s.keys().size());
        assertFalse(s.dnskeySigs().isEmpty());
        assertFalse(s.soaSigs().isEmpty());
        assertEquals(tcp ? 0 : 4, server.udpQueries.get(), "UDP queries");
        assertEquals(tcp ? 4 : 0, server.tcpQueries.get(), "TCP queries");
    }

    @Test
    void tcpAsksAllFourAtOnceOnPooledConnectionsAndReusesThem() throws Exception {
        zone.addKey(true, true);
        server = new Server(zone);
        ZoneFetcher f = fetcher(true, Duration.ofSeconds(5));
        f.fetch(ZONE, target());
        f.fetch(ZONE, target());
        assertEquals(8, server.tcpQueries.get());
        // one query per connection at a time (see TcpClient), the second fetch on the same ones
        assertTrue(server.connections.get() <= 4, server.connections.get() + " connections");
    }

    /** NSD closes pooled connections (on reload, when idle): the next fetch must still succeed. */
    @Test
    void aServerClosingEveryConnectionAfterOneAnswerIsAskedAgain() throws Exception {
        zone.addKey(true, true);
        server = new Server(zone);
        server.closeAfterAnswer = true;
        ZoneFetcher f = fetcher(true, Duration.ofSeconds(5));
        for (int i = 0; i < 3; i++) {
            assertEquals(1, f.fetch(ZONE, target()).keys().size());
        }
    }

    /** UDP first (EDNS 1232 bytes); an answer truncated over UDP is asked again over TCP (RFC 7766 §5). */
    @Test
    void truncatedUdpAnswersAreAskedAgainOverTcp() throws Exception {
        zone.addKey(true, true);
        zone.addKey(false, true);
        server = new Server(zone);
        server.truncateUdp = true;
        ZoneSnapshot s = fetcher(false, Duration.ofSeconds(5)).fetch(ZONE, target());
        assertEquals(2, s.keys().size());
        assertEquals(4, server.tcpQueries.get());
        assertEquals(ZoneFetcher.EDNS_PAYLOAD, server.lastUdpPayload);
    }

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {true, false})
    void aSilentServerIsNoAnswerWithinTheTimeout(boolean tcp) throws Exception {
        zone.addKey(true, true);
        server = new Server(zone);
        server.silent = true;
        DnsQueryException e = assertThrows(DnsQueryException.class,
                () -> fetcher(tcp, Duration.ofMillis(300)).fetch(ZONE, target()));
        assertEquals("no answer within 300 ms", e.reason());
    }

    @Test
    void refusedIsSaidInWords() throws Exception {
        zone.addKey(true, true);
        server = new Server(zone);
        server.rcode = Rcode.REFUSED;
        DnsQueryException e = assertThrows(DnsQueryException.class,
                () -> fetcher(true, Duration.ofSeconds(5)).fetch(ZONE, target()));
        assertEquals("the server answered REFUSED to the SOA query; does it serve the zone, and allow queries"
                + " from this host?", e.reason());
    }

    @Test
    void nothingListeningIsConnectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        DnsQueryException e = assertThrows(DnsQueryException.class, () -> fetcher(true, Duration.ofSeconds(5))
                .fetch(ZONE, QueryTarget.unsigned(new HostPort("127.0.0.1", port))));
        assertEquals("connection refused: is the server running on that address and port?", e.reason());
    }

    /** Every failure dnsjava or the JDK hands us, as the operator reads it: no Java class names. */
    @Test
    void failuresAreDescribedWithoutJavaClassNames() {
        String none = "no answer within 5 s";
        Object[][] cases = {
            {new SocketTimeoutException(), none},
            {new TimeoutException("Query timed out"), none},
            {new ConnectException("Connection refused"), "connection refused: is the server running on that address and port?"},
            {new UnresolvedAddressException(), "cannot resolve the server's host name; give an IP address or check the name"},
            {new IllegalStateException("Shutdown in progress"), "not asked: the bridge is shutting down"},
            {new SocketException("Connection reset"), "the server reset the connection"},
            {new EOFException(), "the server closed the connection before answering"},
            {new WireParseException("end of input"), "the answer is not a well-formed DNS message"},
            {new IOException("java.net.SocketException: Broken pipe"), "network error: Broken pipe"},
            {new IOException(), "network error without detail"},
            {new IllegalArgumentException("java.lang.IllegalStateException: boom"), "the query failed: boom"},
        };
        for (Object[] c : cases) {
            Throwable t = (Throwable) c[0];
            String said = Failures.describe(Failures.root(new java.util.concurrent.ExecutionException(t)), none);
            assertEquals(c[1], said, t.toString());
            assertFalse(CLASS_NAME.matcher(said).find(), said);
        }
        assertEquals("1.5 s", Failures.duration(Duration.ofMillis(1500)));
    }

    /**
     * Serves {@link DemoZone} over UDP and TCP on one loopback port; knobs for the failures a
     * fetcher meets. CDS and CDNSKEY get empty NOERROR answers.
     */
    static final class Server {
        final DatagramSocket udp;
        final ServerSocket tcp;
        final DemoZone zone;
        final AtomicInteger udpQueries = new AtomicInteger();
        final AtomicInteger tcpQueries = new AtomicInteger();
        final AtomicInteger connections = new AtomicInteger();
        volatile boolean closeAfterAnswer;
        volatile boolean truncateUdp;
        volatile boolean silent;
        volatile int rcode = Rcode.NOERROR;
        volatile int lastUdpPayload;
        private volatile boolean closed;

        Server(DemoZone zone) throws IOException {
            this.zone = zone;
            this.tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            this.udp = new DatagramSocket(tcp.getLocalPort(), InetAddress.getLoopbackAddress());
            daemon(this::udpLoop);
            daemon(this::acceptLoop);
        }

        int port() {
            return tcp.getLocalPort();
        }

        private static void daemon(Runnable r) {
            Thread t = new Thread(r, "test-dns");
            t.setDaemon(true);
            t.start();
        }

        private void udpLoop() {
            byte[] buf = new byte[65535];
            while (!closed) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    udp.receive(p);
                    udpQueries.incrementAndGet();
                    Message q = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                    lastUdpPayload = q.getOPT() == null ? 0 : q.getOPT().getPayloadSize();
                    if (silent) {
                        continue;
                    }
                    byte[] reply = answer(q, truncateUdp);
                    udp.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                } catch (IOException e) {
                    // closed, or a bad packet
                }
            }
        }

        private void acceptLoop() {
            while (!closed) {
                try {
                    Socket s = tcp.accept();
                    connections.incrementAndGet();
                    daemon(() -> serve(s));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                while (!closed) {
                    byte[] q = new byte[in.readUnsignedShort()];
                    in.readFully(q);
                    tcpQueries.incrementAndGet();
                    if (silent) {
                        continue;
                    }
                    byte[] reply = answer(new Message(q), false);
                    out.writeShort(reply.length);
                    out.write(reply);
                    out.flush();
                    if (closeAfterAnswer) {
                        return;
                    }
                }
            } catch (IOException e) {
                // the client closed
            }
        }

        private byte[] answer(Message q, boolean truncate) {
            Message r = new Message(q.getHeader().getID());
            r.getHeader().setFlag(Flags.QR);
            r.getHeader().setFlag(Flags.AA);
            r.getHeader().setRcode(rcode);
            Record question = q.getQuestion();
            r.addRecord(question, Section.QUESTION);
            if (q.getOPT() != null) {
                r.addRecord(new OPTRecord(1232, 0, 0, q.getOPT().getFlags()), Section.ADDITIONAL);
            }
            if (truncate) {
                r.getHeader().setFlag(Flags.TC);
                return r.toWire();
            }
            DemoZone.Signed signed = zone.signed();
            RRset set = rcode != Rcode.NOERROR ? null
                    : question.getType() == Type.SOA ? signed.soa()
                    : question.getType() == Type.DNSKEY ? signed.dnskey() : null;
            if (set != null && question.getName().equals(zone.name()) && question.getDClass() == DClass.IN) {
                set.rrs(false).forEach(rec -> r.addRecord(rec, Section.ANSWER));
                set.sigs().forEach(sig -> r.addRecord(sig, Section.ANSWER));
            }
            return r.toWire();
        }

        void close() {
            closed = true;
            udp.close();
            try {
                tcp.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
