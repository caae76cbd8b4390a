package org.dnssec2mqtt.demo;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A minimal authoritative server for {@link DemoZone}s on loopback: answers SOA, NS, A and
 * DNSKEY (with RRSIGs when the DO bit is set) over UDP and TCP, and sends NOTIFYs the way a
 * primary does (RFC 1996 §3.6: retransmit until answered). For the demo and tests only.
 */
public final class AuthServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuthServer.class);

    private final Map<Name, DemoZone> zones = new ConcurrentHashMap<>();
    private final Map<Name, List<org.xbill.DNS.DSRecord>> delegations = new ConcurrentHashMap<>();
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final AtomicLong queries = new AtomicLong();
    private final AtomicLong dnskeyQueries = new AtomicLong();
    private final AtomicLong udpQueries = new AtomicLong();
    private volatile boolean closed;
    /** While set, every answer waits for it: {@link #holdAnswers()}. */
    private volatile java.util.concurrent.CountDownLatch hold;
    /** Open TCP connections, closed with the server: a stopped server answers nothing more. */
    private final java.util.Set<Socket> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Binds UDP and TCP on the same port of {@code address} (port 0: any free port). */
    public AuthServer(InetAddress address, int port) throws IOException {
        ServerSocket t = null;
        DatagramSocket u = null;
        for (int attempt = 0; attempt < 20 && u == null; attempt++) {
            t = new ServerSocket();
            t.bind(new InetSocketAddress(address, port));
            try {
                u = new DatagramSocket(new InetSocketAddress(address, t.getLocalPort()));
            } catch (IOException e) {
                t.close();
                if (port != 0) {
                    throw e;
                }
            }
        }
        if (u == null) {
            throw new IOException("no port free for both UDP and TCP on " + address);
        }
        this.tcp = t;
        this.udp = u;
    }

    public void add(DemoZone zone) {
        zones.put(zone.name(), zone);
    }

    /**
     * Plays the parent of {@code child} too: DS queries for it get {@code ds} (unsigned; empty = the
     * parent has no DS), as a {@code dns.resolver} would answer them.
     */
    public void parentDs(Name child, List<org.xbill.DNS.DSRecord> ds) {
        delegations.put(child, List.copyOf(ds));
    }

    public int port() {
        return udp.getLocalPort();
    }

    public long queries() {
        return queries.get();
    }

    public long dnskeyQueries() {
        return dnskeyQueries.get();
    }

    /** The queries that came over UDP (the rest of {@link #queries} over TCP). */
    public long udpQueries() {
        return udpQueries.get();
    }

    /**
     * Holds every answer until {@link #releaseAnswers()} (or 30 s): a test can then make things
     * happen while a check is certainly in flight, rather than racing it.
     */
    public void holdAnswers() {
        hold = new java.util.concurrent.CountDownLatch(1);
    }

    public void releaseAnswers() {
        java.util.concurrent.CountDownLatch h = hold;
        hold = null;
        if (h != null) {
            h.countDown();
        }
    }

    private void awaitRelease() {
        java.util.concurrent.CountDownLatch h = hold;
        if (h != null) {
            try {
                h.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public AuthServer start() {
        Thread u = new Thread(this::udpLoop, "auth-udp");
        u.setDaemon(true);
        u.start();
        Thread t = new Thread(this::tcpLoop, "auth-tcp");
        t.setDaemon(true);
        t.start();
        return this;
    }

    private void udpLoop() {
        byte[] buf = new byte[65535];
        while (!closed) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                udp.receive(p);
                udpQueries.incrementAndGet();
                byte[] reply = answer(java.util.Arrays.copyOf(p.getData(), p.getLength()), 1232);
                if (reply != null) {
                    udp.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                }
            } catch (IOException e) {
                if (!closed) {
                    log.debug("auth: udp: {}", e.getMessage());
                }
            }
        }
    }

    private void tcpLoop() {
        while (!closed) {
            try {
                Socket s = tcp.accept();
                connections.add(s);
                if (closed) {
                    s.close();
                }
                Thread c = new Thread(() -> serve(s), "auth-tcp-conn");
                c.setDaemon(true);
                c.start();
            } catch (IOException e) {
                if (!closed) {
                    log.debug("auth: tcp accept: {}", e.getMessage());
                }
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            while (!closed) {
                int len = in.readUnsignedShort();
                byte[] q = in.readNBytes(len);
                byte[] reply = answer(q, 65535);
                if (reply != null) {
                    // one write per answer: a separate 2-byte length write meets Nagle and delayed ACKs (40 ms)
                    byte[] framed = new byte[reply.length + 2];
                    framed[0] = (byte) (reply.length >> 8);
                    framed[1] = (byte) reply.length;
                    System.arraycopy(reply, 0, framed, 2, reply.length);
                    out.write(framed);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the client closed or went idle
        } finally {
            connections.remove(s);
        }
    }

    byte[] answer(byte[] wire, int maxSize) {
        Message q;
        try {
            q = new Message(wire);
        } catch (IOException e) {
            return null;
        }
        if (q.getHeader().getFlag(Flags.QR) || q.getQuestion() == null) {
            return null;
        }
        awaitRelease();
        queries.incrementAndGet();
        Message r = new Message(q.getHeader().getID());
        r.getHeader().setFlag(Flags.QR);
        r.getHeader().setOpcode(q.getHeader().getOpcode());
        r.addRecord(q.getQuestion(), Section.QUESTION);
        OPTRecord opt = q.getOPT();
        boolean dnssecOk = opt != null && (opt.getFlags() & ExtendedFlags.DO) != 0;
        if (opt != null) {
            r.addRecord(new OPTRecord(1232, 0, 0, dnssecOk ? ExtendedFlags.DO : 0), Section.ADDITIONAL);
        }
        Record question = q.getQuestion();
        DemoZone zone = zones.get(question.getName());
        List<org.xbill.DNS.DSRecord> ds = question.getType() == Type.DS ? delegations.get(question.getName()) : null;
        if (q.getHeader().getOpcode() != Opcode.QUERY) {
            r.getHeader().setRcode(Rcode.NOTIMP);
        } else if (ds != null) {
            r.getHeader().setFlag(Flags.AA);
            ds.forEach(d -> r.addRecord(d, Section.ANSWER));
        } else if (zone == null) {
            r.getHeader().setRcode(Rcode.REFUSED);
        } else {
            r.getHeader().setFlag(Flags.AA);
            DemoZone.Signed s = zone.signed();
            RRset set = switch (question.getType()) {
                case Type.SOA -> s.soa();
                case Type.NS -> s.ns();
                case Type.A -> s.a();
                case Type.DNSKEY -> s.dnskey();
                default -> null;
            };
            if (question.getType() == Type.DNSKEY) {
                dnskeyQueries.incrementAndGet();
            }
            if (set != null) {
                for (Record rec : set.rrs(false)) {
                    r.addRecord(rec, Section.ANSWER);
                }
                if (dnssecOk) {
                    for (Record sig : set.sigs()) {
                        r.addRecord(sig, Section.ANSWER);
                    }
                }
            } else {
                r.addRecord(s.soa().first(), Section.AUTHORITY);
            }
        }
        byte[] out = r.toWire(maxSize);
        return out;
    }

    /**
     * Sends a NOTIFY for {@code zone} with its current serial to {@code target} over UDP,
     * retransmitting up to {@code tries} times until an answer with the same ID comes back.
     *
     * @return the answer's rcode, or -1 when none came
     */
    public int notify(Name zone, InetSocketAddress target, int tries) throws IOException {
        DemoZone z = zones.get(zone);
        Message n = new Message();
        n.getHeader().setOpcode(Opcode.NOTIFY);
        n.getHeader().setFlag(Flags.AA);
        n.addRecord(Record.newRecord(zone, Type.SOA, DClass.IN), Section.QUESTION);
        if (z != null) {
            n.addRecord(z.signed().soa().first(), Section.ANSWER);
        }
        byte[] wire = n.toWire();
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(udp.getLocalAddress(), 0))) {
            s.setSoTimeout(1000);
            for (int i = 0; i < tries; i++) {
                s.send(new DatagramPacket(wire, wire.length, target));
                byte[] buf = new byte[4096];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    while (true) {
                        s.receive(p);
                        Message a = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                        if (a.getHeader().getID() == n.getHeader().getID()) {
                            return a.getRcode();
                        }
                    }
                } catch (SocketTimeoutException e) {
                    // RFC 1996 §3.6: retransmit
                }
            }
        }
        return -1;
    }

    public List<DemoZone> zones() {
        return List.copyOf(zones.values());
    }

    @Override
    public void close() {
        closed = true;
        udp.close();
        try {
            tcp.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : connections) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
