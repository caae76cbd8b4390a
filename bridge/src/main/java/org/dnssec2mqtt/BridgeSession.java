package org.dnssec2mqtt;

import java.util.List;
import java.util.Map;
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

    BridgeSession(Bridge bridge, MqttPublisher publisher, Commands commands, Topics topics, HomeAssistant homeAssistant) {
        this.bridge = bridge;
        this.publisher = publisher;
        this.commands = commands;
        this.topics = topics;
        this.homeAssistant = homeAssistant;
    }

    @Override
    public List<String> ownFilters() {
        return publisher.ownFilters();
    }

    @Override
    public void reconcile(Map<String, String> retained) {
        for (MqttPublisher.Found f : publisher.reconcile(retained, bridge.states())) {
            bridge.adopt(f);
        }
    }

    @Override
    public void request(String topic, byte[] payload) {
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
