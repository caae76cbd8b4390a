package org.dnssec2mqtt.mqtt;

import java.util.function.BiConsumer;

/**
 * An outbox that is always connected (one session) and keeps nothing itself: each retained
 * message goes to {@code retained}, each event to {@code sent}. What stays in memory is then what
 * the publisher keeps (benchmarks, the publisher's memory test).
 */
public final class ConnectedOutbox implements Outbox {
    private final BiConsumer<String, String> retained;
    private final BiConsumer<String, String> sent;

    public ConnectedOutbox(BiConsumer<String, String> retained, BiConsumer<String, String> sent) {
        this.retained = retained;
        this.sent = sent;
    }

    @Override
    public void retain(String topic, String payload) {
        retained.accept(topic, payload);
    }

    @Override
    public void send(String topic, String payload) {
        sent.accept(topic, payload);
    }

    @Override
    public long session() {
        return 1;
    }

    @Override
    public boolean isConnected() {
        return true;
    }
}
