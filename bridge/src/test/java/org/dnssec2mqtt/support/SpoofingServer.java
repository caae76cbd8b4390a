package org.dnssec2mqtt.support;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.demo.DemoZone;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
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
 * A DNS server over TCP on loopback that serves one {@link DemoZone} honestly, or forges answers
 * the way an off-path attacker or a broken middlebox would: wrong ID, wrong question, bad or
 * missing TSIG. Forged answers claim a newer serial and an empty DNSKEY RRset, so a bridge that
 * believed one would retract every key. Signs honest answers with {@code key} when the query was
 * signed (RFC 8945 §5.3). Counts every query it reads.
 */
public final class SpoofingServer implements AutoCloseable {
    /** What the next answers look like. */
    public enum Mode {
        HONEST, WRONG_ID, WRONG_QUESTION, BAD_TSIG, UNSIGNED,
        /** The true answers without their RRSIGs: keys that do not validate ("bogus"). */
        NO_RRSIG
    }

    private final DemoZone zone;
    private final TSIG key;
    private final TSIG wrongKey;
    private final ServerSocket server;
    private final AtomicLong queries = new AtomicLong();
    private volatile Mode mode = Mode.HONEST;
    private volatile DemoZone.Signed staleSoa;
    private volatile boolean closed;

    public SpoofingServer(DemoZone zone, TSIG key, TSIG wrongKey) throws IOException {
        this.zone = zone;
        this.key = key;
        this.wrongKey = wrongKey;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "spoof-accept");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public long queries() {
        return queries.get();
    }

    public void mode(Mode m) {
        mode = m;
    }

    /**
     * The next SOA answer comes from {@code older}, an earlier version of the zone, while DNSKEY
     * answers are current: what a server gives during a reload when two of a check's queries meet
     * two server processes (NSD's old and new ones), a torn read.
     */
    public void staleSoaOnce(DemoZone.Signed older) {
        staleSoa = older;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread c = new Thread(() -> serve(s), "spoof-conn");
                c.setDaemon(true);
                c.start();
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
                queries.incrementAndGet();
                byte[] reply = answer(new Message(q));
                out.writeShort(reply.length);
                out.write(reply);
                out.flush();
            }
        } catch (IOException e) {
            // client closed
        }
    }

    private byte[] answer(Message q) {
        Mode m = mode;
        Record question = q.getQuestion();
        DemoZone.Signed signed = zone.signed();
        boolean forged = m != Mode.HONEST && m != Mode.NO_RRSIG;
        int id = q.getHeader().getID();
        Message r = new Message(m == Mode.WRONG_ID ? id ^ 0x5a5a : id);
        r.getHeader().setFlag(Flags.QR);
        r.getHeader().setFlag(Flags.AA);
        Name asked = question.getName();
        Record echoed = m == Mode.WRONG_QUESTION
                ? Record.newRecord(Name.fromConstantString("elsewhere.test."), question.getType(), DClass.IN)
                : question;
        r.addRecord(echoed, Section.QUESTION);
        OPTRecord opt = q.getOPT();
        boolean dnssecOk = opt != null && (opt.getFlags() & ExtendedFlags.DO) != 0;
        boolean sigs = dnssecOk && m != Mode.NO_RRSIG;
        if (opt != null) {
            r.addRecord(new OPTRecord(4096, 0, 0, dnssecOk ? ExtendedFlags.DO : 0), Section.ADDITIONAL);
        }
        if (question.getType() == Type.SOA && staleSoa != null) {
            add(r, staleSoa.soa(), sigs);
            staleSoa = null;
        } else if (question.getType() == Type.SOA) {
            SOARecord soa = (SOARecord) signed.soa().first();
            if (forged) {
                r.addRecord(new SOARecord(asked, DClass.IN, soa.getTTL(), soa.getHost(), soa.getAdmin(),
                        soa.getSerial() + 1000, soa.getRefresh(), soa.getRetry(), soa.getExpire(), soa.getMinimum()),
                        Section.ANSWER);
            } else {
                add(r, signed.soa(), sigs);
            }
        } else if (question.getType() == Type.DNSKEY) {
            if (!forged) {
                add(r, signed.dnskey(), sigs);
            } // forged: an empty DNSKEY RRset, i.e. "every key is gone"
        } else {
            r.getHeader().setRcode(Rcode.NOERROR);
        }
        if (q.getTSIG() != null) {
            switch (m) {
                case UNSIGNED -> { }
                case BAD_TSIG -> r.setTSIG(wrongKey, Rcode.NOERROR, q.getTSIG());
                default -> r.setTSIG(key, Rcode.NOERROR, q.getTSIG());
            }
        }
        return r.toWire(Message.MAXLENGTH); // the variant that appends the TSIG
    }

    private static void add(Message r, RRset set, boolean sigs) {
        for (Record rec : set.rrs(false)) {
            r.addRecord(rec, Section.ANSWER);
        }
        if (sigs) {
            for (Record sig : set.sigs()) {
                r.addRecord(sig, Section.ANSWER);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
