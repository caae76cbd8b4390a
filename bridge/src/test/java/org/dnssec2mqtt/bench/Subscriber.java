package org.dnssec2mqtt.bench;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * The separate subscriber whose view the figures are: it subscribes to {@code <prefix>/#} for
 * each prefix at QoS 1 and stamps every message with {@link System#nanoTime()} in Paho's callback
 * (so the bench's own wake-up delay is not counted; the latency figures use {@link KeyStamps},
 * which stamps on the socket's reader thread). Keys are {@code prefix/zone}.
 */
final class Subscriber implements AutoCloseable {
    private final MqttClient client;
    /** first non-empty key message per prefix/zone */
    private final Map<String, CompletableFuture<Long>> firstKey = new ConcurrentHashMap<>();
    /** first event per prefix/zone */
    private final Map<String, CompletableFuture<Long>> firstEvent = new ConcurrentHashMap<>();
    /** messages per topic */
    private final Map<String, AtomicInteger> perTopic = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Long>> online = new ConcurrentHashMap<>();
    /** responses on {@code <prefix>/_bridge/response/#} by the transaction they carry */
    private final Map<String, CompletableFuture<String>> responses = new ConcurrentHashMap<>();
    final AtomicLong messages = new AtomicLong();
    final AtomicLong stateMessages = new AtomicLong();
    volatile long lastMessageNanos;

    Subscriber(String url, String... prefixes) throws MqttException {
        client = new MqttClient(url, "bench-" + UUID.randomUUID(), new MemoryPersistence());
        client.setTimeToWait(10_000);
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                System.err.println("bench: subscriber lost its connection: " + cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                onMessage(topic, message.getPayload(), System.nanoTime());
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {}
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setConnectionTimeout(5);
        o.setKeepAliveInterval(60);
        o.setMaxInflight(1000);
        client.connect(o);
        String[] filters = new String[prefixes.length];
        int[] qos = new int[prefixes.length];
        for (int i = 0; i < prefixes.length; i++) {
            filters[i] = prefixes[i] + "/#";
            qos[i] = 1;
        }
        client.subscribe(filters, qos);
    }

    private void onMessage(String topic, byte[] payload, long nanos) {
        messages.incrementAndGet();
        lastMessageNanos = nanos;
        perTopic.computeIfAbsent(topic, t -> new AtomicInteger()).incrementAndGet();
        String[] parts = topic.split("/", 4);
        if (parts.length < 3) {
            return;
        }
        String key = parts[0] + "/" + parts[1];
        if (parts[1].equals("_bridge") && parts[2].equals("response")) {
            String text = new String(payload, StandardCharsets.UTF_8);
            responses.forEach((transaction, f) -> {
                if (text.contains("\"" + transaction + "\"")) {
                    f.complete(text);
                }
            });
        } else if (parts[1].equals("_bridge") && parts[2].equals("state")) {
            if (new String(payload, StandardCharsets.UTF_8).contains("\"online\"")) {
                onlineFuture(parts[0]).complete(nanos);
            }
        } else if (parts[2].equals("keys") && payload.length > 0) {
            keyFuture(key).complete(nanos);
        } else if (parts[2].equals("events")) {
            eventFuture(key).complete(nanos);
        } else if (parts[2].equals("state")) {
            stateMessages.incrementAndGet();
        }
    }

    CompletableFuture<Long> keyFuture(String prefixZone) {
        return firstKey.computeIfAbsent(prefixZone, k -> new CompletableFuture<>());
    }

    CompletableFuture<Long> eventFuture(String prefixZone) {
        return firstEvent.computeIfAbsent(prefixZone, k -> new CompletableFuture<>());
    }

    CompletableFuture<Long> onlineFuture(String prefix) {
        return online.computeIfAbsent(prefix, k -> new CompletableFuture<>());
    }

    /** Publishes a request (QoS 1); the returned future completes with the response carrying {@code transaction}. */
    CompletableFuture<String> request(String topic, String payload, String transaction) throws MqttException {
        CompletableFuture<String> f = responses.computeIfAbsent(transaction, k -> new CompletableFuture<>());
        client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
        return f;
    }

    /** Forgets the online message seen so far (before a restart). */
    void resetOnline(String prefix) {
        online.remove(prefix);
    }

    /** Messages received so far on topics starting with {@code topicPrefix}. */
    int count(String topicPrefix) {
        int n = 0;
        for (Map.Entry<String, AtomicInteger> e : perTopic.entrySet()) {
            if (e.getKey().startsWith(topicPrefix)) {
                n += e.getValue().get();
            }
        }
        return n;
    }

    /** Messages received so far on exactly {@code topic}. */
    int countTopic(String topic) {
        AtomicInteger n = perTopic.get(topic);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnect(2_000);
            }
        } catch (MqttException e) {
            // closing anyway
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            // Paho threads are going
        }
    }
}
