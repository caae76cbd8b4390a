package org.dnssec2mqtt.mqtt;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.dnssec2mqtt.cluster.Replica;
import org.dnssec2mqtt.flow.AdoptedKey;
import org.dnssec2mqtt.flow.Publisher;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes zones over the {@link MqttLink} (an {@link Outbox}). For every zone it keeps the retained topics it
 * believes the broker holds (topic → payload, exactly what was last sent, or what the broker
 * gave back at the latest connect), and sends only the difference to what the zone's state
 * renders to: a key topic goes out once per content change, a removed key's topic is cleared.
 * Home Assistant's discovery configs are some more retained topics of the zone, rendered by
 * {@link HomeAssistant} when discovery is on.
 *
 * <p>{@link #reconcile} runs after every connect with the broker's retained copy. Zones the
 * broker holds but the bridge has no state of are reported as {@link Found} (the bridge adopts
 * and re-checks them; they are never wiped); topics of zones that were forgotten, and stray
 * topics that belong to no zone, are cleared.
 */
public final class MqttPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(MqttPublisher.class);

    /** A zone the broker still holds that the bridge has no state of. */
    public record Found(String zone, String server, List<AdoptedKey> keys) {}

    /** One zone's retained topics: what the broker holds, and what should be there. Guarded by itself. */
    private static final class View {
        /** topic → payload on the broker (as far as we know), for {@link #epoch}'s session. */
        Map<String, String> published = Map.of();
        /** topic → payload the zone's state renders to; null while unknown (found, not yet checked). */
        Map<String, String> desired;
        long epoch = -1;
        /**
         * What the latest render made of parts that rarely change, so the next check renders them
         * only when they did: discovery configs by their availability topics, key payloads by key.
         */
        List<String> haSources;
        Map<String, String> haConfigs;
        Map<KeyInfo, Rendered> keys = Map.of();
        /** The latest replica payload. */
        String replica;
    }

    /**
     * A key as the latest render wrote it: its payload, and where its JSON is in the view's
     * replica ({@code offset << 32 | length}; -1 when not there), kept as a place, not a copy.
     */
    private record Rendered(String payload, long inReplica) {}

    private final Topics topics;
    private final Outbox link;
    private final HomeAssistant homeAssistant; // null when discovery is off
    private final Map<String, View> views = new ConcurrentHashMap<>();
    /** Zones forgotten on request: their topics are cleared at a reconcile, never adopted. */
    private final Set<String> forgotten = ConcurrentHashMap.newKeySet();
    /** Reconcile (write) against publishes (read): they never interleave. */
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile long reconciled = -1;
    /** Cluster mode: every zone's whole state also goes to its replica topic, for the standby nodes. */
    private final boolean replicate;
    /**
     * Zones taken over from another cluster node and not checked since: the broker's copy is
     * newer than or equal to the state this node followed, so a reconcile keeps it until their check.
     */
    private final Set<String> awaitingCheck = ConcurrentHashMap.newKeySet();

    public MqttPublisher(Topics topics, Outbox link, HomeAssistant homeAssistant) {
        this(topics, link, homeAssistant, false);
    }

    /** @param replicate cluster mode: publish each zone's {@link Replica} too */
    public MqttPublisher(Topics topics, Outbox link, HomeAssistant homeAssistant, boolean replicate) {
        this.topics = topics;
        this.link = link;
        this.homeAssistant = homeAssistant;
        this.replicate = replicate;
    }

    /**
     * This cluster node takes over from another: until each zone's next check, the topics the
     * broker holds for it stay as they are (the dead node may have published more than this node
     * followed), so a key topic changes at most once, to what the check finds.
     */
    public void takeover(Collection<ZoneState> known) {
        for (ZoneState s : known) {
            awaitingCheck.add(s.zone());
        }
    }

    /** The filters whose retained messages {@link #reconcile} needs. */
    public List<String> ownFilters() {
        List<String> out = new ArrayList<>(topics.zoneFilters());
        if (homeAssistant != null) {
            out.add(homeAssistant.configFilter());
        }
        if (replicate) {
            out.add(topics.replicaFilter());
        }
        return out;
    }

    @Override
    public void publish(ZoneState state, List<Event> events) {
        lock.readLock().lock();
        try {
            for (Event e : events) {
                link.send(topics.events(e.zone()), Json.object(Payloads.event(e)));
            }
            forgotten.remove(state.zone());
            awaitingCheck.remove(state.zone());
            View v = views.computeIfAbsent(state.zone(), z -> fresh());
            synchronized (v) {
                v.desired = render(state, v);
                sync(v);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Sends an event that belongs to no check (e.g. a signer's signal). */
    public void event(Event e) {
        link.send(topics.events(e.zone()), Json.object(Payloads.event(e)));
    }

    @Override
    public void clear(String zone) {
        lock.readLock().lock();
        try {
            forgotten.add(zone);
            View v = views.remove(zone);
            // what we published, what the zone would render to, and its fixed topics even when neither is known
            Set<String> gone = new java.util.LinkedHashSet<>();
            if (v != null) {
                synchronized (v) {
                    gone.addAll(v.published.keySet());
                    if (v.desired != null) {
                        gone.addAll(v.desired.keySet());
                    }
                }
            }
            gone.add(topics.zoneState(zone));
            if (replicate) {
                gone.add(topics.replica(zone));
            }
            if (homeAssistant != null) {
                gone.addAll(homeAssistant.configTopics(zone));
            }
            for (String t : gone) {
                link.retain(t, "");
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * What the zones render to changed without a check (the cluster's nodes, which Home Assistant's
     * availability lists): each zone's topics are rendered again and what differs goes out. Zones
     * taken over and not checked yet wait for their check.
     */
    public void rerender(Collection<ZoneState> states) {
        lock.readLock().lock();
        try {
            for (ZoneState s : states) {
                View v = views.get(s.zone());
                if (v == null || awaitingCheck.contains(s.zone())) {
                    continue;
                }
                synchronized (v) {
                    if (v.desired != null) {
                        v.desired = render(s, v);
                        sync(v);
                    }
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Home Assistant (re)started: every zone's discovery configs go out again. */
    public void rediscover() {
        if (homeAssistant == null) {
            return;
        }
        lock.readLock().lock();
        try {
            for (View v : views.values()) {
                synchronized (v) {
                    Map<String, String> p = new HashMap<>(v.published);
                    p.keySet().removeIf(t -> homeAssistant.objectIdOf(t) != null);
                    v.published = p;
                    sync(v);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * After a connect: {@code retained} is what the broker holds under {@link #ownFilters},
     * {@code known} the states of every zone the bridge knows. Publishes what differs, clears what
     * belongs to no zone, and returns the zones the broker holds that the bridge does not know.
     */
    public List<Found> reconcile(Map<String, String> retained, Collection<ZoneState> known) {
        lock.writeLock().lock();
        try {
            long session = link.session();
            Map<String, Map<String, String>> groups = group(retained);
            int sent = 0;
            for (ZoneState s : known) {
                View v = views.computeIfAbsent(s.zone(), z -> new View());
                synchronized (v) {
                    v.published = take(groups, s.zone());
                    if (awaitingCheck.contains(s.zone())) {
                        v.desired = null; // taken over: the zone's check decides
                    } else if (v.desired == null) {
                        v.desired = render(s, v);
                    }
                    v.epoch = session;
                    sent += sync(v);
                }
            }
            List<Found> found = new ArrayList<>();
            int cleared = 0;
            List<String> owners = new ArrayList<>(groups.keySet());
            owners.sort((a, b) -> Boolean.compare(a.startsWith("ha:"), b.startsWith("ha:"))); // zones first
            for (String owner : owners) {
                Map<String, String> group = groups.remove(owner);
                if (group == null) {
                    continue; // taken with its zone
                }
                Found f = owner.startsWith("ha:") ? null : found(owner, group);
                if (f != null && !forgotten.contains(f.zone()) && !views.containsKey(f.zone())) {
                    Map<String, String> all = new HashMap<>(group);
                    all.putAll(take(groups, "ha:" + haId(f.zone())));
                    View v = new View();
                    v.published = all;
                    v.epoch = session;
                    views.put(f.zone(), v);
                    found.add(f);
                    continue;
                }
                for (String t : group.keySet()) {
                    log.info("mqtt: clearing retained topic {}: it belongs to no zone the bridge knows", t);
                    link.retain(t, "");
                    cleared++;
                }
            }
            reconciled = session;
            log.info("mqtt: reconciled {} zones with the broker's retained copy: {} topics published, {} stray topics"
                    + " cleared, {} zones found to adopt", known.size(), sent, cleared, found.size());
            return found;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A view for a zone first published after the latest reconcile: the broker held nothing of it. */
    private View fresh() {
        View v = new View();
        v.epoch = reconciled;
        return v;
    }

    /** Sends what differs between desired and published (caller holds the view); returns how many. */
    private int sync(View v) {
        if (v.desired == null || v.epoch != link.session() || !link.isConnected()) {
            return 0; // the next reconcile covers it
        }
        int n = 0;
        for (Map.Entry<String, String> e : v.desired.entrySet()) {
            if (!e.getValue().equals(v.published.get(e.getKey()))) {
                link.retain(e.getKey(), e.getValue());
                n++;
            }
        }
        for (String t : v.published.keySet()) {
            if (!v.desired.containsKey(t)) {
                link.retain(t, "");
                n++;
            }
        }
        v.published = v.desired;
        return n;
    }

    /**
     * The zone's retained topics, in the order they go out: dashboards' configs, keys, servers, state.
     * Parts that did not change since {@code v}'s latest render are taken from it (caller holds {@code v}).
     */
    private Map<String, String> render(ZoneState s, View v) {
        Map<String, String> out = new LinkedHashMap<>();
        if (homeAssistant != null) {
            List<String> sources = homeAssistant.availabilityTopics();
            if (v.haConfigs == null || !sources.equals(v.haSources)) {
                v.haConfigs = homeAssistant.configs(s.zone(), sources);
                v.haSources = sources;
            }
            out.putAll(v.haConfigs);
        }
        // by instance within this render; a record's equality (all fields) only against the latest one
        Map<KeyInfo, Rendered> before = new java.util.IdentityHashMap<>();
        Map<KeyInfo, String> payloads = new java.util.IdentityHashMap<>();
        for (KeyInfo k : s.keys()) {
            Rendered r = v.keys.get(k); // equal fields render to equal payloads
            String payload = r != null ? r.payload() : Json.object(Payloads.key(k));
            if (r != null) {
                before.put(k, r);
            }
            payloads.put(k, payload);
            out.put(topics.key(s.zone(), k.topicId()), payload);
        }
        Map<KeyInfo, Long> places = Map.of();
        for (ServerState sv : s.servers()) {
            out.put(topics.server(s.zone(), sv.server()), Json.object(Payloads.server(s.zone(), sv)));
        }
        out.put(topics.zoneState(s.zone()), Json.object(Payloads.zoneState(s)));
        if (replicate) {
            // last: a standby follows what was published
            places = replica(s, v, before);
            out.put(topics.replica(s.zone()), v.replica);
        }
        Map<KeyInfo, Rendered> keys = new HashMap<>();
        for (KeyInfo k : s.keys()) {
            Long at = places.get(k);
            keys.put(k, new Rendered(payloads.get(k), at == null ? -1 : at));
        }
        v.keys = keys;
        return out;
    }

    /**
     * The zone's replica, taking the JSON of keys that did not change from the latest one: kept as
     * places in that payload (which the view holds anyway), not as copies.
     */
    private static Map<KeyInfo, Long> replica(ZoneState s, View v, Map<KeyInfo, Rendered> before) {
        Map<KeyInfo, String> memo = new java.util.IdentityHashMap<>();
        for (Map.Entry<KeyInfo, Rendered> e : before.entrySet()) {
            long at = e.getValue().inReplica();
            if (at >= 0 && v.replica != null) {
                int start = (int) (at >>> 32);
                memo.put(e.getKey(), v.replica.substring(start, start + (int) at));
            }
        }
        String replica = Replica.encode(s, memo);
        Map<KeyInfo, Long> places = new java.util.IdentityHashMap<>();
        // the keys array follows the state's string fields, where a quote is always escaped
        int at = replica.indexOf(",\"keys\":[") + 9;
        for (KeyInfo k : s.keys()) {
            String json = memo.get(k);
            if (at < 9 || json == null || !replica.startsWith(json, at)) {
                places = Map.of(); // not where expected: nothing to take next time
                break;
            }
            places.put(k, (long) at << 32 | json.length());
            at += json.length() + 1;
        }
        v.replica = replica;
        return places;
    }

    /** Retained topics by owner: a zone level ({@link Topics#zoneLevelOf}) or {@code ha:<object id>}. */
    private Map<String, Map<String, String>> group(Map<String, String> retained) {
        Map<String, Map<String, String>> groups = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : retained.entrySet()) {
            String level = topics.zoneLevelOf(e.getKey());
            String key = level;
            if (level == null && homeAssistant != null) {
                String id = homeAssistant.objectIdOf(e.getKey());
                key = id == null ? null : "ha:" + id;
            }
            if (key != null) {
                groups.computeIfAbsent(key, k -> new HashMap<>()).put(e.getKey(), e.getValue());
            }
        }
        return groups;
    }

    /** Removes and returns the zone's retained topics (its zone level and its discovery configs). */
    private Map<String, String> take(Map<String, Map<String, String>> groups, String zone) {
        Map<String, String> out = new HashMap<>();
        Map<String, String> own = groups.remove(zone.startsWith("ha:") ? zone : Topics.escape(zone));
        if (own != null) {
            out.putAll(own);
        }
        if (!zone.startsWith("ha:") && homeAssistant != null) {
            Map<String, String> ha = groups.remove("ha:" + haId(zone));
            if (ha != null) {
                out.putAll(ha);
            }
        }
        return out;
    }

    private static String haId(String zone) {
        try {
            return HomeAssistant.objectId(zone);
        } catch (IllegalArgumentException e) {
            return zone;
        }
    }

    /** The zone a group of retained zone topics belongs to, from its payloads; null when it holds no state or key. */
    private Found found(String level, Map<String, String> group) {
        String zone = null;
        String server = null;
        List<AdoptedKey> keys = new ArrayList<>();
        for (Map.Entry<String, String> e : group.entrySet()) {
            JsonObject o = parse(e.getValue());
            if (o == null) {
                continue;
            }
            boolean state = e.getKey().endsWith("/state");
            boolean key = topics.isKey(e.getKey());
            if (!state && !key) {
                continue;
            }
            if (o.has("zone") && o.get("zone").isJsonPrimitive()) {
                String z = o.get("zone").getAsString();
                if (Topics.escape(z).equals(level)) {
                    zone = z;
                }
            }
            if (state && o.has("server") && o.get("server").isJsonPrimitive()) {
                server = o.get("server").getAsString();
            }
            if (key) {
                try {
                    keys.add(new AdoptedKey(o.get("keytag").getAsInt(), o.get("algorithm").getAsInt(),
                            Instant.parse(o.get("first_seen").getAsString())));
                } catch (RuntimeException ex) {
                    // not a key payload of ours: nothing to carry over
                }
            }
        }
        return zone == null ? null : new Found(zone, server, keys);
    }

    private static JsonObject parse(String payload) {
        try {
            JsonElement e = JsonParser.parseString(payload);
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
