package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.xbill.DNS.DClass;
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
 * One socket; a reader thread matches replies by ID, a timer thread retransmits.
 */
final class Notifier implements AutoCloseable {
    private static final long FIRST_RETRY_NANOS = 1_000_000_000L;
    private static final long MAX_RETRY_NANOS = 8_000_000_000L;

    private final DatagramChannel channel;
    private final InetSocketAddress target;
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger(1);
    final AtomicLong sent = new AtomicLong();
    final AtomicLong retransmitted = new AtomicLong();
    final AtomicLong answered = new AtomicLong();
    final AtomicLong notNoError = new AtomicLong();
    private final Thread reader;
    private final Thread retrier;
    private volatile boolean closed;

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
        pending.put(id, p);
        channel.send(ByteBuffer.wrap(wire), target);
        sent.incrementAndGet();
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
                if (qr && pending.remove(id) != null) {
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
