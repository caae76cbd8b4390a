package org.dnssec2mqtt.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latency figures' subscriber: a minimal MQTT 3.1.1 client on a plain socket, subscribed at
 * QoS 0 to every zone's key topics, that stamps each PUBLISH with {@link System#nanoTime()} on its
 * one reader thread the moment the packet is read. Paho's client hands every message from its
 * receiver thread to a callback thread first, a thread wake-up inside the measured interval that
 * is the subscriber's, not the system's under test (the same for the bridge and the naive loop).
 */
final class KeyStamps implements AutoCloseable {
    private final Socket socket;
    private final Map<String, CompletableFuture<Long>> next = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * Connects and subscribes; tried up to five times: the in-JVM broker now and then closes a new
     * connection right after its SUBSCRIBE (about one in four in BenchToolsTest).
     */
    static KeyStamps connect(String url, String... prefixes) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                return new KeyStamps(url, prefixes);
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    private KeyStamps(String url, String... prefixes) throws IOException {
        URI u = URI.create(url);
        socket = new Socket(u.getHost(), u.getPort());
        socket.setTcpNoDelay(true);
        OutputStream out = socket.getOutputStream();
        byte[] id = ("bench-stamps-" + UUID.randomUUID()).substring(0, 23).getBytes(StandardCharsets.UTF_8);
        // CONNECT: protocol "MQTT" level 4, clean session, keepalive 600 s (longer than the
        // latency phases it serves: no PINGREQ needed), the client id
        byte[] connect = concat(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 600 >> 8, (byte) (600 & 0xFF)}, string(id));
        out.write(packet(0x10, connect));
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] connack = read(in);
        if (connack == null || (connack[0] & 0xF0) != 0x20 || connack[connack.length - 1] != 0) {
            socket.close();
            throw new IOException("the broker refused the stamping subscriber");
        }
        byte[] subscribe = {0, 1}; // packet id 1
        for (String p : prefixes) {
            subscribe = concat(subscribe, concat(string((p + "/+/keys/+").getBytes(StandardCharsets.UTF_8)), new byte[] {0}));
        }
        out.write(packet(0x82, subscribe));
        byte[] suback = read(in);
        if (suback == null || (suback[0] & 0xF0) != 0x90) {
            socket.close();
            throw new IOException("the broker did not acknowledge the stamping subscriber's subscription: "
                    + (suback == null ? "closed" : java.util.Arrays.toString(suback)));
        }
        Thread reader = new Thread(() -> readLoop(in), "bench-stamps");
        reader.setDaemon(true);
        reader.start();
    }

    /** Completes with the arrival time of the next non-empty key message of {@code prefixZone} from now on. */
    CompletableFuture<Long> next(String prefixZone) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        next.put(prefixZone, f);
        return f;
    }

    private void readLoop(DataInputStream in) {
        try {
            while (!closed) {
                byte[] p = read(in);
                if (p == null) {
                    return;
                }
                long now = System.nanoTime();
                if ((p[0] & 0xF0) != 0x30) {
                    continue; // only PUBLISH (QoS 0: no packet id)
                }
                int body = bodyStart(p);
                int topicLength = ((p[body] & 0xFF) << 8) | (p[body + 1] & 0xFF);
                String topic = new String(p, body + 2, topicLength, StandardCharsets.UTF_8);
                boolean empty = body + 2 + topicLength >= p.length;
                int keys = topic.indexOf("/keys/");
                if (!empty && keys > 0) {
                    CompletableFuture<Long> f = next.remove(topic.substring(0, keys));
                    if (f != null) {
                        f.complete(now);
                    }
                }
            }
        } catch (IOException e) {
            if (!closed) {
                System.err.println("bench: the stamping subscriber lost its connection: " + e);
            }
        }
    }

    /** One whole packet (fixed header included); null at the end of the stream. */
    private static byte[] read(DataInputStream in) throws IOException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        int length = 0;
        int shift = 0;
        byte[] header = new byte[5];
        header[0] = (byte) first;
        int h = 1;
        int b;
        do {
            b = in.readUnsignedByte();
            header[h++] = (byte) b;
            length |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0 && h < 5);
        byte[] p = new byte[h + length];
        System.arraycopy(header, 0, p, 0, h);
        in.readFully(p, h, length);
        return p;
    }

    /** Where the variable header starts: after the type byte and the remaining length's bytes. */
    private static int bodyStart(byte[] p) {
        int i = 1;
        while ((p[i] & 0x80) != 0) {
            i++;
        }
        return i + 1;
    }

    private static byte[] packet(int type, byte[] body) {
        byte[] length = new byte[4];
        int n = 0;
        int left = body.length;
        do {
            int digit = left % 128;
            left /= 128;
            length[n++] = (byte) (left > 0 ? digit | 0x80 : digit);
        } while (left > 0);
        byte[] p = new byte[1 + n + body.length];
        p[0] = (byte) type;
        System.arraycopy(length, 0, p, 1, n);
        System.arraycopy(body, 0, p, 1 + n, body.length);
        return p;
    }

    private static byte[] string(byte[] s) {
        return concat(new byte[] {(byte) (s.length >>> 8), (byte) s.length}, s);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
