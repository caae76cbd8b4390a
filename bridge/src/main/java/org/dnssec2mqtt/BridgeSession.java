package org.dnssec2mqtt;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.dnssec2mqtt.mqtt.HomeAssistant;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.MqttPublisher;
import org.dnssec2mqtt.mqtt.Topics;

/**
 * The bridge's side of the MQTT session: after each connect the retained topics are reconciled
 * (zones the broker holds that the bridge does not know are adopted), requests go to
 * {@link Commands}, Home Assistant's birth message asks for discovery again.
 */
final class BridgeSession implements MqttLink.Session {
    private final Bridge bridge;
    private final MqttPublisher publisher;
    private final Commands commands;
    private final Topics topics;
    private final HomeAssistant homeAssistant; // null when discovery is off
    /** The zone states of the data directory, loading while the first connect reads back. */
    private final CompletableFuture<?> restored;

    /** @param restored completes once the saved zone states are in {@code bridge}'s registry */
    BridgeSession(Bridge bridge, MqttPublisher publisher, Commands commands, Topics topics, HomeAssistant homeAssistant,
            CompletableFuture<?> restored) {
        this.restored = restored;
        this.bridge = bridge;
        this.publisher = publisher;
        this.commands = commands;
        this.topics = topics;
        this.homeAssistant = homeAssistant;
    }

    /**
     * Waits for the saved states: the broker's copy of a zone not restored yet would look like a
     * zone to adopt, and a request must see every known zone.
     */
    private boolean statesLoaded() {
        try {
            restored.join();
            return true;
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            return false; // the start fails and says why
        }
    }

    @Override
    public List<String> ownFilters() {
        return publisher.ownFilters();
    }

    @Override
    public org.dnssec2mqtt.mqtt.RetainedCopy newCopy() {
        return publisher.newCopy();
    }

    @Override
    public void reconcile(org.dnssec2mqtt.mqtt.RetainedCopy retained) {
        if (!statesLoaded()) {
            return;
        }
        for (MqttPublisher.Found f : publisher.reconcile(retained, bridge.states())) {
            bridge.adopt(f);
        }
    }

    @Override
    public void request(String topic, byte[] payload) {
        if (!statesLoaded()) {
            return;
        }
        if (homeAssistant != null && homeAssistant.isBirth(topic, payload)) { // Home Assistant (re)started
            publisher.rediscover();
            return;
        }
        String command = topics.commandOf(topic);
        if (command != null) {
            commands.handle(command, payload);
        }
    }
}
