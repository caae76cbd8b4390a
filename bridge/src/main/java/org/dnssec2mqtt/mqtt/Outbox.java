package org.dnssec2mqtt.mqtt;

/** Where the publisher's messages go: the {@link MqttLink}, or a recorder in tests. */
public interface Outbox {
    /** Queues a retained message; an empty payload clears the topic. Dropped while not connected. */
    void retain(String topic, String payload);

    /** Queues a non-retained message (event, response). */
    void send(String topic, String payload);

    /** Counts connects: what was retained in an earlier session may not be on the broker now. */
    long session();

    boolean isConnected();
}
