package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.SpoofingServer;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * {@link ZoneFetcher} over UDP ({@link UdpExchange}) against a loopback server that can forge,
 * lose, truncate and sign: real datagrams, real sockets, no mocks.
 */
@Timeout(30)
class UdpExchangeTest {
    static final Name ZONE = Name.fromConstantString("udp.test.");
    static final Name KEY_NAME = Name.fromConstantString("udp-key.");
    static final TSIG KEY = new TSIG(TSIG.HMAC_SHA256, KEY_NAME,
            Base64.getEncoder().encodeToString("udp-secret-0123456789abcdefghijkl".getBytes()));
    static final TSIG WRONG = new TSIG(TSIG.HMAC_SHA256, KEY_NAME,
            Base64.getEncoder().encodeToString("not-the-secret-0123456789abcdefgh".getBytes()));

    final DemoZone zone = new DemoZone(ZONE, 7, Clock.fixed(Instant.parse("2026-11-22T06:00:00Z"), ZoneOffset.UTC));
    Server server;

    @BeforeEach
    void setUp() throws IOException {
        zone.addKey(true, true);
        zone.addKey(false, true);
        server = new Server(zone, 0);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private static ZoneFetcher fetcher(Duration timeout) {
        return new ZoneFetcher(timeout, false);
    }

    private QueryTarget target(TSIG key) {
        HostPort at = new HostPort("127.0.0.1", server.port());
        return key == null ? QueryTarget.unsigned(at) : new QueryTarget(at, KEY_NAME, key);
    }

    /**
     * Before each real answer the server sends three forgeries claiming serial 1007 and no keys: a
     * wrong ID, a wrong question, and the right ID and question from another port. RFC 5452 §9.1.
     */
    @Test
    void forgedAnswersAreDroppedAndTheRealOneAccepted() throws Exception {
        server.forgeFirst = true;
        ZoneSnapshot s = fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(null));
        assertEquals(zone.signed().serial(), s.serial());
        assertEquals(2, s.keys().size());
        assertEquals(4, server.udpQueries.get(), "each query sent once");
        assertEquals(12, server.forgeries.get());
    }

    @Test
    void everyQueryOfAFetchHasItsOwnIdAndOnePortServesThemAll() throws Exception {
        fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(null));
        assertEquals(4, server.ids.size());
        assertEquals(1, server.sources.size());
    }

    /** A lost datagram is sent again after a third of the timeout, not given up at its end. */
    @Test
    void aLostQueryIsSentAgainWithinTheTimeout() throws Exception {
        server.dropFirstCopy = true;
        long t0 = System.nanoTime();
        ZoneSnapshot s = fetcher(Duration.ofSeconds(3)).fetch(ZONE, target(null));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(2, s.keys().size());
        assertEquals(8, server.udpQueries.get());
        assertTrue(ms >= 1000 && ms < 2500, "answered after the resend at 1 s, took " + ms + " ms");
    }

    @Test
    void aSilentServerIsNoAnswerWithinTheTimeoutAfterOneResend() throws Exception {
        server.silent = true;
        long t0 = System.nanoTime();
        DnsQueryException e = assertThrows(DnsQueryException.class,
                () -> fetcher(Duration.ofMillis(300)).fetch(ZONE, target(null)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("no answer within 300 ms", e.reason());
        assertTrue(ms >= 300, "waited the timeout, took " + ms + " ms");
        assertEquals(8, server.udpQueries.get(), "four queries, each sent again once");
    }

    /** ICMP port unreachable on the connected socket: a quick failure, retried, said in words. */
    @Test
    void nothingListeningIsPortUnreachableRetriedAndQuick() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ZoneFetcher f = fetcher(Duration.ofSeconds(10));
        AtomicInteger soaQueries = new AtomicInteger();
        f.countQueries(type -> {
            if (type == Type.SOA) {
                soaQueries.incrementAndGet();
            }
        });
        long t0 = System.nanoTime();
        DnsQueryException e = assertThrows(DnsQueryException.class,
                () -> f.fetch(ZONE, QueryTarget.unsigned(new HostPort("127.0.0.1", port))));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("port unreachable: nothing listens on that address and port", e.reason());
        assertEquals(1 + ZoneFetcher.IO_RETRY_PAUSES_MS.length, soaQueries.get());
        assertTrue(ms < 5000, "far sooner than the 10 s timeout, took " + ms + " ms");
    }

    /** RFC 7766 §5; the TCP side is a {@link SpoofingServer} on the same port, honest, signing. */
    @Test
    void truncatedAnswersAreAskedAgainOverTcpSignedAndVerified() throws Exception {
        try (SpoofingServer tcp = new SpoofingServer(zone, KEY, WRONG)) {
            server.close();
            server = new Server(zone, tcp.port());
            server.truncateUdp = true;
            server.signWith = KEY;
            ZoneSnapshot s = fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(KEY));
            assertEquals(2, s.keys().size());
            assertEquals(4, server.signedQueries.get(), "every UDP query signed");
            assertEquals(4, tcp.queries());
            tcp.mode(SpoofingServer.Mode.BAD_TSIG);
            DnsQueryException e = assertThrows(DnsQueryException.class,
                    () -> fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(KEY)));
            assertEquals("the answer's TSIG (key udp-key.) does not verify; check that both sides use the same"
                    + " secret", e.reason());
        }
    }

    @Test
    void aSignedRoundTripVerifies() throws Exception {
        server.signWith = KEY;
        ZoneSnapshot s = fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(KEY));
        assertEquals(2, s.keys().size());
        assertEquals(4, server.signedQueries.get());
    }

    @Test
    void anAnswerSignedWithAnotherSecretIsRejected() throws Exception {
        server.signWith = WRONG;
        DnsQueryException e = assertThrows(DnsQueryException.class,
                () -> fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(KEY)));
        assertEquals("the answer's TSIG (key udp-key.) does not verify; check that both sides use the same secret",
                e.reason());
    }

    @Test
    void anUnsignedAnswerToASignedQueryIsRejected() throws Exception {
        DnsQueryException e = assertThrows(DnsQueryException.class,
                () -> fetcher(Duration.ofSeconds(5)).fetch(ZONE, target(KEY)));
        assertEquals("the answer carries no TSIG although the query was signed with udp-key.", e.reason());
    }

    /**
     * Serves {@link DemoZone} over UDP on loopback; CDS and CDNSKEY get empty NOERROR answers.
     * Knobs for forgeries, loss, truncation and TSIG.
     */
    static final class Server {
        final DatagramSocket udp;
        /** Another port on the same address, for forgeries "from the server" from elsewhere. */
        final DatagramSocket elsewhere;
        final DemoZone zone;
        final AtomicInteger udpQueries = new AtomicInteger();
        final AtomicInteger signedQueries = new AtomicInteger();
        final AtomicInteger forgeries = new AtomicInteger();
        final Set<Integer> ids = ConcurrentHashMap.newKeySet();
        final Set<SocketAddress> sources = ConcurrentHashMap.newKeySet();
        volatile boolean forgeFirst;
        volatile boolean dropFirstCopy;
        volatile boolean truncateUdp;
        volatile boolean silent;
        /** Signs answers to signed queries with this key (null: answers unsigned). */
        volatile TSIG signWith;
        private volatile boolean closed;

        /** On 127.0.0.1:{@code port} (0: any free port). */
        Server(DemoZone zone, int port) throws IOException {
            this.zone = zone;
            this.udp = new DatagramSocket(port, InetAddress.getLoopbackAddress());
            this.elsewhere = new DatagramSocket(0, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::udpLoop, "test-dns-udp");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return udp.getLocalPort();
        }

        private void udpLoop() {
            byte[] buf = new byte[65535];
            while (!closed) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    udp.receive(p);
                    udpQueries.incrementAndGet();
                    sources.add(p.getSocketAddress());
                    Message q = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                    boolean firstCopy = ids.add(q.getHeader().getID());
                    if (silent || (dropFirstCopy && firstCopy)) {
                        continue;
                    }
                    if (forgeFirst) {
                        send(udp, forged(q, q.getHeader().getID() ^ 0x5a5a, q.getQuestion()), p);
                        Record other = Record.newRecord(Name.fromConstantString("elsewhere.test."),
                                q.getQuestion().getType(), DClass.IN);
                        send(udp, forged(q, q.getHeader().getID(), other), p);
                        send(elsewhere, forged(q, q.getHeader().getID(), q.getQuestion()), p);
                        forgeries.addAndGet(3);
                    }
                    send(udp, answer(q, truncateUdp), p);
                } catch (IOException e) {
                    // closed, or a bad packet
                }
            }
        }

        private static void send(DatagramSocket from, byte[] reply, DatagramPacket to) throws IOException {
            from.send(new DatagramPacket(reply, reply.length, to.getSocketAddress()));
        }

        /** "Every key is gone" under a newer serial, the answer an attacker would want believed. */
        private byte[] forged(Message q, int id, Record question) {
            Message r = header(q, id, question);
            if (question.getType() == Type.SOA) {
                SOARecord soa = (SOARecord) zone.signed().soa().first();
                r.addRecord(new SOARecord(question.getName(), DClass.IN, soa.getTTL(), soa.getHost(), soa.getAdmin(),
                        soa.getSerial() + 1000, soa.getRefresh(), soa.getRetry(), soa.getExpire(), soa.getMinimum()),
                        Section.ANSWER);
            }
            return r.toWire();
        }

        private Message header(Message q, int id, Record question) {
            Message r = new Message(id);
            r.getHeader().setFlag(Flags.QR);
            r.getHeader().setFlag(Flags.AA);
            r.addRecord(question, Section.QUESTION);
            if (q.getOPT() != null) {
                r.addRecord(new OPTRecord(1232, 0, 0, q.getOPT().getFlags()), Section.ADDITIONAL);
            }
            return r;
        }

        private byte[] answer(Message q, boolean truncate) {
            Record question = q.getQuestion();
            Message r = header(q, q.getHeader().getID(), question);
            if (truncate) {
                r.getHeader().setFlag(Flags.TC);
            } else {
                DemoZone.Signed signed = zone.signed();
                RRset set = question.getType() == Type.SOA ? signed.soa()
                        : question.getType() == Type.DNSKEY ? signed.dnskey() : null;
                if (set != null && question.getName().equals(zone.name())) {
                    set.rrs(false).forEach(rec -> r.addRecord(rec, Section.ANSWER));
                    set.sigs().forEach(sig -> r.addRecord(sig, Section.ANSWER));
                }
            }
            if (q.getTSIG() != null) {
                signedQueries.incrementAndGet();
                if (signWith != null) {
                    r.setTSIG(signWith, Rcode.NOERROR, q.getTSIG());
                }
            }
            return r.toWire(Message.MAXLENGTH); // the variant that appends the TSIG
        }

        void close() {
            closed = true;
            udp.close();
            elsewhere.close();
        }
    }
}
