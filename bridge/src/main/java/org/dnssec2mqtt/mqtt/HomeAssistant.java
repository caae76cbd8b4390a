package org.dnssec2mqtt.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.zone.Zones;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/**
 * Home Assistant MQTT discovery: one device per zone ("DNSSEC example.com") with five entities
 * that all read the zone's retained state topic, so nothing beyond the discovery configs is
 * published. Building topics and JSON is pure ({@link #configs}); the publisher keeps them among
 * the zone's retained topics, so they go out once and again only when they change.
 *
 * <p>Discovery topics are {@code <prefix>/<component>/dnssec2mqtt/<zone id>_<entity>/config}
 * (the discovery format {@code <discovery_prefix>/<component>/[<node_id>/]<object_id>/config}).
 * The zone id is {@link #objectId}: {@code example.com} → {@code example_com}, the root →
 * {@code root}.
 */
public final class HomeAssistant {
    /** The discovery node id: one per bridge, whatever the zones. */
    public static final String NODE_ID = "dnssec2mqtt";

    /** The entities of one zone: component, entity suffix, and the config fields of its own. */
    private record Entity(String component, String suffix, Map<String, Object> fields) {}

    private static final List<Entity> ENTITIES = List.of(
            // value_json['keys'], not value_json.keys: Jinja would find the dict's keys() method
            new Entity("sensor", "keys", fields(
                    "name", "Keys",
                    "value_template", "{{ value_json['keys'] }}",
                    "state_class", "measurement",
                    "entity_category", "diagnostic",
                    "icon", "mdi:key-chain")),
            new Entity("sensor", "ksk_keytags", fields(
                    "name", "KSK key tags",
                    "value_template", "{{ ((value_json.ksk_keytags + value_json.csk_keytags) | join(', ')) or 'none' }}",
                    "icon", "mdi:key")),
            // rrsig_days_left is absent before the first signed answer; "None" makes the sensor unknown
            new Entity("sensor", "rrsig_days_left", fields(
                    "name", "Signature days left",
                    "value_template", "{{ value_json.rrsig_days_left | default(None) }}",
                    "device_class", "duration",
                    "unit_of_measurement", "d",
                    "state_class", "measurement",
                    "icon", "mdi:calendar-clock")),
            new Entity("sensor", "changed_at", fields(
                    "name", "Key set changed",
                    "value_template", "{{ value_json.changed_at }}",
                    "device_class", "timestamp")),
            new Entity("binary_sensor", "problem", fields(
                    "name", "Problem",
                    "value_template", "{{ 'OFF' if value_json.status == 'ok' else 'ON' }}",
                    "payload_on", "ON",
                    "payload_off", "OFF",
                    "device_class", "problem",
                    "json_attributes_topic", null))); // filled in: the state topic, so `problem` shows

    private final String prefix;
    private final Topics topics;
    private final String version;
    /** Null unless cluster mode: the node names, whose topics make entities available. */
    private final java.util.function.Supplier<List<String>> clusterNodes;

    /**
     * @param prefix the discovery prefix ({@code homeassistant.prefix})
     * @param topics the bridge's topics: the state topics and availability live there
     * @param version the bridge version, shown as the device's software version
     */
    public HomeAssistant(String prefix, Topics topics, String version) {
        this(prefix, topics, version, null);
    }

    /**
     * @param clusterNodes cluster mode: the node names seen on the broker; entities are available
     *     while any of their node topics says {@code online}, so they stay available through a
     *     takeover. Null: a single bridge, available while {@code <prefix>/_bridge/state} is online.
     */
    public HomeAssistant(String prefix, Topics topics, String version,
                         java.util.function.Supplier<List<String>> clusterNodes) {
        this.prefix = prefix;
        this.topics = topics;
        this.version = version;
        this.clusterNodes = clusterNodes;
    }

    private static List<Map<String, Object>> availability(List<String> sources) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (String t : sources) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("topic", t);
            a.put("value_template", "{{ value_json.state }}");
            a.put("payload_available", "online");
            a.put("payload_not_available", "offline");
            out.add(a);
        }
        return out;
    }

    /** {@code <prefix>/status}: Home Assistant's birth ({@code online}) and last will. */
    public String statusTopic() {
        return Topics.homeAssistantStatus(prefix);
    }

    /** True for Home Assistant's birth message: it (re)started and wants discovery again. */
    public boolean isBirth(String topic, byte[] payload) {
        return topic.equals(statusTopic()) && new String(payload, StandardCharsets.UTF_8).trim().equals("online");
    }

    /**
     * The zone's discovery configs, topic → JSON, in a fixed order. {@code zone} is the payload form
     * ({@code example.com}, root {@code .}).
     */
    public Map<String, String> configs(String zone) {
        return configs(zone, availabilityTopics());
    }

    /**
     * The topics whose {@code online} makes the entities available; {@link #configs(String, List)}
     * renders the same configs for the same zone and topics, so a caller may keep them.
     */
    List<String> availabilityTopics() {
        return clusterNodes == null ? List.of(topics.bridgeState())
                : clusterNodes.get().stream().map(topics::node).toList();
    }

    /** {@link #configs(String)} with the {@link #availabilityTopics} given. */
    Map<String, String> configs(String zone, List<String> sources) {
        String id = objectId(zone);
        List<Map<String, Object>> availability = availability(sources);
        Map<String, Object> device = new LinkedHashMap<>();
        device.put("identifiers", List.of(NODE_ID + "_" + id));
        device.put("name", "DNSSEC " + zone);
        device.put("manufacturer", NODE_ID);
        device.put("model", NODE_ID);
        device.put("sw_version", version);
        String state = topics.zoneState(zone);
        Map<String, String> out = new LinkedHashMap<>();
        for (Entity e : ENTITIES) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", e.fields().get("name"));
            c.put("unique_id", NODE_ID + "_" + id + "_" + e.suffix());
            c.put("state_topic", state);
            for (Map.Entry<String, Object> f : e.fields().entrySet()) {
                if (!f.getKey().equals("name")) {
                    c.put(f.getKey(), f.getKey().equals("json_attributes_topic") ? state : f.getValue());
                }
            }
            c.put("availability", availability);
            if (clusterNodes != null) {
                c.put("availability_mode", "any");
            }
            c.put("device", device);
            out.put(topic(e, id), Json.object(c));
        }
        return out;
    }

    /** Subscription filter of every discovery config the bridge publishes (read back on connect). */
    public String configFilter() {
        return Topics.homeAssistantConfigFilter(prefix, NODE_ID);
    }

    /** The zone id ({@link #objectId}) of one of our discovery config topics; null for any other topic. */
    public String objectIdOf(String topic) {
        String[] parts = Topics.homeAssistantConfigParts(prefix, topic);
        if (parts == null || !parts[1].equals(NODE_ID)) {
            return null;
        }
        for (Entity e : ENTITIES) {
            if (parts[0].equals(e.component()) && parts[2].endsWith("_" + e.suffix())) {
                return parts[2].substring(0, parts[2].length() - e.suffix().length() - 1);
            }
        }
        return null;
    }

    /** Every discovery topic of the zone. */
    public List<String> configTopics(String zone) {
        String id = objectId(zone);
        return ENTITIES.stream().map(e -> topic(e, id)).toList();
    }

    private String topic(Entity e, String id) {
        return Topics.homeAssistantConfig(prefix, e.component(), NODE_ID, id + "_" + e.suffix());
    }

    /**
     * The zone's part of the object id, {@code [a-z0-9_]} only and distinct for distinct zones.
     * Labels (lower case, as on the wire) are joined with {@code _}; inside a label {@code a-z} and
     * {@code 0-9} stay and every other byte becomes {@code __} and two hex digits ({@code -} →
     * {@code __2d}, {@code _} → {@code __5f}, {@code /} → {@code __2f}). Labels are never empty, so
     * a run of one {@code _} is a label break, two start an escape, three are both: the id reads
     * back to exactly one zone. The root is {@code root}; a zone literally named {@code root} is
     * {@code __72oot} so the two cannot meet. So {@code 0/25.2.0.192.in-addr.arpa} is
     * {@code 0__2f25_2_0_192_in__2daddr_arpa}.
     */
    public static String objectId(String zone) {
        Name name;
        try {
            name = Zones.parse(zone);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("not a zone name: '" + zone + "'", e);
        }
        if (name.equals(Name.root)) {
            return "root";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < name.labels() - 1; i++) { // the last label is the root's empty one
            byte[] label = name.getLabel(i); // length byte, then the label's bytes
            if (i > 0) {
                sb.append('_');
            }
            for (int j = 1; j < label.length; j++) {
                int c = label[j] & 0xff;
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                    sb.append((char) c);
                } else {
                    sb.append("__").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
                }
            }
        }
        String id = sb.toString();
        return id.equals("root") ? "__72oot" : id;
    }

    private static Map<String, Object> fields(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
