package org.dnssec2mqtt.support;

import java.util.List;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.RetainedCopy;
import org.dnssec2mqtt.mqtt.Topics;

/** A link session that only reads back: its filters, and the retained copy of the first reconcile. */
public final class ReadBackSession {
    private ReadBackSession() {}

    /**
     * Starts a link to {@code url} under topic prefix {@code prefix}, waits up to {@code timeout}
     * for what its first reconcile is handed (the broker's retained copy of the zones' topics), and
     * closes the link.
     *
     * @param configure what to set on the link before it starts (its read-back bound, say)
     */
    public static RetainedCopy readBack(String url, String prefix, String clientId,
            java.util.function.Consumer<MqttLink> configure, Duration timeout) throws Exception {
        Topics topics = new Topics(prefix);
        MqttLink link = new MqttLink(new MqttLink.Settings(url, clientId, null, null, null, 30), topics);
        configure.accept(link);
        CompletableFuture<RetainedCopy> got = new CompletableFuture<>();
        link.attach(of(topics, got));
        link.start();
        try {
            return got.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            link.close();
        }
    }

    /** Completes {@code got} with what the link's first reconcile is handed; requests are ignored. */
    public static MqttLink.Session of(Topics topics, CompletableFuture<RetainedCopy> got) {
        return new MqttLink.Session() {
            @Override
            public List<String> ownFilters() {
                return topics.zoneFilters();
            }

            @Override
            public RetainedCopy newCopy() {
                return new RetainedCopy(topics::zoneLevelOf, topics::isKey);
            }

            @Override
            public void reconcile(RetainedCopy retained) {
                got.complete(retained);
            }

            @Override
            public void request(String topic, byte[] payload) {}
        };
    }
}
