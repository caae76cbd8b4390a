package org.dnssec2mqtt.mqtt;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
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
 * believes the broker holds (each topic with a digest of its payload: what was last sent, or what
 * the broker gave back at the latest connect), and sends only the difference to what the zone's
 * state renders to: a key topic goes out once per content change, a removed key's topic is cleared.
 * The payloads themselves are not kept: with 100,000 zones they were most of the bridge's heap
 * (see {@link Sent}).
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
        /** The topics on the broker (as far as we know), for {@link #epoch}'s session. */
        Sent published = Sent.NONE;
        /** The state the zone's topics should render from; null while unknown (found, not yet checked). */
        ZoneState desired;
        long epoch = -1;
        /**
         * What the latest render made of parts that rarely change, so the next check renders them
         * only when they did: discovery configs by their availability topics, key payloads by key.
         */
        List<String> haSources;
        Sent haConfigs;
        /** The keys of the latest render, and for each its {@link Rendered} as three longs (a map was ~270 bytes a zone). */
        KeyInfo[] keys = new KeyInfo[0];
        long[] rendered = new long[0];

        /** How the latest render wrote a key equal to {@code k}; null when it had none. */
        Rendered rendered(KeyInfo k) {
            for (int i = 0; i < keys.length; i++) {
                if (keys[i].equals(k)) {
                    return new Rendered(rendered[3 * i], rendered[3 * i + 1], rendered[3 * i + 2]);
                }
            }
            return null;
        }
        /** The latest replica payload (cluster mode: the next one takes unchanged keys' JSON from it). */
        String replica;
    }

    /**
     * A key as the latest render wrote it: its payload's digest, and where its JSON is in the view's
     * replica ({@code offset << 32 | length}; -1 when not there), kept as a place, not a copy.
     */
    private record Rendered(long high, long low, long inReplica) {}

    /**
     * One topic of a render: its payload's digest, and the payload, made only when it goes out
     * (an unchanged key's or discovery config's payload is not rendered again).
     */
    private record Out(String topic, long high, long low, java.util.function.Supplier<String> payload) {
        static Out of(String topic, String payload) {
            long[] d = Sent.digest(payload);
            return new Out(topic, d[0], d[1], () -> payload);
        }
    }

    /**
     * Retained topics with a digest of each payload, in place of the payloads: what a view
     * remembers of what the broker holds. After a sync the topics are those the zone's state
     * renders to, so they are not kept either: {@code from} (the state, which the registry holds
     * anyway) gives them again; only topics named otherwise (discovery configs, whatever the broker
     * gave back at a connect) are kept as strings. Per zone of 2 keys and 1 server this is ~150
     * bytes instead of ~2.6 KB of payloads and topics.
     *
     * <p>The digest is the first 128 bits of the payload's SHA-256. Two different payloads of one
     * topic with the same digest would leave the older on the broker; for that to happen by chance
     * takes about 2^64 payloads of one topic, and on purpose (a zone's server choosing its answers)
     * a SHA-256 collision on 128 bits: neither is within reach. Equal payloads always have equal
     * digests, so nothing unchanged goes out again.
     */
    static final class Sent {
        static final Sent NONE = new Sent(new String[0], null, null, new long[0]);
        private static final ThreadLocal<java.security.MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
            try {
                return java.security.MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is not available", e); // every Java has it
            }
        });

        /** The topics kept by name, first. */
        private final String[] named;
        /** The state whose topics follow (as {@code derive} lists them); null when there are none. */
        private final ZoneState from;
        private final java.util.function.Function<ZoneState, List<String>> derive;
        /** two per topic: high, low */
        private final long[] digests;

        Sent(String[] named, ZoneState from, java.util.function.Function<ZoneState, List<String>> derive,
             long[] digests) {
            this.named = named;
            this.from = from;
            this.derive = derive;
            this.digests = digests;
        }

        /** topic → payload, as rendered. */
        static Sent of(Map<String, String> payloads) {
            String[] t = new String[payloads.size()];
            long[] d = new long[2 * payloads.size()];
            int i = 0;
            for (Map.Entry<String, String> e : payloads.entrySet()) {
                long[] one = digest(e.getValue());
                t[i] = e.getKey();
                d[2 * i] = one[0];
                d[2 * i + 1] = one[1];
                i++;
            }
            return new Sent(t, null, null, d);
        }

        /** The topics of {@code groups} (null ones skipped) with their digests, as the broker gave them back. */
        static Sent of(RetainedCopy.Group... groups) {
            List<String> t = new ArrayList<>();
            for (RetainedCopy.Group g : groups) {
                if (g != null) {
                    t.addAll(g.topics);
                }
            }
            long[] d = new long[2 * t.size()];
            int i = 0;
            for (RetainedCopy.Group g : groups) {
                if (g != null) {
                    System.arraycopy(g.digests, 0, d, 2 * i, 2 * g.topics.size());
                    i += g.topics.size();
                }
            }
            return new Sent(t.toArray(new String[0]), null, null, d);
        }

        /** The first 128 bits of the SHA-256 of the payload's UTF-8 bytes (what goes on the wire). */
        static long[] digest(String payload) {
            return digest(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        /** The same of the payload's bytes. */
        static long[] digest(byte[] payload) {
            java.security.MessageDigest md = SHA256.get();
            byte[] h = md.digest(payload);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(h);
            return new long[] {b.getLong(), b.getLong()};
        }

        long high(int i) {
            return digests[2 * i];
        }

        long low(int i) {
            return digests[2 * i + 1];
        }

        boolean same(int i, long high, long low) {
            return digests[2 * i] == high && digests[2 * i + 1] == low;
        }

        /** Every topic, in the order of the digests. */
        List<String> topics() {
            if (from == null) {
                return List.of(named);
            }
            List<String> all = new ArrayList<>(List.of(named));
            all.addAll(derive.apply(from));
            return all;
        }

        /** The same without the topics {@code drop} accepts. */
        Sent without(java.util.function.Predicate<String> drop) {
            List<String> all = topics();
            List<String> t = new ArrayList<>();
            List<Long> d = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                if (!drop.test(all.get(i))) {
                    t.add(all.get(i));
                    d.add(digests[2 * i]);
                    d.add(digests[2 * i + 1]);
                }
            }
            return new Sent(t.toArray(new String[0]), null, null, d.stream().mapToLong(Long::longValue).toArray());
        }
    }

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
                v.desired = state;
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
                    gone.addAll(v.published.topics());
                    if (v.desired != null) {
                        gone.addAll(render(v.desired, v).keySet());
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
                        v.desired = s;
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
                    v.published = v.published.without(t -> homeAssistant.objectIdOf(t) != null);
                    sync(v);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** An empty copy of the broker's retained topics for the link to fill at a read-back, grouped as {@link #reconcile} takes them. */
    public RetainedCopy newCopy() {
        return new RetainedCopy(this::ownerOf, topics::isKey);
    }

    /** {@link #reconcile(RetainedCopy, Collection)} of a copy given as topic → payload. */
    public List<Found> reconcile(Map<String, String> retained, Collection<ZoneState> known) {
        return reconcile(RetainedCopy.of(this::ownerOf, topics::isKey, retained), known);
    }

    /**
     * After a connect: {@code retained} is what the broker holds under {@link #ownFilters},
     * {@code known} the states of every zone the bridge knows. Publishes what differs, clears what
     * belongs to no zone, and returns the zones the broker holds that the bridge does not know.
     */
    public List<Found> reconcile(RetainedCopy retained, Collection<ZoneState> known) {
        lock.writeLock().lock();
        try {
            long session = link.session();
            Map<String, RetainedCopy.Group> groups = retained.groups();
            int sent = 0;
            for (ZoneState s : known) {
                View v = views.computeIfAbsent(s.zone(), z -> new View());
                synchronized (v) {
                    RetainedCopy.Group own = groups.remove(Topics.escape(s.zone()));
                    RetainedCopy.Group ha = homeAssistant == null ? null : groups.remove("ha:" + haId(s.zone()));
                    v.published = Sent.of(own, ha);
                    if (awaitingCheck.contains(s.zone())) {
                        v.desired = null; // taken over: the zone's check decides
                    } else if (v.desired == null) {
                        v.desired = own == null ? s : checkedLater(s, own, topics.zoneState(s.zone()));
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
                RetainedCopy.Group group = groups.remove(owner);
                if (group == null) {
                    continue; // taken with its zone
                }
                Found f = owner.startsWith("ha:") || group.zone == null ? null
                        : new Found(group.zone, group.server, List.copyOf(group.keys));
                if (f != null && !forgotten.contains(f.zone()) && !views.containsKey(f.zone())) {
                    View v = new View();
                    v.published = Sent.of(group, homeAssistant == null ? null : groups.remove("ha:" + haId(f.zone())));
                    v.epoch = session;
                    views.put(f.zone(), v);
                    found.add(f);
                    continue;
                }
                for (String t : group.topics) {
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

    /**
     * {@code s} with the broker's later {@code checked_at} when the retained state topic is exactly
     * what {@code s} renders to at that time; else {@code s}. A check of an unchanged zone
     * publishes its new check time but saves nothing (no write per unchanged zone), so after a
     * restart the saved state can be older than the retained one by its check time alone:
     * republishing it would set {@code checked_at} back until the zone's start-up check (a zone
     * whose start-up check ended before the reconcile has that check's state here instead).
     */
    private static ZoneState checkedLater(ZoneState s, RetainedCopy.Group held, String stateTopic) {
        int at = held.indexOf(stateTopic);
        String text = held.checkedAt;
        if (at < 0 || text == null || s.checkedAt() == null || text.equals(Json.time(s.checkedAt()))) {
            return s; // nothing retained, or the same time: nothing to keep
        }
        java.time.Instant time;
        try {
            time = java.time.Instant.parse(text);
        } catch (java.time.format.DateTimeParseException notOurs) {
            return s;
        }
        if (!time.isAfter(s.checkedAt())) {
            return s;
        }
        // only an exact rendering of s at that time is taken
        ZoneState later = s.withCheckedAt(time);
        long[] d = Sent.digest(Json.object(Payloads.zoneState(later)));
        return d[0] == held.high(at) && d[1] == held.low(at) ? later : s;
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
        Map<String, Out> desired = render(v.desired, v);
        Sent was = v.published;
        List<String> wasTopics = was.topics();
        String[] topics = new String[desired.size()];
        long[] digests = new long[2 * desired.size()];
        int n = 0;
        int i = 0;
        for (Out o : desired.values()) {
            int at = wasTopics.indexOf(o.topic()); // a zone has a handful of topics: a scan is enough
            if (at < 0 || !was.same(at, o.high(), o.low())) {
                link.retain(o.topic(), o.payload().get());
                n++;
            }
            topics[i] = o.topic();
            digests[2 * i] = o.high();
            digests[2 * i + 1] = o.low();
            i++;
        }
        for (String t : wasTopics) {
            if (!desired.containsKey(t)) {
                link.retain(t, "");
                n++;
            }
        }
        // the topics the state renders to are its own (see Sent); the ones before them are kept by name
        List<String> own = zoneTopics(v.desired);
        int named = topics.length - own.size();
        boolean derived = named >= 0 && own.equals(List.of(topics).subList(named, topics.length));
        v.published = derived
                ? new Sent(java.util.Arrays.copyOf(topics, named), v.desired, this::zoneTopics, digests)
                : new Sent(topics, null, null, digests);
        return n;
    }

    /**
     * The zone's retained topics, in the order they go out: dashboards' configs, keys, servers, state.
     * Parts that did not change since {@code v}'s latest render are taken from it (caller holds {@code v}).
     */
    private Map<String, Out> render(ZoneState s, View v) {
        Map<String, Out> out = new LinkedHashMap<>();
        if (homeAssistant != null) {
            List<String> sources = homeAssistant.availabilityTopics();
            Map<String, String> made = null;
            if (v.haConfigs == null || !sources.equals(v.haSources)) {
                made = homeAssistant.configs(s.zone(), sources);
                v.haConfigs = Sent.of(made);
                v.haSources = sources;
            }
            Sent ha = v.haConfigs;
            // rendered at most once per render, and only when one of them goes out
            List<Map<String, String>> configs = new ArrayList<>(1);
            if (made != null) {
                configs.add(made);
            }
            java.util.function.Supplier<Map<String, String>> all = () -> {
                if (configs.isEmpty()) {
                    configs.add(homeAssistant.configs(s.zone(), sources));
                }
                return configs.get(0);
            };
            List<String> haTopics = ha.topics();
            for (int i = 0; i < haTopics.size(); i++) {
                String topic = haTopics.get(i);
                out.put(topic, new Out(topic, ha.high(i), ha.low(i), () -> all.get().get(topic)));
            }
        }
        java.util.Iterator<String> own = zoneTopics(s).iterator();
        // by instance within this render; a record's equality (all fields) only against the latest one
        Map<KeyInfo, Rendered> before = new java.util.IdentityHashMap<>();
        Map<KeyInfo, Out> rendered = new java.util.IdentityHashMap<>();
        for (KeyInfo k : s.keys()) {
            Rendered r = v.rendered(k); // equal fields render to equal payloads
            String topic = own.next();
            Out o;
            if (r != null) {
                before.put(k, r);
                o = new Out(topic, r.high(), r.low(), () -> Json.object(Payloads.key(k)));
            } else {
                o = Out.of(topic, Json.object(Payloads.key(k)));
            }
            rendered.put(k, o);
            out.put(topic, o);
        }
        Map<KeyInfo, Long> places = Map.of();
        for (ServerState sv : s.servers()) {
            String topic = own.next();
            out.put(topic, Out.of(topic, Json.object(Payloads.server(s.zone(), sv))));
        }
        String state = own.next();
        out.put(state, Out.of(state, Json.object(Payloads.zoneState(s))));
        if (replicate) {
            // last: a standby follows what was published
            places = replica(s, v, before);
            String topic = own.next();
            out.put(topic, Out.of(topic, v.replica));
        }
        KeyInfo[] keys = s.keys().toArray(new KeyInfo[0]);
        long[] written = new long[3 * keys.length];
        for (int i = 0; i < keys.length; i++) {
            Long at = places.get(keys[i]);
            Out o = rendered.get(keys[i]);
            written[3 * i] = o.high();
            written[3 * i + 1] = o.low();
            written[3 * i + 2] = at == null ? -1 : at;
        }
        v.keys = keys;
        v.rendered = written;
        return out;
    }

    /** The topics of the zone's own level that {@code s} renders to, in {@link #render}'s order (after the discovery configs). */
    private List<String> zoneTopics(ZoneState s) {
        List<String> out = new ArrayList<>(s.keys().size() + s.servers().size() + 2);
        for (KeyInfo k : s.keys()) {
            out.add(topics.key(s.zone(), k.topicId()));
        }
        for (ServerState sv : s.servers()) {
            out.add(topics.server(s.zone(), sv.server()));
        }
        out.add(topics.zoneState(s.zone()));
        if (replicate) {
            out.add(topics.replica(s.zone()));
        }
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

    /** A retained topic's owner: its zone level ({@link Topics#zoneLevelOf}) or {@code ha:<object id>}; null for none. */
    private String ownerOf(String topic) {
        String level = topics.zoneLevelOf(topic);
        if (level == null && homeAssistant != null) {
            String id = homeAssistant.objectIdOf(topic);
            return id == null ? null : "ha:" + id;
        }
        return level;
    }

    private static String haId(String zone) {
        try {
            return HomeAssistant.objectId(zone);
        } catch (IllegalArgumentException e) {
            return zone;
        }
    }
}
