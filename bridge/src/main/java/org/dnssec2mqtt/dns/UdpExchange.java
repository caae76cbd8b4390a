package org.dnssec2mqtt.dns;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.WireParseException;

/**
 * DNS over UDP for {@link ZoneFetcher}: a few queries to one server sent together on one new
 * socket and their answers read on the calling thread. dnsjava's UDP client opens a channel per
 * query, registers it with its one selector thread, reads the answer there and completes the
 * query's future on yet another thread: several thread wake-ups per answer on the NOTIFY → first
 * key path (issue 11; a check's four queries took ~0.9 ms median end to end).
 *
 * <p>Spoofing resistance as dnsjava's (RFC 5452 §9.1): a random local port per exchange, a random
 * message ID per query (distinct within the exchange), the socket connected to the server; an
 * answer counts only if it comes from the server's address and port, carries the ID of an
 * unanswered query and that query's question (name, type, class). Anything else is dropped and
 * the wait goes on. TSIG as dnsjava's SimpleResolver: each query signed, each answer verified
 * against its query's signature ({@link Message#isVerified()} says how it went; the caller
 * decides, RFC 8945 §5.3).
 *
 * <p>Unanswered queries are sent once more after a third of the timeout (a lost datagram costs
 * that, not the whole timeout); then the wait goes on until the timeout.
 */
final class UdpExchange {
    private static final Logger log = LoggerFactory.getLogger(UdpExchange.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The largest UDP payload; a server that ignores our EDNS size still fits. */
    private static final int MAX_ANSWER = 65535;
    /** Random ports tried before leaving the choice to the system (each may be in use). */
    private static final int BIND_ATTEMPTS = 3;
    /** Each check thread's receive buffer: an answer may be as large as UDP allows, and 64 KiB per fetch was garbage. */
    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[MAX_ANSWER]);

    private UdpExchange() {}

    /**
     * What became of one query: its answer (maybe truncated: the caller asks again over TCP), or why
     * none came. {@code query} and {@code wire} are as sent: signed, with the exchange's ID.
     */
    record Outcome(Message query, byte[] wire, TSIGRecord signature, Message answer, IOException failure) {}

    /**
     * Sends {@code queries} (built, EDNS included; their IDs are replaced, and each is signed with
     * {@code key} unless null) and waits up to {@code timeout} for all answers.
     *
     * @return one outcome per query, in order; an unanswered one fails with a
     *     {@link SocketTimeoutException}, or with the I/O failure that ended the exchange (an ICMP
     *     port unreachable is a {@link java.net.PortUnreachableException})
     */
    static List<Outcome> exchange(InetSocketAddress server, List<Message> queries, TSIG key, Duration timeout) {
        int n = queries.size();
        byte[][] wires = new byte[n][];
        TSIGRecord[] signatures = new TSIGRecord[n];
        Message[] answers = new Message[n];
        IOException[] failures = new IOException[n];
        for (int i = 0; i < n; i++) {
            Message q = queries.get(i);
            q.getHeader().setID(freshId(queries, i));
            if (key != null) {
                q.setTSIG(key, Rcode.NOERROR, null); // as SimpleResolver: toWire appends the TSIG
            }
            wires[i] = q.toWire(Message.MAXLENGTH);
            if (key != null) {
                signatures[i] = signature(wires[i]);
            }
        }
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long resendAt = start + timeout.toNanos() / 3;
        int open = n;
        try (DatagramSocket socket = open(server)) {
            for (byte[] wire : wires) {
                socket.send(new DatagramPacket(wire, wire.length));
            }
            byte[] buf = BUFFER.get();
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            boolean resent = false;
            while (open > 0) {
                long now = System.nanoTime();
                if (deadline - now <= 0) {
                    break;
                }
                if (!resent && resendAt - now <= 0) {
                    resent = true;
                    for (int i = 0; i < n; i++) {
                        if (answers[i] == null) {
                            log.debug("dns udp server={} no answer yet to {}, sending it again", server,
                                    describe(queries.get(i)));
                            socket.send(new DatagramPacket(wires[i], wires[i].length));
                        }
                    }
                }
                long left = (resent ? deadline : resendAt) - now;
                // 0 would mean "wait forever"; round up so the wait does not end just short of the deadline
                socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
                packet.setLength(buf.length);
                try {
                    socket.receive(packet);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                int i = accept(server, queries, answers, packet, key, signatures, failures);
                if (i >= 0) {
                    open--;
                }
            }
        } catch (IOException e) {
            // ICMP port unreachable, no route, no local port: every unanswered query fails with it
            for (int i = 0; i < n; i++) {
                if (answers[i] == null) {
                    failures[i] = e;
                }
            }
        }
        List<Outcome> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            IOException failure = answers[i] != null ? null
                    : failures[i] != null ? failures[i]
                    : new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms");
            out.add(new Outcome(queries.get(i), wires[i], signatures[i], answers[i], failure));
        }
        return out;
    }

    /**
     * Takes {@code packet} as the answer to the unanswered query it belongs to.
     *
     * @return that query's index, or -1 when the packet was dropped
     */
    private static int accept(InetSocketAddress server, List<Message> queries, Message[] answers,
            DatagramPacket packet, TSIG key, TSIGRecord[] signatures, IOException[] failures) {
        // the socket is connected, so the system drops datagrams from elsewhere already
        if (packet.getPort() != server.getPort() || !packet.getAddress().equals(server.getAddress())) {
            log.debug("dns udp server={} dropped a datagram from {}", server, packet.getSocketAddress());
            return -1;
        }
        if (packet.getLength() < Header.LENGTH) {
            return -1;
        }
        int id = ((packet.getData()[0] & 0xFF) << 8) | (packet.getData()[1] & 0xFF);
        int i = pending(queries, answers, id);
        if (i < 0) {
            log.debug("dns udp server={} dropped an answer with ID {}: no such query in flight", server, id);
            return -1;
        }
        byte[] wire = Arrays.copyOf(packet.getData(), packet.getLength());
        Message answer;
        try {
            answer = new Message(wire);
        } catch (IOException e) {
            // kept as the reason should no good answer follow; dropped, as it may be forged
            failures[i] = e instanceof WireParseException ? e : new WireParseException(e.getMessage());
            return -1;
        }
        Record asked = queries.get(i).getQuestion();
        Record got = answer.getQuestion();
        if (got == null || !got.getName().equals(asked.getName()) || got.getType() != asked.getType()
                || got.getDClass() != asked.getDClass()) {
            log.debug("dns udp server={} dropped an answer to {} with the question {}", server, describe(queries.get(i)),
                    got == null ? "none" : got.getName() + " " + Type.string(got.getType()));
            return -1;
        }
        verify(answer, wire, signatures[i], key);
        answers[i] = answer;
        return i;
    }

    /**
     * As SimpleResolver: checks the answer's TSIG against the query's ({@code sent}); the answer
     * records the result ({@link Message#isVerified()}).
     */
    static void verify(Message answer, byte[] wire, TSIGRecord sent, TSIG key) {
        if (key != null) {
            int error = key.verify(answer, wire, sent);
            log.debug("dns tsig verify id={}: {}", answer.getHeader().getID(), Rcode.TSIGstring(error));
        }
    }

    /**
     * The TSIG that {@code toWire} appended to a signed query. dnsjava keeps it to itself (its
     * resolver reads it package-private); the request MAC in it is what the answer is signed over
     * (RFC 8945 §5.3). Read back from our own bytes, a few microseconds.
     */
    private static TSIGRecord signature(byte[] wire) {
        try {
            return new Message(wire).getTSIG();
        } catch (IOException e) {
            throw new IllegalStateException("a query we built does not parse", e);
        }
    }

    /** The index of the unanswered query with message ID {@code id}, or -1. */
    private static int pending(List<Message> queries, Message[] answers, int id) {
        for (int i = 0; i < queries.size(); i++) {
            if (answers[i] == null && queries.get(i).getHeader().getID() == id) {
                return i;
            }
        }
        return -1;
    }

    /** A random ID that no query before {@code index} has. */
    private static int freshId(List<Message> queries, int index) {
        while (true) {
            int id = RANDOM.nextInt(0x10000);
            boolean taken = false;
            for (int i = 0; i < index; i++) {
                taken |= queries.get(i).getHeader().getID() == id;
            }
            if (!taken) {
                return id;
            }
        }
    }

    /** A new socket on a random local port, connected to {@code server}. */
    private static DatagramSocket open(InetSocketAddress server) throws IOException {
        for (int attempt = 0; ; attempt++) {
            DatagramSocket s = new DatagramSocket(null);
            try {
                // ports 1024-65535, as dnsjava picks them; the system's choice only after collisions
                int port = attempt < BIND_ATTEMPTS ? 1024 + RANDOM.nextInt(65536 - 1024) : 0;
                s.bind(new InetSocketAddress(port));
                s.connect(server);
                return s;
            } catch (BindException e) {
                s.close();
                if (attempt >= BIND_ATTEMPTS) {
                    throw e;
                }
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }
    }

    private static String describe(Message query) {
        Record q = query.getQuestion();
        return q.getName() + " " + Type.string(q.getType());
    }
}
