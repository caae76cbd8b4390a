package org.dnssec2mqtt.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.ReadBackSession;
import org.dnssec2mqtt.support.RetainedFill;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The queue limit of broker-config/mosquitto.conf lets the bridge read back every retained topic
 * after a connect: mosquitto queues a subscription's retained messages at once and drops what
 * exceeds {@code max_queued_messages} (default 1,000: 1,020 of 26,000 topics came back, and the
 * reconcile published the other 24,980 again).
 */
@Timeout(120)
class QueueLimitIT {
    private static final int TOPICS = 5_000;

    @Test
    void theShippedQueueLimitLetsTheBridgeReadBackEveryRetainedTopic() throws Exception {
        String limit = Files.readAllLines(BrokerConfigIT.brokerConfig().resolve("mosquitto.conf"), StandardCharsets.UTF_8)
                .stream().filter(l -> l.startsWith("max_queued_messages ")).findFirst().orElse("");
        try (MosquittoBroker broker = MosquittoBroker.start("allow_anonymous true\n" + limit + "\n", Map.of())) {
            RetainedFill.publish(broker.url(), TOPICS, i -> "q/z" + i + ".example/state", i -> "{\"n\":" + i + "}");
            assertEquals(TOPICS, ReadBackSession.readBack(broker.url(), "q", "q-link", link -> { },
                    Duration.ofSeconds(60)).size(),
                    "retained topics read back with '" + limit + "' (broker-config/mosquitto.conf)");
        }
    }
}
