package org.dnssec2mqtt.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.SynchronousQueue;

/**
 * What one hand-off costs on this machine, the floor under the NOTIFY → first key path: a thread
 * woken by another (as a check worker is by the NOTIFY reader, or Paho's sender by a publish),
 * and a thread woken by a loopback UDP datagram (as a server, or the bridge on its answer), each
 * after the machine was idle for a while (the path's steps come one at a time, so each meets
 * sleeping cores) and back to back. Median and p90 of {@code BENCH_WAKE_COUNT} [300] wake-ups
 * per row, wall time from the send to the woken thread's first instruction.
 */
public final class WakeBench {
    private WakeBench() {}

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(System.getenv().getOrDefault("BENCH_WAKE_COUNT", "300"));
        System.out.println("Java " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs; µs from the hand-off to the woken thread\n");
        System.out.println("| hand-off | idle before each | median µs | p90 µs |");
        System.out.println("|---|---:|---:|---:|");
        for (int idleMs : new int[] {30, 1, 0}) {
            row("thread → thread (SynchronousQueue)", idleMs, threads(count, idleMs));
            row("UDP datagram on 127.0.0.1 → blocked receiver", idleMs, udp(count, idleMs));
            row("TCP segment on 127.0.0.1 (TCP_NODELAY) → blocked reader", idleMs, tcp(count, idleMs));
        }
    }

    private static void row(String what, int idleMs, long[] nanos) {
        Arrays.sort(nanos);
        System.out.printf(Locale.ROOT, "| %s | %d ms | %.0f | %.0f |%n", what, idleMs,
                nanos[nanos.length / 2] / 1e3, nanos[nanos.length * 9 / 10] / 1e3);
    }

    private static long[] threads(int count, int idleMs) throws Exception {
        SynchronousQueue<Long> q = new SynchronousQueue<>();
        long[] out = new long[count];
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; i < count; i++) {
                    long sent = q.take();
                    out[i] = System.nanoTime() - sent;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "woken");
        t.start();
        for (int i = 0; i < count; i++) {
            idle(idleMs);
            q.put(System.nanoTime());
        }
        t.join();
        return out;
    }

    private static long[] udp(int count, int idleMs) throws Exception {
        long[] out = new long[count];
        java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
        try (DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                DatagramChannel tx = DatagramChannel.open()) {
            Thread t = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocate(64);
                try {
                    for (int i = 0; i < count; i++) {
                        b.clear();
                        rx.receive(b);
                        out[i] = System.nanoTime() - b.getLong(0);
                        received.incrementAndGet();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, "receiver");
            t.start();
            ByteBuffer m = ByteBuffer.allocate(8);
            for (int i = 0; i < count; i++) {
                while (received.get() < i) {
                    Thread.onSpinWait(); // one datagram at a time: back to back ones would fill the socket's buffer
                }
                idle(idleMs);
                m.clear();
                m.putLong(0, System.nanoTime());
                tx.send(m, rx.getLocalAddress());
            }
            t.join();
        }
        return out;
    }

    private static long[] tcp(int count, int idleMs) throws Exception {
        long[] out = new long[count];
        java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
                java.net.Socket tx = new java.net.Socket("127.0.0.1", server.getLocalPort());
                java.net.Socket rx = server.accept()) {
            tx.setTcpNoDelay(true);
            Thread t = new Thread(() -> {
                try {
                    java.io.DataInputStream in = new java.io.DataInputStream(rx.getInputStream());
                    for (int i = 0; i < count; i++) {
                        long sent = in.readLong();
                        out[i] = System.nanoTime() - sent;
                        received.incrementAndGet();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, "reader");
            t.start();
            java.io.DataOutputStream o = new java.io.DataOutputStream(tx.getOutputStream());
            for (int i = 0; i < count; i++) {
                while (received.get() < i) {
                    Thread.onSpinWait();
                }
                idle(idleMs);
                o.writeLong(System.nanoTime());
            }
            t.join();
        }
        return out;
    }

    private static void idle(int ms) throws InterruptedException {
        if (ms > 0) {
            Thread.sleep(ms); // the idle spell between steps is what is measured, not a synchronisation
        } else {
            Thread.onSpinWait();
        }
    }
}
