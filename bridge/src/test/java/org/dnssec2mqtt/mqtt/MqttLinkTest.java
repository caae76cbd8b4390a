package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MqttRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link against the in-JVM broker with a real Paho subscriber: messages are handed to Paho on
 * the caller's thread while nothing waits, else by the sender thread, and either way each
 * caller's messages reach a subscriber in the order they were made (a zone's events before its
 * retained topics, CONTRACT), none lost.
 */
@Timeout(60)
class MqttLinkTest {
    @TempDir
    Path dir;

    @Test
    void messagesFromManyThreadsAtOnceArriveEachInTheOrderTheyWereMade() throws Exception {
        int threads = 4;
        int each = 200; // below Moquette's queue per subscriber session
        EmbeddedBroker broker = new EmbeddedBroker(new InetSocketAddress("127.0.0.1", FreePorts.tcp()), dir);
        broker.start();
        MqttLink link = new MqttLink(new MqttLink.Settings(broker.url(), "link-test", null, null, null, 30),
                new Topics("t"));
        try (MqttRecorder sub = new MqttRecorder(broker.url(), "t/#")) {
            long deadline = System.nanoTime() + 20_000_000_000L;
            startAndAwaitSession(link, deadline);
            atOnce(threads, id -> {
                for (int i = 0; i < each; i++) {
                    // events and retained messages interleaved, as a check makes them
                    if (i % 2 == 0) {
                        link.send("t/z" + id + "/events", Integer.toString(i));
                    } else {
                        link.retain("t/z" + id + "/keys/" + i, Integer.toString(i));
                    }
                }
            });
            while (System.nanoTime() < deadline && count(sub) < threads * each) {
                Thread.onSpinWait(); // polling the recorder
            }
            assertEquals(threads * each, count(sub), "messages received");
            Map<String, Integer> last = new HashMap<>();
            for (MqttRecorder.Received m : sub.messages()) {
                String[] parts = m.topic().split("/");
                if (!parts[1].startsWith("z")) {
                    continue; // the link's own online message
                }
                int n = Integer.parseInt(m.payload());
                Integer before = last.put(parts[1], n);
                assertTrue(before == null ? n == 0 : n == before + 1,
                        parts[1] + ": " + n + " arrived after " + before);
            }
        } finally {
            link.close();
            broker.close();
        }
    }

    @Test
    void checksThatOutrunAConnectedBrokerAreHeldBackAndLoseNoEvent() throws Exception {
        // issue 11: a 100,000-zone burst dropped 30,000 zone_added events ("broker away too long")
        // to a broker that was there; the queue, unbounded for retained messages, grew the heap
        int threads = 4;
        int each = MqttLink.MAX_PARKED_EVENTS; // 4 x the events the queue may park
        EmbeddedBroker broker = new EmbeddedBroker(new InetSocketAddress("127.0.0.1", FreePorts.tcp()), dir);
        broker.start();
        MqttLink link = new MqttLink(new MqttLink.Settings(broker.url(), "link-burst", null, null, null, 30),
                new Topics("t"));
        try {
            long deadline = System.nanoTime() + 50_000_000_000L;
            startAndAwaitSession(link, deadline);
            long before = link.published();
            int[] peak = {0};
            atOnce(threads, id -> {
                for (int i = 0; i < each; i++) {
                    link.send("t/z" + id + "/events", "{\"event\":\"zone_added\",\"n\":" + i + "}");
                    if (i % 2 == 0) {
                        link.retain("t/z" + id + "/keys/" + i, Integer.toString(i));
                    }
                    if (i % 100 == 0) {
                        synchronized (peak) {
                            peak[0] = Math.max(peak[0], link.queued());
                        }
                    }
                }
            });
            long want = before + (long) threads * each * 3 / 2;
            while (System.nanoTime() < deadline && link.published() < want) {
                Thread.onSpinWait(); // polling the broker's acknowledgements
            }
            assertEquals(0, link.droppedEvents(), "events dropped to a broker that was there");
            assertEquals(want, link.published(), "every message acknowledged by the broker");
            assertTrue(peak[0] <= MqttLink.HIGH_WATER + threads, "the queue held " + peak[0] + " messages");
        } finally {
            link.close();
            broker.close();
        }
    }

    private static void startAndAwaitSession(MqttLink link, long deadline) throws java.io.IOException {
        link.start();
        while (link.reconciles() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // polling: the link sends once its session is set up
        }
        assertEquals(1, link.reconciles(), "the link's session was not set up");
    }

    /** Runs {@code body} on {@code threads} threads let go at once (each given its number), and waits for them. */
    private static void atOnce(int threads, java.util.function.IntConsumer body) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread s = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                body.accept(id);
            });
            senders.add(s);
            s.start();
        }
        go.countDown();
        for (Thread s : senders) {
            s.join();
        }
    }

    private static long count(MqttRecorder sub) {
        return sub.messages().stream().filter(m -> m.topic().startsWith("t/z")).count();
    }
}
