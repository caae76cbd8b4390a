package org.dnssec2mqtt.support;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;

/**
 * A bare NOTIFY receiver for peer self-tests, on UDP and TCP (2-byte length framing, RFC 1035
 * §4.2.2) of one loopback port: records each NOTIFY and answers it (RFC 1996 §4.7: same ID, QR and
 * AA set, question echoed) so the server stops retrying. A TSIG-signed NOTIFY is verified and the
 * reply signed with the same key (Knot verifies the reply's TSIG and retries otherwise).
 *
 * <pre>{@code
 * try (NotifyReceiver notifies = new NotifyReceiver(FreePorts.tcpAndUdp(), tsig)) {
 *     NotifyReceiver.Received first = notifies.await(n -> n.zone().equals("example.test."), timeout);
 * }
 * }</pre>
 *
 * <p>Not the bridge's listener: this is the simplest thing a real server accepts, so a fixture
 * test proves the server really sends what PITFALLS.md says it sends.
 */
public final class NotifyReceiver implements AutoCloseable {
    /**
     * One NOTIFY as received: {@code transport} "udp" or "tcp", {@code source} the sender's
     * address and port, {@code signed} whether it carried a TSIG (then it verified, or it would not
     * be recorded), {@code nanos} {@link System#nanoTime()} at arrival.
     */
    public record Received(Message message, String transport, InetSocketAddress source, boolean signed, long nanos) {
        /** The zone in the question, absolute, e.g. "example.test.". */
        public String zone() {
            return message.getQuestion().getName().toString();
        }

        /** The SOA serial in the answer section, or -1 when the NOTIFY carries none (PowerDNS). */
        public long serial() {
            for (Record record : message.getSection(Section.ANSWER)) {
                if (record instanceof SOARecord soa) {
                    return soa.getSerial();
                }
            }
            return -1;
        }

        @Override
        public String toString() {
            return "NOTIFY " + zone() + " id=" + message.getHeader().getID() + " over " + transport
                    + " from " + source + " serial=" + serial() + " tsig=" + signed;
        }
    }

    private static final int MAX_TCP_CONNECTIONS = 16;

    private final int port;
    private final TSIG tsig;
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Socket> connections = new ArrayList<>();
    /** Guarded by itself; listener threads append, the test thread waits on it. */
    private final List<Received> received = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();

    /**
     * Listens on 127.0.0.1:{@code port}, UDP and TCP; {@code tsig} verifies signed NOTIFYs and signs
     * their replies (null: a signed NOTIFY is a problem, recorded and not answered).
     */
    public NotifyReceiver(int port, TSIG tsig) throws IOException {
        this.port = port;
        this.tsig = tsig;
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        udp = new DatagramSocket(address);
        tcp = new ServerSocket();
        tcp.bind(address, MAX_TCP_CONNECTIONS);
        start(this::serveUdp, "notify-receiver-udp");
        start(this::acceptTcp, "notify-receiver-tcp");
    }

    /** The port NOTIFYs are received on (TCP and UDP). */
    public int port() {
        return port;
    }

    /** Waits for the first NOTIFY (received before or during the wait) that matches; fails with a dump on timeout. */
    public Received await(Predicate<Received> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (received) {
            while (true) {
                for (Received notify : received) {
                    if (match.test(notify)) {
                        return notify;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching NOTIFY on port " + port + " within " + timeout
                            + "; received:\n" + dump());
                }
                try {
                    received.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for a NOTIFY", e);
                }
            }
        }
    }

    /** Every NOTIFY received so far, in arrival order. */
    public List<Received> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** Forgets what was received so far (e.g. start-up NOTIFYs before a key change). */
    public void clear() {
        synchronized (received) {
            received.clear();
            problems.clear();
        }
    }

    /** Everything received and every bad packet, one a line, for failure messages. */
    public String dump() {
        synchronized (received) {
            StringBuilder text = new StringBuilder();
            received.forEach(notify -> text.append("  ").append(notify).append('\n'));
            problems.forEach(problem -> text.append("  (problem) ").append(problem).append('\n'));
            return text.length() == 0 ? "  (nothing)\n" : text.toString();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        udp.close();
        tcp.close();
        synchronized (connections) {
            for (Socket connection : connections) {
                connection.close();
            }
        }
        List<Thread> all;
        synchronized (threads) {
            all = List.copyOf(threads);
        }
        for (Thread thread : all) {
            thread.join(2_000);
        }
    }

    private void serveUdp() {
        byte[] buffer = new byte[65535];
        while (!udp.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                byte[] request = Arrays.copyOf(packet.getData(), packet.getLength());
                InetSocketAddress source = (InetSocketAddress) packet.getSocketAddress();
                byte[] reply = handle(request, "udp", source);
                if (reply != null) {
                    udp.send(new DatagramPacket(reply, reply.length, source));
                }
            } catch (IOException e) {
                if (!udp.isClosed()) {
                    problem("udp: " + e);
                }
            }
        }
    }

    private void acceptTcp() {
        while (!tcp.isClosed()) {
            try {
                Socket connection = tcp.accept();
                connection.setSoTimeout(10_000); // an idle sender must not hold a thread forever
                synchronized (connections) {
                    connections.add(connection);
                }
                start(() -> serveTcp(connection), "notify-receiver-tcp-" + connection.getPort());
            } catch (IOException e) {
                if (!tcp.isClosed()) {
                    problem("tcp accept: " + e);
                }
            }
        }
    }

    private void serveTcp(Socket connection) {
        InetSocketAddress source = (InetSocketAddress) connection.getRemoteSocketAddress();
        try (connection) {
            DataInputStream in = new DataInputStream(connection.getInputStream());
            DataOutputStream out = new DataOutputStream(connection.getOutputStream());
            while (true) {
                int length;
                try {
                    length = in.readUnsignedShort(); // RFC 1035 §4.2.2: 2-byte length prefix
                } catch (EOFException closedBySender) {
                    return;
                }
                byte[] request = new byte[length];
                in.readFully(request);
                byte[] reply = handle(request, "tcp", source);
                if (reply != null) {
                    out.writeShort(reply.length);
                    out.write(reply);
                    out.flush();
                }
            }
        } catch (SocketException closed) {
            // closed by us in close(), or reset by the sender
        } catch (IOException e) {
            problem("tcp from " + source + ": " + e);
        }
    }

    /** Parses, verifies and records one NOTIFY; returns the reply bytes, or null to stay silent. */
    private byte[] handle(byte[] request, String transport, InetSocketAddress source) {
        Message notify;
        try {
            notify = new Message(request);
        } catch (IOException e) {
            problem(transport + " from " + source + ": unparsable: " + e);
            return null;
        }
        if (notify.getHeader().getOpcode() != Opcode.NOTIFY || notify.getQuestion() == null) {
            problem(transport + " from " + source + ": expected a NOTIFY with a question; got opcode "
                    + Opcode.string(notify.getHeader().getOpcode()));
            return null;
        }
        Message reply = new Message(notify.getHeader().getID());
        reply.getHeader().setOpcode(Opcode.NOTIFY);
        reply.getHeader().setFlag(Flags.QR);
        reply.getHeader().setFlag(Flags.AA);
        reply.addRecord(notify.getQuestion(), Section.QUESTION);
        boolean signed = notify.getTSIG() != null;
        if (signed) {
            if (tsig == null) {
                problem(transport + " from " + source + ": signed NOTIFY but no key configured here");
                return null;
            }
            // the exact received bytes are what the MAC covers (RFC 8945 §5.3)
            int result = tsig.verify(notify, request, null);
            if (result != Rcode.NOERROR) {
                problem(transport + " from " + source + ": TSIG does not verify: " + Rcode.TSIGstring(result));
                return null;
            }
            reply.setTSIG(tsig, Rcode.NOERROR, notify.getTSIG());
        }
        synchronized (received) {
            received.add(new Received(notify, transport, source, signed, System.nanoTime()));
            received.notifyAll();
        }
        // toWire(MAXLENGTH): the no-argument toWire() would drop the TSIG
        return reply.toWire(Message.MAXLENGTH);
    }

    private void problem(String text) {
        synchronized (received) {
            problems.add(text);
            received.notifyAll();
        }
    }

    private void start(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        synchronized (threads) {
            threads.add(thread);
        }
        thread.start();
    }
}
