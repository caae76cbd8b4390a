package org.dnssec2mqtt.dns;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives NOTIFYs over UDP and TCP on every {@code notify.listen} address; socket I/O only, the
 * protocol is {@link NotifyHandler}'s. Both transports are needed: NSD, BIND and PowerDNS notify
 * over UDP, Knot over TCP only.
 *
 * <p>Threads: {@value #UDP_READERS} readers per UDP socket, one acceptor per TCP socket, one thread per TCP
 * connection (at most {@code maxConnections} at once, at most a quarter of them from one source
 * address), and one dispatcher. The reader and connection threads parse and answer at once, and
 * only after the reply is sent put each accepted request into its source's queue; the dispatcher takes one request from each
 * non-empty queue in turn (round robin) and hands it to the sink. When every queue is empty and
 * no sink call is under way, the thread that read the request hands it to the sink itself: on a
 * quiet listener the dispatcher's wake-up is a hop on the NOTIFY → first key path (~90 µs after
 * an idle spell on the 2-core machine, bench {@code micro.sh wake}); one sink call at a time either way. So a flood from one address
 * delays another address's NOTIFY by at most one sink call per flooding source, not by the whole
 * flood (contract: fairness over dropping). A source's queue holds {@value #DEFAULT_MAX_QUEUED_PER_SOURCE}
 * requests, far above a primary's legitimate burst; only beyond that are requests dropped, counted
 * and logged (at most one line per {@value #DROP_LOG_EVERY_SECONDS} s). Nothing that arrives on a
 * socket can stop a thread: every packet is handled inside its own try/catch.
 *
 * <p>TCP connections are closed when a read waits longer than the idle timeout, when one message
 * takes longer than the idle timeout to arrive in full (a client dripping bytes cannot hold a
 * slot for ever), when the length prefix is 0 or above the frame cap, or at once when the caps
 * on connections are reached.
 */
public final class NotifyListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);

    /** Asked for, not guaranteed: Linux caps it at net.core.rmem_max. Absorbs NOTIFY bursts. */
    static final int UDP_RECEIVE_BUFFER = 4 << 20;
    /**
     * Reader threads per UDP socket, each receiving, answering and queueing on its own: while one
     * parses and answers, another is already receiving. With one reader, a 10,000-zone burst on a
     * busy 2-core machine overflowed even a 4 MiB buffer (hundreds of drops, each costing the
     * primary a resend a second later).
     */
    static final int UDP_READERS = 2;
    /** RFC 1035 §4.2.1 caps UDP at 512 without EDNS, but read whatever arrives, up to the IP limit. */
    private static final int UDP_MAX = 65535;
    private static final Duration DEFAULT_IDLE = Duration.ofSeconds(10);
    private static final int DEFAULT_MAX_CONNECTIONS = 64;
    /** RFC 1035 §4.2.2: the 2-byte length prefix cannot say more than this. */
    private static final int DEFAULT_MAX_TCP_MESSAGE = 65535;
    private static final int PORT_ZERO_ATTEMPTS = 10;
    /**
     * Accepted NOTIFYs waiting for the sink, per source address. Generous on purpose: a primary
     * restarting NOTIFYs every zone at once (thousands within milliseconds) must never lose one.
     */
    static final int DEFAULT_MAX_QUEUED_PER_SOURCE = 100_000;
    static final int DROP_LOG_EVERY_SECONDS = 10;

    private final List<InetSocketAddress> listen;
    private final NotifyHandler handler;
    private final Consumer<NotifyRequest> sink;
    private final Duration idleTimeout;
    private final int maxTcpMessage;
    private final Semaphore connectionSlots;
    private final int maxConnectionsPerSource;
    private final int maxQueuedPerSource;
    private final Stats stats = new Stats();
    private volatile Consumer<String> onOutcome = word -> { };
    /** Per-source queues of accepted requests; {@code ready} lists the sources with work, in turn. */
    private final Map<InetAddress, ArrayDeque<NotifyRequest>> queues = new HashMap<>();
    private final ArrayDeque<InetAddress> ready = new ArrayDeque<>();
    /** A thread is in a sink call (guarded by {@code queues}): the sink is called by one thread at a time. */
    private boolean sinkBusy;
    /** NOTIFYs are answered and queued but not handed on ({@link #hold}; guarded by {@code queues}). */
    private boolean held;
    private final Map<InetAddress, Integer> connectionsBySource = new ConcurrentHashMap<>();
    private final AtomicLong lastDropLog = new AtomicLong(Long.MIN_VALUE);
    private Thread dispatcher;

    private final List<DatagramChannel> udp = new ArrayList<>();
    private final List<ServerSocketChannel> tcp = new ArrayList<>();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    /** The UDP receive buffer each socket was granted, in bytes. */
    private final List<Integer> receiveBuffers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private ExecutorService connectionPool;

    /**
     * @param listen the addresses to bind, UDP and TCP each; port 0 picks a free port shared by both
     * @param handler decides the reply to each message
     * @param sink receives accepted NOTIFYs on the listener's threads; must return quickly
     */
    public NotifyListener(List<InetSocketAddress> listen, NotifyHandler handler, Consumer<NotifyRequest> sink) {
        this(listen, handler, sink, DEFAULT_IDLE, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_TCP_MESSAGE);
    }

    /** For tests: shorter idle timeout, fewer connections, a smaller frame cap. */
    NotifyListener(List<InetSocketAddress> listen, NotifyHandler handler, Consumer<NotifyRequest> sink,
            Duration idleTimeout, int maxConnections, int maxTcpMessage) {
        this(listen, handler, sink, idleTimeout, maxConnections, maxTcpMessage, DEFAULT_MAX_QUEUED_PER_SOURCE);
    }

    /** For tests: also a smaller per-source queue. */
    NotifyListener(List<InetSocketAddress> listen, NotifyHandler handler, Consumer<NotifyRequest> sink,
            Duration idleTimeout, int maxConnections, int maxTcpMessage, int maxQueuedPerSource) {
        this.listen = List.copyOf(listen);
        this.handler = handler;
        this.sink = sink;
        this.idleTimeout = idleTimeout;
        this.connectionSlots = new Semaphore(maxConnections);
        // One address may hold a quarter of the slots: a client hogging connections cannot lock
        // out every other primary (Knot notifies over TCP).
        this.maxConnectionsPerSource = Math.max(1, maxConnections / 4);
        this.maxTcpMessage = maxTcpMessage;
        this.maxQueuedPerSource = maxQueuedPerSource;
    }

    /**
     * Binds UDP and TCP on every address and starts the threads. On failure nothing stays bound.
     *
     * @throws IOException naming the address and transport that could not be bound, e.g.
     *     {@code notify.listen: cannot bind 127.0.0.1:5353 (UDP): Address already in use; choose
     *     another port or stop the other process}
     */
    /**
     * Until {@link #release}: every NOTIFY is answered and waits in its source's queue, nothing
     * reaches the sink (the bridge is not ready for it yet: its saved states still load). No
     * thread of the listener waits for that.
     */
    public void hold() {
        synchronized (queues) {
            held = true;
        }
    }

    /** What {@link #hold} kept goes to the sink, and every NOTIFY after it. */
    public void release() {
        synchronized (queues) {
            held = false;
            queues.notifyAll();
        }
    }

    public synchronized void start() throws IOException {
        if (closed.get() || connectionPool != null) {
            throw new IllegalStateException("NotifyListener can be started once");
        }
        connectionPool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "notify-tcp-conn-" + connectionIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            for (InetSocketAddress address : listen) {
                bindBoth(address);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        for (int i = 0; i < udp.size(); i++) {
            DatagramChannel u = udp.get(i);
            ServerSocketChannel t = tcp.get(i);
            String where = format(bound.get(i));
            for (int r = 1; r <= UDP_READERS; r++) {
                threads.add(daemon("notify-udp-" + where + "-" + r, () -> udpLoop(u)));
            }
            threads.add(daemon("notify-tcp-accept-" + where, () -> acceptLoop(t)));
        }
        dispatcher = daemon("notify-dispatch", this::dispatchLoop);
        threads.add(dispatcher);
        threads.forEach(Thread::start);
        log.info("notify listening on {} (UDP and TCP), UDP receive buffer {} KiB",
                bound.stream().map(NotifyListener::format).toList(),
                receiveBuffers.stream().mapToInt(Integer::intValue).min().orElse(0) / 1024);
    }

    private void bindBoth(InetSocketAddress address) throws IOException {
        if (address.getPort() != 0) {
            tcp.add(bindTcp(address));
            udp.add(bindUdp(address));
            bound.add(address);
            return;
        }
        // Port 0: let TCP pick a port, then take the same one for UDP, so that one address serves
        // both as it does for a real server. Another process may own that UDP port: try again.
        for (int attempt = 1; ; attempt++) {
            ServerSocketChannel t = bindTcp(address);
            InetSocketAddress picked = (InetSocketAddress) t.getLocalAddress();
            try {
                udp.add(bindUdp(picked));
                tcp.add(t);
                bound.add(picked);
                return;
            } catch (IOException e) {
                closeQuietly(t);
                if (attempt >= PORT_ZERO_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private ServerSocketChannel bindTcp(InetSocketAddress address) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(family(address));
        try {
            channel.bind(address, 64);
            return channel;
        } catch (IOException e) {
            closeQuietly(channel);
            throw bindError(address, "TCP", e);
        }
    }

    private DatagramChannel bindUdp(InetSocketAddress address) throws IOException {
        DatagramChannel channel = DatagramChannel.open(family(address));
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, UDP_RECEIVE_BUFFER);
            channel.bind(address);
            // The JDK reads back what the kernel granted (on Linux it halves the kernel's doubled figure).
            int granted = channel.getOption(StandardSocketOptions.SO_RCVBUF);
            receiveBuffers.add(granted);
            String warning = receiveBufferWarning(format(address), UDP_RECEIVE_BUFFER, granted);
            if (warning != null) {
                log.warn(warning);
            }
            return channel;
        } catch (IOException e) {
            closeQuietly(channel);
            throw bindError(address, "UDP", e);
        }
    }

    /**
     * The warning when a socket got a smaller receive buffer than asked (Linux caps it at
     * net.core.rmem_max, often 208 KiB), in the operator's terms; null when it got what it asked.
     */
    static String receiveBufferWarning(String where, int asked, int granted) {
        if (granted >= asked) {
            return null;
        }
        return "notify udp=" + where + ": receive buffer " + kib(granted) + " KiB, asked for " + kib(asked)
                + " KiB; a burst of NOTIFYs (a primary restarting) can overflow it and the primaries must resend;"
                + " raise the system's limit with 'sysctl -w net.core.rmem_max=" + asked + "' (and a file in"
                + " /etc/sysctl.d/ to keep it), then restart the bridge";
    }

    private static long kib(int bytes) {
        return bytes / 1024;
    }

    private static IOException bindError(InetSocketAddress address, String transport, IOException e) {
        String hint = e instanceof BindException && String.valueOf(e.getMessage()).contains("in use")
                ? "choose another port or stop the other process"
                : "check that the address belongs to this host";
        return new IOException("notify.listen: cannot bind " + format(address) + " (" + transport + "): "
                + e.getMessage() + "; " + hint, e);
    }

    private static ProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    // ---- UDP ----

    private void udpLoop(DatagramChannel channel) {
        ByteBuffer buffer = ByteBuffer.allocate(UDP_MAX);
        while (!closed.get()) {
            InetSocketAddress from;
            try {
                buffer.clear();
                from = (InetSocketAddress) channel.receive(buffer);
            } catch (ClosedChannelException e) {
                return; // close() was called
            } catch (IOException | RuntimeException e) {
                // e.g. ICMP port unreachable surfacing on Linux; the socket itself is still good
                log.debug("notify udp receive failed: {}", e.toString());
                continue;
            }
            NotifyHandler.Outcome outcome = handle(buffer.array(), buffer.position(), from.getAddress(), "udp");
            try {
                if (outcome.reply() != null) {
                    channel.send(ByteBuffer.wrap(outcome.reply()), from);
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException e) {
                log.debug("notify source={} proto=udp reply failed: {}", from.getAddress().getHostAddress(), e.toString());
            } finally {
                hand(outcome.accepted()); // after the reply: the sink's backlog never delays it
            }
        }
    }

    // ---- TCP ----

    private void acceptLoop(ServerSocketChannel server) {
        while (!closed.get()) {
            SocketChannel connection;
            try {
                connection = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException e) {
                // e.g. too many open files: keep serving the connections we have
                log.warn("notify: cannot accept a TCP connection ({}); still serving the open ones",
                        e.getMessage() == null ? "no detail" : e.getMessage());
                log.debug("notify tcp accept failed", e);
                continue;
            }
            InetAddress source = remoteAddress(connection);
            if (!takeSourceSlot(source)) {
                stats.connectionsRejected.incrementAndGet();
                log.debug("notify tcp connection from {} refused: {} open from that address", addr(source),
                        maxConnectionsPerSource);
                closeQuietly(connection);
                continue;
            }
            if (!connectionSlots.tryAcquire()) {
                // A cap, so that a client opening connections cannot exhaust threads or descriptors.
                releaseSourceSlot(source);
                stats.connectionsRejected.incrementAndGet();
                log.debug("notify tcp connection refused: {} connections open", connections.size());
                closeQuietly(connection);
                continue;
            }
            connections.add(connection);
            try {
                connectionPool.execute(() -> serve(connection, source));
            } catch (RejectedExecutionException e) {
                release(connection, source); // closing down
            }
        }
    }

    /** RFC 1035 §4.2.2 / RFC 7766 §6.2.1: 2-byte length framing, several messages per connection. */
    private void serve(SocketChannel connection, InetAddress source) {
        InetAddress from = source;
        try {
            Socket socket = connection.socket();
            // The channel's socket adaptor honours SO_TIMEOUT on reads (JDK 13+); the channel's own
            // read() would not. RFC 7766 §6.2.3: close idle connections.
            socket.setSoTimeout((int) idleTimeout.toMillis());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (!closed.get()) {
                int length;
                try {
                    length = in.readUnsignedShort();
                } catch (EOFException e) {
                    return; // the client is done
                }
                if (length == 0 || length > maxTcpMessage) {
                    log.debug("notify source={} proto=tcp frame length {} outside 1-{}: closing",
                            from.getHostAddress(), length, maxTcpMessage);
                    stats.dropped.incrementAndGet();
                    return;
                }
                byte[] message = readMessage(socket, in, length);
                NotifyHandler.Outcome outcome = handle(message, length, from, "tcp");
                byte[] reply = outcome.reply();
                try {
                    if (reply != null) {
                        byte[] frame = new byte[reply.length + 2];
                        frame[0] = (byte) (reply.length >>> 8);
                        frame[1] = (byte) reply.length;
                        System.arraycopy(reply, 0, frame, 2, reply.length);
                        out.write(frame);
                        out.flush();
                    }
                } finally {
                    hand(outcome.accepted()); // after the reply, as over UDP
                }
            }
        } catch (SocketTimeoutException e) {
            log.debug("notify source={} proto=tcp idle for {}: closing", addr(from), idleTimeout);
        } catch (IOException | RuntimeException e) {
            if (!closed.get()) {
                log.debug("notify source={} proto=tcp connection ended: {}", addr(from), e.toString());
            }
        } finally {
            release(connection, source);
        }
    }

    /**
     * Reads one message body of {@code length} bytes, which must arrive within the idle timeout
     * as a whole: SO_TIMEOUT alone bounds each read, so a client sending a byte now and then
     * would otherwise keep its slot for ever.
     */
    private byte[] readMessage(Socket socket, DataInputStream in, int length) throws IOException {
        byte[] message = new byte[length];
        long deadline = System.nanoTime() + idleTimeout.toNanos();
        int read = 0;
        try {
            while (read < length) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new SocketTimeoutException("message of " + length + " bytes incomplete after " + idleTimeout);
                }
                socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
                int n = in.read(message, read, length - read);
                if (n < 0) {
                    throw new EOFException("connection closed after " + read + " of " + length + " bytes");
                }
                read += n;
            }
        } finally {
            socket.setSoTimeout((int) idleTimeout.toMillis());
        }
        return message;
    }

    private void release(SocketChannel connection, InetAddress source) {
        if (connections.remove(connection)) {
            connectionSlots.release();
            releaseSourceSlot(source);
        }
        closeQuietly(connection);
    }

    /** Counts one more connection from {@code source}, unless it already holds its share. */
    private boolean takeSourceSlot(InetAddress source) {
        boolean[] taken = {false};
        connectionsBySource.compute(source, (a, open) -> {
            int n = open == null ? 0 : open;
            if (n >= maxConnectionsPerSource) {
                return open;
            }
            taken[0] = true;
            return n + 1;
        });
        return taken[0];
    }

    private void releaseSourceSlot(InetAddress source) {
        connectionsBySource.computeIfPresent(source, (a, open) -> open <= 1 ? null : open - 1);
    }

    private static InetAddress remoteAddress(SocketChannel connection) {
        try {
            return ((InetSocketAddress) connection.getRemoteAddress()).getAddress();
        } catch (IOException | RuntimeException e) {
            return InetAddress.getLoopbackAddress(); // closed already; serve() ends at once
        }
    }

    // ---- shared ----

    /**
     * Runs the handler, counts and logs. Never throws. The caller sends the reply first and then
     * {@link #enqueue}s the accepted request: the reply path never touches the queues the
     * dispatcher shares with the sink (issue 11: every NOTIFY answered at once whatever the
     * check backlog).
     */
    private NotifyHandler.Outcome handle(byte[] packet, int length, InetAddress from, String proto) {
        NotifyHandler.Outcome outcome = handler.handle(packet, length, from);
        onOutcome.accept(stats.count(outcome));
        NotifyRequest accepted = outcome.accepted();
        if (accepted == null) {
            log.debug("notify source={} proto={} outcome={}", from.getHostAddress(), proto, outcome.reason());
        } else {
            log.debug("notify source={} proto={} outcome={} zone={} serial={} key={}", from.getHostAddress(), proto,
                    outcome.reason(), accepted.zone(), accepted.serial(), accepted.tsigKey());
        }
        return outcome;
    }

    /**
     * An accepted request (null: none) to the sink: at once on this thread when nothing waits and
     * no sink call is under way, else into its source's queue for the dispatcher.
     */
    private void hand(NotifyRequest request) {
        if (request == null) {
            return;
        }
        synchronized (queues) {
            if (held || sinkBusy || !ready.isEmpty()) {
                if (!enqueue(request)) {
                    dropped(request.source());
                }
                return;
            }
            sinkBusy = true;
        }
        try {
            deliver(request);
        } finally {
            synchronized (queues) {
                sinkBusy = false;
                if (!ready.isEmpty()) {
                    queues.notifyAll(); // what came meanwhile is the dispatcher's
                }
            }
        }
    }

    /**
     * Puts an accepted request into its source's queue (O(1); caller holds {@code queues}); false
     * when the queue is at its generous cap (the request is dropped).
     */
    private boolean enqueue(NotifyRequest request) {
        InetAddress source = request.source();
        ArrayDeque<NotifyRequest> q = queues.get(source);
        if (q == null) {
            q = new ArrayDeque<>();
            queues.put(source, q);
            ready.addLast(source);
            queues.notifyAll();
        }
        if (q.size() >= maxQueuedPerSource) {
            return false;
        }
        q.addLast(request);
        return true;
    }

    /** Counts a dropped request; logs at most one line per {@value #DROP_LOG_EVERY_SECONDS} s. */
    private void dropped(InetAddress source) {
        long n = stats.queueDropped.incrementAndGet();
        long now = System.nanoTime();
        long last = lastDropLog.get();
        if ((last == Long.MIN_VALUE || now - last >= DROP_LOG_EVERY_SECONDS * 1_000_000_000L)
                && lastDropLog.compareAndSet(last, now)) {
            log.warn("notify source={} sends faster than NOTIFYs are handled: {} waiting from it; "
                    + "{} dropped so far (all sources)", source.getHostAddress(), maxQueuedPerSource, n);
        }
    }

    /** Hands queued requests to the sink, one per source in turn (round robin). */
    private void dispatchLoop() {
        while (!closed.get()) {
            NotifyRequest next;
            synchronized (queues) {
                while (ready.isEmpty() || sinkBusy || held) {
                    if (closed.get()) {
                        return;
                    }
                    try {
                        queues.wait();
                    } catch (InterruptedException e) {
                        return; // close()
                    }
                }
                InetAddress source = ready.pollFirst();
                ArrayDeque<NotifyRequest> q = queues.get(source);
                next = q.pollFirst();
                if (q.isEmpty()) {
                    queues.remove(source);
                } else {
                    ready.addLast(source);
                }
                sinkBusy = true;
            }
            try {
                deliver(next);
            } finally {
                synchronized (queues) {
                    sinkBusy = false;
                }
            }
        }
    }

    /** One request to the sink; the sink's failure never costs the listener its thread. */
    private void deliver(NotifyRequest next) {
        try {
            sink.accept(next);
        } catch (RuntimeException e) {
            // The sink's bug must not cost us the listener.
            stats.sinkErrors.incrementAndGet();
            log.warn("notify source={} zone={}: handing the NOTIFY on failed ({}); the listener goes on",
                    next.source().getHostAddress(), next.zone(), e.getMessage() == null ? "no detail" : e.getMessage());
            log.debug("notify sink failure", e); // stack traces only at DEBUG
        }
    }

    /**
     * Told the outcome of every NOTIFY handled (metrics): {@code accepted}, {@code refused},
     * {@code formerr}, {@code notimp}, {@code notauth}, or {@code dropped} (no reply possible).
     */
    public void countOutcomes(Consumer<String> counter) {
        this.onOutcome = counter;
    }

    /** Accepted requests waiting for the sink, all sources together. */
    public int queued() {
        synchronized (queues) {
            int n = 0;
            for (ArrayDeque<NotifyRequest> q : queues.values()) {
                n += q.size();
            }
            return n;
        }
    }

    /** Accepted requests dropped because their source's queue was full. */
    public long queueDropped() {
        return stats.queueDropped.get();
    }

    /** The UDP addresses actually bound (port 0 resolved), in {@code listen} order. */
    public synchronized List<InetSocketAddress> udpAddresses() {
        return List.copyOf(bound);
    }

    /** The TCP addresses actually bound (port 0 resolved), in {@code listen} order. */
    public synchronized List<InetSocketAddress> tcpAddresses() {
        return List.copyOf(bound);
    }

    /**
     * The addresses bound, in {@code listen} order. UDP and TCP always share each port (port 0 is
     * resolved to one free port for both), so this equals {@link #udpAddresses()} and
     * {@link #tcpAddresses()}; those two exist so that callers say which transport they mean.
     */
    public synchronized List<InetSocketAddress> boundAddresses() {
        return List.copyOf(bound);
    }

    /** NOTIFYs accepted and handed to the sink. */
    public long accepted() {
        return stats.accepted.get();
    }

    /** Messages answered REFUSED (source not allowed, or unsigned while TSIG is required). */
    public long refused() {
        return stats.refused.get();
    }

    /** Messages answered FORMERR. */
    public long formerr() {
        return stats.formerr.get();
    }

    /** Messages answered NOTIMP (opcode not NOTIFY). */
    public long notimp() {
        return stats.notimp.get();
    }

    /** Messages answered NOTAUTH (TSIG BADKEY, BADSIG or BADTIME). */
    public long notauth() {
        return stats.notauth.get();
    }

    /** Messages dropped without a reply: too short, responses, bad TCP frames. */
    public long dropped() {
        return stats.dropped.get();
    }

    /** Accepted NOTIFYs whose sink threw. */
    public long sinkErrors() {
        return stats.sinkErrors.get();
    }

    /** TCP connections closed at once because the connection cap was reached. */
    public long connectionsRejected() {
        return stats.connectionsRejected.get();
    }

    /** Closes every socket and stops the threads. Safe to call more than once. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<Thread> toJoin;
        synchronized (this) {
            udp.forEach(NotifyListener::closeQuietly);
            tcp.forEach(NotifyListener::closeQuietly);
            toJoin = List.copyOf(threads);
        }
        connections.forEach(NotifyListener::closeQuietly);
        synchronized (queues) {
            queues.notifyAll(); // wakes the dispatcher, which sees closed
        }
        if (dispatcher != null) {
            dispatcher.interrupt();
        }
        if (connectionPool != null) {
            connectionPool.shutdownNow();
        }
        for (Thread t : toJoin) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    private static String format(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String addr(InetAddress a) {
        return a == null ? "?" : a.getHostAddress();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            // nothing useful to do while closing
        }
    }
}
