package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSInput;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Sends DNS NOTIFYs over UDP the way a primary does (RFC 1996 §3.6): the SOA in the answer
 * section, and retransmitted until answered, after 1 s, then 2, 4, 8 s (NSD retries every 3 s).
 * One socket; a reader thread matches replies by (ID, zone name), a timer thread retransmits.
 *
 * <p>The 16-bit ID wraps after 65,536 NOTIFYs; a 100,000-zone burst reuses every ID, so replies
 * are matched by ID and the question's name together, as a primary matches them (RFC 1996 §4.8:
 * the reply echoes the question). The socket asks for a large receive buffer: with the default
 * (208 KiB) thousands of replies to a burst were dropped at this socket and counted as
 * retransmissions the bridge never caused.
 */
final class Notifier implements AutoCloseable {
    private static final long FIRST_RETRY_NANOS = 1_000_000_000L;
    private static final long MAX_RETRY_NANOS = 8_000_000_000L;
    /** Asked for; Linux caps it at net.core.rmem_max. */
    static final int RECEIVE_BUFFER = 8 << 20;

    private final DatagramChannel channel;
    private final InetSocketAddress target;
    private final Map<Key, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger(1);
    final AtomicLong sent = new AtomicLong();
    final AtomicLong retransmitted = new AtomicLong();
    final AtomicLong answered = new AtomicLong();
    final AtomicLong notNoError = new AtomicLong();
    private final Thread reader;
    private final Thread retrier;
    private volatile boolean closed;

    /** What a reply is matched by: its ID and its question's name (compared case-insensitively). */
    private record Key(int id, Name zone) {}

    private static final class Pending {
        final byte[] wire;
        final boolean retransmit;
        long due;
        long interval = FIRST_RETRY_NANOS;

        Pending(byte[] wire, boolean retransmit, long due) {
            this.wire = wire;
            this.retransmit = retransmit;
            this.due = due;
        }
    }

    Notifier(InetSocketAddress target) throws IOException {
        this.target = target;
        this.channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, RECEIVE_BUFFER);
        channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        reader = new Thread(this::readLoop, "bench-notify-reader");
        reader.setDaemon(true);
        reader.start();
        retrier = new Thread(this::retryLoop, "bench-notify-retry");
        retrier.setDaemon(true);
        retrier.start();
    }

    /** Sends one NOTIFY for {@code zone} carrying {@code soa}; retransmitted until answered if asked. */
    void notify(Name zone, SOARecord soa, boolean retransmit) throws IOException {
        int id = ids.getAndIncrement() & 0xFFFF;
        Message m = new Message(id);
        m.getHeader().setOpcode(Opcode.NOTIFY);
        m.getHeader().setFlag(Flags.AA);
        m.addRecord(Record.newRecord(zone, Type.SOA, DClass.IN), Section.QUESTION);
        if (soa != null) {
            m.addRecord(soa, Section.ANSWER);
        }
        byte[] wire = m.toWire();
        Pending p = new Pending(wire, retransmit, System.nanoTime() + FIRST_RETRY_NANOS);
        pending.put(new Key(id, zone), p);
        channel.send(ByteBuffer.wrap(wire), target);
        sent.incrementAndGet();
    }

    /** The receive buffer the kernel granted, in bytes. */
    int receiveBuffer() throws IOException {
        return channel.getOption(StandardSocketOptions.SO_RCVBUF);
    }

    /** NOTIFYs not answered yet. */
    int unanswered() {
        return pending.size();
    }

    /** Forgets everything outstanding (between scenarios). */
    void reset() {
        pending.clear();
        sent.set(0);
        retransmitted.set(0);
        answered.set(0);
        notNoError.set(0);
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (!closed) {
            try {
                buf.clear();
                channel.receive(buf);
                if (buf.position() < 12) {
                    continue;
                }
                int id = ((buf.get(0) & 0xFF) << 8) | (buf.get(1) & 0xFF);
                boolean qr = (buf.get(2) & 0x80) != 0;
                int rcode = buf.get(3) & 0x0F;
                Name zone = questionName(buf);
                if (qr && zone != null && pending.remove(new Key(id, zone)) != null) {
                    answered.incrementAndGet();
                    if (rcode != 0) {
                        notNoError.incrementAndGet();
                    }
                }
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** The first question's name (RFC 1035 §4.1.2), or null when the reply carries none. */
    private static Name questionName(ByteBuffer reply) {
        int qdcount = ((reply.get(4) & 0xFF) << 8) | (reply.get(5) & 0xFF);
        if (qdcount == 0) {
            return null;
        }
        try {
            DNSInput in = new DNSInput(Arrays.copyOf(reply.array(), reply.position()));
            in.jump(12); // past the header
            return new Name(in);
        } catch (IOException e) {
            return null; // malformed: matches nothing
        }
    }

    private void retryLoop() {
        while (!closed) {
            long now = System.nanoTime();
            for (Pending p : pending.values()) {
                if (p.retransmit && now - p.due >= 0) {
                    p.interval = Math.min(p.interval * 2, MAX_RETRY_NANOS);
                    p.due = now + p.interval;
                    try {
                        channel.send(ByteBuffer.wrap(p.wire), target);
                        retransmitted.incrementAndGet();
                    } catch (IOException e) {
                        // the next round tries again
                    }
                }
            }
            try {
                Thread.sleep(50); // retransmit timer granularity
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        retrier.interrupt();
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
