package org.dnssec2mqtt.dns;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.io.IoClientFactory;
import org.xbill.DNS.io.TcpIoClient;
import org.xbill.DNS.io.UdpIoClient;

/**
 * DNS over TCP for {@link ZoneFetcher}: pooled connections with {@code TCP_NODELAY}, one query in
 * flight per connection, so that a zone's four queries go out at once on up to four connections.
 * Measured against NSD (bridge/docs/performance.md): queries pipelined on one connection wait
 * ~40 ms each, with dnsjava's client and with this one alike: the server's small answers meet
 * Nagle's algorithm on its side and our delayed ACK. One query per connection at a time never
 * leaves unacknowledged data behind an answer. With {@link #MAX_PER_SERVER} connections to a
 * server busy, a query waits (within its timeout) for one to become idle. Answers are matched
 * by message ID all the same. Each query is one write of its 2-byte length and message (RFC 1035 §4.2.2). A
 * connection idle for {@link #IDLE} is closed; one that the server closed or reset fails the
 * queries in flight on it with an {@link IOException}, which the fetcher retries on another.
 * Such a server has usually restarted or reloaded (NSD forks new server processes on every
 * reload, and the old ones reset their connections as they go): its idle connections opened
 * before the failed one are closed with it, so that the retry opens a new connection instead of
 * meeting the next stale one (with a pool of old connections every retry of a check met one).
 *
 * <p>Threads: one reader per open connection, daemon.
 */
final class TcpClient implements TcpIoClient {
    private static final Logger log = LoggerFactory.getLogger(TcpClient.class);
    /** RFC 7766 §6.2.3 lets clients close idle connections; servers do too (NSD after seconds). */
    static final Duration IDLE = Duration.ofSeconds(10);
    /**
     * Connections to one server at most: the bridge's 16 check workers ask four zones' queries at
     * once; NSD accepts 100 TCP connections by default ({@code tcp-count}).
     */
    static final int MAX_PER_SERVER = 16;

    private final Map<InetSocketAddress, List<Connection>> connections = new ConcurrentHashMap<>();

    /**
     * dnsjava's factory with this TCP client, for resolvers that ask over TCP only: UDP queries go
     * through {@link UdpExchange}, never through dnsjava's client.
     */
    IoClientFactory factory() {
        return new IoClientFactory() {
            @Override
            public TcpIoClient createOrGetTcpClient() {
                return TcpClient.this;
            }

            @Override
            public UdpIoClient createOrGetUdpClient() {
                return (local, remote, query, data, max, timeout) -> CompletableFuture.failedFuture(
                        new IllegalStateException("UDP queries go through UdpExchange"));
            }
        };
    }

    @Override
    public CompletableFuture<byte[]> sendAndReceiveTcp(InetSocketAddress local, InetSocketAddress remote, Message query,
            byte[] data, Duration timeout) {
        try {
            return connection(local, remote, timeout).send(query.getHeader().getID(), data, timeout);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * An idle connection to {@code remote}, else a new one while under the cap, else the first
     * to become idle within {@code timeout}; counted busy for the caller's query.
     */
    private Connection connection(InetSocketAddress local, InetSocketAddress remote, Duration timeout)
            throws IOException {
        List<Connection> pool = connections.computeIfAbsent(remote, r -> new CopyOnWriteArrayList<>());
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (pool) {
            while (true) {
                for (Connection c : pool) {
                    if (c.open() && c.claim()) {
                        return c;
                    }
                }
                if (pool.size() < MAX_PER_SERVER) {
                    break;
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new SocketTimeoutException("all " + MAX_PER_SERVER + " connections to " + remote + " busy");
                }
                try {
                    pool.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted");
                }
            }
        }
        Connection c = new Connection(local, remote, timeout, pool);
        c.claim();
        pool.add(c);
        return c;
    }

    /** Closes every connection (the queries in flight fail). */
    void close() {
        connections.values().forEach(pool -> pool.forEach(c -> c.close(new IOException("closed"))));
        connections.clear();
    }

    /** One TCP connection to one server and the queries in flight on it, by message ID. */
    private final class Connection {
        private final InetSocketAddress remote;
        private final Socket socket = new Socket();
        private final OutputStream out;
        private final Map<Integer, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
        private final List<Connection> pool;
        /** Queries in flight, counted from {@link TcpClient#connection} on; 0 = idle. */
        private final AtomicInteger busy = new AtomicInteger();
        private volatile boolean closed;
        /** {@link System#nanoTime()} of the connect: which connections are older than a failed one. */
        private final long opened = System.nanoTime();

        Connection(InetSocketAddress local, InetSocketAddress remote, Duration timeout, List<Connection> pool)
                throws IOException {
            this.remote = remote;
            this.pool = pool;
            try {
                socket.setTcpNoDelay(true);
                if (local != null) {
                    socket.bind(local);
                }
                socket.connect(remote, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
                socket.setSoTimeout((int) IDLE.toMillis());
                out = socket.getOutputStream();
            } catch (IOException e) {
                socket.close();
                throw e;
            }
            Thread reader = new Thread(this::readLoop, "dns-tcp-" + remote.getAddress().getHostAddress() + ":" + remote.getPort());
            reader.setDaemon(true);
            reader.start();
        }

        boolean open() {
            return !closed;
        }

        /** Takes this connection if it is idle. */
        boolean claim() {
            return busy.compareAndSet(0, 1);
        }

        /** The query is over: the connection is idle again; wake one waiting for it. */
        private void release() {
            busy.decrementAndGet();
            synchronized (pool) {
                pool.notify();
            }
        }

        CompletableFuture<byte[]> send(int id, byte[] data, Duration timeout) throws IOException {
            CompletableFuture<byte[]> answer = new CompletableFuture<>();
            if (pending.putIfAbsent(id, answer) != null) {
                release();
                // two queries with one ID on one connection could not be told apart
                throw new IOException("message ID " + id + " already in flight to " + remote);
            }
            if (closed) { // closed between connection() and here: ask again on a new one
                pending.remove(id, answer);
                release();
                throw new IOException("the connection to " + remote + " was closed");
            }
            answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((bytes, e) -> {
                        pending.remove(id, answer);
                        release();
                    });
            byte[] frame = new byte[data.length + 2];
            frame[0] = (byte) (data.length >>> 8);
            frame[1] = (byte) data.length;
            System.arraycopy(data, 0, frame, 2, data.length);
            try {
                synchronized (out) {
                    out.write(frame);
                }
            } catch (IOException e) {
                closedByServer(e);
                throw e;
            }
            return answer;
        }

        private void readLoop() {
            try {
                DataInputStream in = new DataInputStream(socket.getInputStream());
                while (!closed) {
                    int length;
                    try {
                        length = in.readUnsignedShort();
                    } catch (SocketTimeoutException idle) {
                        if (pending.isEmpty()) {
                            close(new IOException("idle"));
                            return;
                        }
                        continue; // queries in flight time out on their own
                    }
                    byte[] message = new byte[length];
                    in.readFully(message);
                    if (length < 2) {
                        continue;
                    }
                    int id = ((message[0] & 0xFF) << 8) | (message[1] & 0xFF);
                    CompletableFuture<byte[]> answer = pending.remove(id);
                    if (answer != null) {
                        answer.complete(message);
                    } else {
                        log.debug("dns tcp server={} answer with unknown ID {} (timed out?)", remote, id);
                    }
                }
            } catch (EOFException e) {
                closedByServer(new EOFException("the server closed the connection"));
            } catch (IOException e) {
                closedByServer(e);
            }
        }

        /** The server closed or reset this connection: closes it and the idle ones older than it. */
        private void closedByServer(IOException why) {
            if (closed) {
                return; // closed on this side first (idle, shutdown): nothing learned about the server
            }
            close(why);
            int stale = 0;
            for (Connection c : pool) {
                if (c.opened - opened <= 0 && c.claim()) { // idle: claimed so that no query takes it meanwhile
                    c.close(new IOException("an older connection to " + remote + " was closed by the server"));
                    stale++;
                }
            }
            if (stale > 0) {
                log.debug("dns tcp server={} closed a connection ({}): {} older idle ones closed too", remote,
                        why.getMessage(), stale);
            }
        }

        void close(IOException why) {
            closed = true;
            pool.remove(this);
            synchronized (pool) {
                pool.notify(); // room for a new connection
            }
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
            for (CompletableFuture<byte[]> f : pending.values()) {
                f.completeExceptionally(why);
            }
            pending.clear();
        }
    }
}
