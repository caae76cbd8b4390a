package org.dnssec2mqtt;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import org.dnssec2mqtt.cluster.Membership;
import org.dnssec2mqtt.cluster.Replica;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.MqttPublisher;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this bridge does as a cluster node when its role changes. Standing by, its MQTT link to
 * the bridge's topics stays down (it publishes nothing, answers no commands) and the active
 * node's replicas become its own state. Taking over, the publisher keeps what the broker holds
 * until each zone's check, the link connects (reading back the retained topics, publishing
 * {@code online}), and every zone gets a full check.
 */
final class ClusterRole implements Membership.Listener {
    private static final Logger log = LoggerFactory.getLogger(ClusterRole.class);

    private final Bridge bridge;
    private final MqttPublisher publisher;
    private final MqttLink link;
    private final Runnable nodesChanged;
    private final Consumer<Boolean> roleChanged;
    private boolean warnedUnreadable;

    /**
     * @param nodesChanged called when the set of nodes changed (Home Assistant's availability lists them)
     * @param roleChanged told {@code true} when this node becomes active, {@code false} when it stands by (the metric)
     */
    ClusterRole(Bridge bridge, MqttPublisher publisher, MqttLink link, Runnable nodesChanged,
            Consumer<Boolean> roleChanged) {
        this.bridge = bridge;
        this.publisher = publisher;
        this.link = link;
        this.nodesChanged = nodesChanged;
        this.roleChanged = roleChanged;
    }

    @Override
    public void becomeActive() {
        roleChanged.accept(true);
        publisher.takeover(bridge.states());
        bridge.activate();
        try {
            link.start();
        } catch (IOException e) {
            log.error("cluster: cannot connect to the broker as the active node: {}", e.getMessage());
        }
    }

    @Override
    public void becomeStandby() {
        roleChanged.accept(false);
        bridge.standby();
        link.pause();
    }

    @Override
    public void replica(String zoneLevel, String payload) {
        if (payload.isEmpty()) {
            bridge.follow(zoneLevel, null);
            return;
        }
        ZoneState s = Replica.decode(payload);
        if (s == null) {
            if (!warnedUnreadable) {
                warnedUnreadable = true;
                log.warn("cluster: the active node's state of zone level {} cannot be read by this version ({});"
                        + " run the same version on every node", zoneLevel, Main.VERSION);
            }
            return;
        }
        bridge.follow(zoneLevel, s);
    }

    @Override
    public void bridgeStateElsewhere() {
        link.republishOnline(); // a dead node's will, or a node's that stood by again, arrived after this node took over
    }

    @Override
    public void nodesChanged(List<String> nodes) {
        nodesChanged.run();
    }
}
