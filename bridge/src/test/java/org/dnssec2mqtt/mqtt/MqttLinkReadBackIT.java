package org.dnssec2mqtt.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.time.Duration;
import java.util.Map;
import org.dnssec2mqtt.broker.EmbeddedBroker;
import org.dnssec2mqtt.support.FreePorts;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.ReadBackSession;
import org.dnssec2mqtt.support.RetainedFill;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read-back of the broker's retained copy after a connect, against a real mosquitto holding
 * many retained topics: it lasts as long as they keep arriving (a bound on the whole read-back
 * cut large ones off, and everything was published again), and it gives up only when nothing
 * arrives at all (no read access to the bridge's own topics). The embedded broker replays every
 * filter of the link's one SUBSCRIBE before the echo of the online message sent right after it.
 */
@Timeout(120)
class MqttLinkReadBackIT {
    private static final int TOPICS = 60_000;
    /** Far below what reading back {@link #TOPICS} topics takes, far above the gap between two of them. */
    private static final long IDLE_MS = 300;

    @Test
    void aReadBackLongerThanTheIdleBoundIsReadToTheEnd() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.start("allow_anonymous true\nmax_queued_messages 0\n", Map.of())) {
            fill(broker.url(), TOPICS);
            long[] t0 = new long[1];
            RetainedCopy retained = ReadBackSession.readBack(broker.url(), "rb", "rb-link", link -> {
                link.readBackIdle(IDLE_MS);
                t0[0] = System.nanoTime(); // the link starts right after
            }, Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0[0]) / 1_000_000;
            assertTrue(ms > IDLE_MS, "the read-back took " + ms + " ms: too short to test the bound");
            assertEquals(TOPICS, retained.size(), "topics read back in " + ms + " ms");
            assertTrue(retained.holds(topic(TOPICS - 1), payload(TOPICS - 1)));
        }
    }

    @Test
    void theEmbeddedBrokerReplaysEveryFilterBeforeTheEcho(@TempDir Path dir) throws Exception {
        int n = 20_000; // below its queue per session (65,536)
        EmbeddedBroker broker = new EmbeddedBroker(new InetSocketAddress("127.0.0.1", FreePorts.tcp()), dir);
        broker.start();
        try {
            fill(broker.url(), n);
            RetainedCopy retained = ReadBackSession.readBack(broker.url(), "rb", "rb-link", link -> { },
                    Duration.ofSeconds(60));
            assertEquals(n, retained.size(), "topics read back");
            for (int i : new int[] {0, 1, 2, n - 3, n - 2, n - 1}) {
                assertTrue(retained.holds(topic(i), payload(i)), topic(i)); // each of the three filters
            }
        } finally {
            broker.close();
        }
    }

    @Test
    void aBrokerThatDropsPartOfTheReplayAndTheEchoIsAskedForTheEchoAgain() throws Exception {
        // mosquitto's default queue per client (1,000 beyond 20 in flight): the replay of one filter
        // overflows it, and the echo of the marker sent right after the SUBACK is dropped with it
        int n = 5_000;
        try (MosquittoBroker broker = MosquittoBroker.start("allow_anonymous true\n", Map.of())) {
            RetainedFill.publish(broker.url(), n, i -> "rb/z" + i + ".example/state", i -> "{\"n\":" + i + "}");
            RetainedCopy retained = ReadBackSession.readBack(broker.url(), "rb", "rb-link",
                    link -> link.readBackIdle(3_000), Duration.ofSeconds(30));
            // what came is kept (the reconcile publishes the rest again), not thrown away after the idle bound
            assertTrue(retained.size() >= 1000 && retained.size() < n, retained.size() + " topics read back");
        }
    }

    @Test
    void aBrokerThatSendsNothingBackEndsTheReadBackAfterTheIdleBound() throws Exception {
        // the bridge's account may publish its state but read nothing: no echo, no retained copy
        // (ACL lines before any "user" line are for anonymous clients)
        try (MosquittoBroker broker = MosquittoBroker.start("allow_anonymous true\nacl_file ${dir}/acl\n",
                Map.of("acl", "topic write rb/#\n"))) {
            assertEquals(0, ReadBackSession.readBack(broker.url(), "rb", "rb-link",
                    link -> link.readBackIdle(IDLE_MS), Duration.ofSeconds(30)).size(), "nothing read back");
        }
    }

    private static String topic(int i) {
        return "rb/z" + i / 3 + ".example/" + switch (i % 3) {
            case 0 -> "keys/" + (10_000 + i / 3 % 50_000) + "-13";
            case 1 -> "state";
            default -> "servers/127.0.0.1:5300";
        };
    }

    private static String payload(int i) {
        return "{\"zone\":\"z" + i / 3 + ".example\",\"n\":" + i + ",\"first_seen\":\"2026-11-22T06:30:00Z\"}";
    }

    private static void fill(String url, int n) throws Exception {
        RetainedFill.publish(url, n, MqttLinkReadBackIT::topic, MqttLinkReadBackIT::payload);
    }
}
