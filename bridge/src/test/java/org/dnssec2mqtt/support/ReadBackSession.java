package org.dnssec2mqtt.support;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.dnssec2mqtt.mqtt.MqttLink;

/** A link session that only reads back: its filters, and the retained copy of the first reconcile. */
public final class ReadBackSession {
    private ReadBackSession() {}

    /** Completes {@code got} with what the link's first reconcile is handed; requests are ignored. */
    public static MqttLink.Session of(List<String> filters, CompletableFuture<Map<String, String>> got) {
        return new MqttLink.Session() {
            @Override
            public List<String> ownFilters() {
                return filters;
            }

            @Override
            public void reconcile(Map<String, String> retained) {
                got.complete(retained);
            }

            @Override
            public void request(String topic, byte[] payload) {}
        };
    }
}
