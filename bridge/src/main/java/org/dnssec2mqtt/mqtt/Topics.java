package org.dnssec2mqtt.mqtt;

/**
 * The only place topic strings are built. Every topic is {@code <prefix>/<zone>/...} or
 * {@code <prefix>/_bridge/...}; the README's topic table documents the same list.
 *
 * <p>Zone escaping: the zone's payload form (lower case, no trailing dot, root {@code .}) with
 * the characters MQTT gives meaning to inside a level percent-encoded: {@code %} → {@code %25},
 * {@code /} → {@code %2F}, {@code +} → {@code %2B}, {@code #} → {@code %23}, control characters
 * → {@code %XX}. So RFC 2317 zone {@code 0/25.2.0.192.in-addr.arpa} is
 * {@code 0%2F25.2.0.192.in-addr.arpa}. A zone literally named {@code _bridge} becomes
 * {@code %5Fbridge} so it can never collide with the bridge's own topics.
 */
public final class Topics {
    /** Level that holds the bridge's own topics. */
    public static final String BRIDGE = "_bridge";
    /** Command names under {@code _bridge/request/}. */
    public static final String RECHECK = "recheck";
    public static final String FORGET = "forget";
    /** Every command the bridge answers. */
    public static final java.util.List<String> COMMANDS = java.util.List.of(RECHECK, FORGET);

    private final String prefix;

    public Topics(String prefix) {
        this.prefix = prefix;
    }

    public String prefix() {
        return prefix;
    }

    /** {@code <prefix>/<zone>/keys/<topicId>}: one key, retained. */
    public String key(String zone, String topicId) {
        return prefix + "/" + escape(zone) + "/keys/" + topicId;
    }

    /** {@code <prefix>/<zone>/state}: the zone summary, retained. */
    public String zoneState(String zone) {
        return prefix + "/" + escape(zone) + "/state";
    }

    /** {@code <prefix>/<zone>/events}: change events, not retained. */
    public String events(String zone) {
        return prefix + "/" + escape(zone) + "/events";
    }

    /** {@code <prefix>/<zone>/servers/<host:port>}: one server's serial and keys, retained. */
    public String server(String zone, String server) {
        return prefix + "/" + escape(zone) + "/servers/" + escape(server);
    }

    /** {@code <prefix>/_bridge/state}: online/offline, retained, also the last will. */
    public String bridgeState() {
        return prefix + "/" + BRIDGE + "/state";
    }

    /** {@code <prefix>/_bridge/nodes/<node>}: one cluster node's role and liveness, retained, also its last will. */
    public String node(String node) {
        return prefix + "/" + BRIDGE + "/nodes/" + node;
    }

    /** Subscription filter of every node topic. */
    public String nodesFilter() {
        return prefix + "/" + BRIDGE + "/nodes/+";
    }

    /** The node name of a node topic; null for any other topic. */
    public String nodeOf(String topic) {
        String head = prefix + "/" + BRIDGE + "/nodes/";
        if (!topic.startsWith(head) || topic.length() == head.length() || topic.indexOf('/', head.length()) >= 0) {
            return null;
        }
        return topic.substring(head.length());
    }

    /**
     * {@code <prefix>/_bridge/replica/<zone>}: the active cluster node's whole state of the zone,
     * retained, which standby nodes follow (cluster mode only).
     */
    public String replica(String zone) {
        return prefix + "/" + BRIDGE + "/replica/" + escape(zone);
    }

    /** Subscription filter of every replica topic. */
    public String replicaFilter() {
        return prefix + "/" + BRIDGE + "/replica/+";
    }

    /** {@code <prefix>/_bridge/request/<command>}: what operators publish. */
    public String request(String command) {
        return prefix + "/" + BRIDGE + "/request/" + command;
    }

    /** Subscription filter for every request. */
    public String requestFilter() {
        return prefix + "/" + BRIDGE + "/request/+";
    }

    /** {@code <prefix>/_bridge/response/<command>}: the answer to a request. */
    public String response(String command) {
        return prefix + "/" + BRIDGE + "/response/" + command;
    }

    /** The command named by a request topic, or null when {@code topic} is not one. */
    public String commandOf(String topic) {
        String head = prefix + "/" + BRIDGE + "/request/";
        return topic.startsWith(head) ? topic.substring(head.length()) : null;
    }

    /** Filters of the bridge's own retained zone topics (keys, state, servers), read back on connect. */
    public java.util.List<String> zoneFilters() {
        return java.util.List.of(prefix + "/+/keys/#", prefix + "/+/state", prefix + "/+/servers/#");
    }

    /**
     * The escaped zone level of one of the bridge's retained zone topics ({@code <prefix>/<zone>/keys/...},
     * {@code .../state}, {@code .../servers/...}, and its {@link #replica}); null for any other topic, the
     * bridge's own included.
     */
    public String zoneLevelOf(String topic) {
        if (!topic.startsWith(prefix + "/")) {
            return null;
        }
        String replicaHead = prefix + "/" + BRIDGE + "/replica/";
        if (topic.startsWith(replicaHead)) {
            String level = topic.substring(replicaHead.length());
            return level.isEmpty() || level.contains("/") ? null : level; // a zone's replica belongs to the zone
        }
        String rest = topic.substring(prefix.length() + 1);
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        String level = rest.substring(0, slash);
        String tail = rest.substring(slash + 1);
        if (level.equals(BRIDGE) || !(tail.equals("state") || tail.startsWith("keys/") || tail.startsWith("servers/"))) {
            return null;
        }
        return level;
    }

    /** The zone level for a zone in payload form; see the class comment for the rule. */
    public static String escape(String zone) {
        if (zone.equals(BRIDGE)) {
            return "%5F" + BRIDGE.substring(1);
        }
        StringBuilder sb = null;
        for (int i = 0; i < zone.length(); i++) {
            char c = zone.charAt(i);
            boolean special = c == '%' || c == '/' || c == '+' || c == '#' || c < 0x20 || c == 0x7f;
            if (special && sb == null) {
                sb = new StringBuilder(zone.length() + 8).append(zone, 0, i);
            }
            if (sb != null) {
                if (special) {
                    sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? zone : sb.toString();
    }

    // ---- Home Assistant's discovery topics (under its own prefix, homeassistant.prefix) ----

    /** {@code <haPrefix>/status}: Home Assistant's birth ({@code online}) and last will. */
    public static String homeAssistantStatus(String haPrefix) {
        return haPrefix + "/status";
    }

    /** {@code <haPrefix>/<component>/<node id>/<object id>/config}: one entity's discovery config, retained. */
    public static String homeAssistantConfig(String haPrefix, String component, String nodeId, String objectId) {
        return haPrefix + "/" + component + "/" + nodeId + "/" + objectId + "/config";
    }

    /** Subscription filter of every discovery config of {@code nodeId}. */
    public static String homeAssistantConfigFilter(String haPrefix, String nodeId) {
        return haPrefix + "/+/" + nodeId + "/#";
    }

    /**
     * The parts {@code [component, node id, object id]} of a discovery config topic under
     * {@code haPrefix}; null for any other topic.
     */
    public static String[] homeAssistantConfigParts(String haPrefix, String topic) {
        String head = haPrefix + "/";
        if (!topic.startsWith(head) || !topic.endsWith("/config")) {
            return null;
        }
        String[] parts = topic.substring(head.length()).split("/");
        return parts.length == 4 ? new String[] {parts[0], parts[1], parts[2]} : null;
    }

    /** True for one of the bridge's own key topics. */
    public boolean isKey(String topic) {
        String level = zoneLevelOf(topic);
        return level != null && topic.startsWith(prefix + "/" + level + "/keys/");
    }
}
