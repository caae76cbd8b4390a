package org.dnssec2mqtt.mqtt;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.dnssec2mqtt.flow.AdoptedKey;

/**
 * What the broker gave back of the bridge's retained topics after a connect, filled message by
 * message as {@link MqttLink} reads it back and handed to the reconcile. Each topic is kept with
 * a digest of its payload ({@link MqttPublisher.Sent#digest}), not the payload: the reconcile only
 * compares digests, and the few fields it reads (a state's zone, server and {@code checked_at}, a
 * key's tag, algorithm and first sight, for zones to adopt) are taken out on arrival. With 100,000
 * zones the payloads held as text were ~160 MB of heap for the length of a reconcile, and the
 * bridge ran out of memory at a restart under the launcher's 256 MiB.
 *
 * <p>Topics are grouped by owner as they arrive: a zone level ({@link Topics#zoneLevelOf}) or
 * {@code ha:<object id>} for Home Assistant's discovery configs; topics of no owner are not kept.
 * Filled on the link's receive thread and read on its session thread: its methods are
 * synchronized.
 */
public final class RetainedCopy {
    /** One owner's topics, with what the reconcile reads of their payloads. */
    static final class Group {
        final List<String> topics = new ArrayList<>(4);
        /** two per topic: the digest's high and low halves, in the order of {@link #topics} */
        long[] digests = new long[8];
        /** the zone a state or key payload names, when its topic level is that zone's; null when none did */
        String zone;
        /** the server a state payload names; null when none did */
        String server;
        /** the {@code checked_at} text of the state payload; null when none */
        String checkedAt;
        /** what key payloads say of their keys; grows only where a key payload came */
        List<AdoptedKey> keys = List.of();

        int indexOf(String topic) {
            return topics.indexOf(topic);
        }

        long high(int i) {
            return digests[2 * i];
        }

        long low(int i) {
            return digests[2 * i + 1];
        }

        private void put(String topic, long[] d) {
            int i = topics.indexOf(topic);
            if (i < 0) {
                i = topics.size();
                topics.add(topic);
                if (digests.length < 2 * topics.size()) {
                    digests = Arrays.copyOf(digests, 2 * digests.length);
                }
            }
            digests[2 * i] = d[0];
            digests[2 * i + 1] = d[1];
        }

        private boolean remove(String topic) {
            int i = topics.indexOf(topic);
            if (i < 0) {
                return false;
            }
            topics.remove(i);
            System.arraycopy(digests, 2 * i + 2, digests, 2 * i, digests.length - 2 * i - 2);
            return true;
        }
    }

    private final Function<String, String> ownerOf;
    private final java.util.function.Predicate<String> isKey;
    private final Map<String, Group> groups = new HashMap<>();
    private int size;

    /**
     * @param ownerOf a topic's owner (a zone level, or {@code ha:<object id>}); null for a topic
     *     the reconcile does not look at
     * @param isKey true for a key topic ({@link Topics#isKey})
     */
    public RetainedCopy(Function<String, String> ownerOf, java.util.function.Predicate<String> isKey) {
        this.ownerOf = ownerOf;
        this.isKey = isKey;
    }

    /** A copy of topic → payload (tests, a start without a broker's copy). */
    public static RetainedCopy of(Function<String, String> ownerOf, java.util.function.Predicate<String> isKey,
            Map<String, String> retained) {
        RetainedCopy copy = new RetainedCopy(ownerOf, isKey);
        retained.forEach((t, p) -> copy.put(t, p.getBytes(StandardCharsets.UTF_8)));
        return copy;
    }

    /** The broker holds {@code payload} under {@code topic}; an empty payload means it holds nothing there. */
    public synchronized void put(String topic, byte[] payload) {
        if (payload.length == 0) {
            remove(topic);
            return;
        }
        String owner = ownerOf.apply(topic);
        if (owner == null) {
            return;
        }
        Group g = groups.computeIfAbsent(owner, o -> new Group());
        int before = g.topics.size();
        g.put(topic, MqttPublisher.Sent.digest(payload));
        size += g.topics.size() - before;
        if (!owner.startsWith("ha:")) {
            boolean state = topic.endsWith("/state");
            boolean key = !state && isKey.test(topic);
            if (state || key) {
                read(owner, g, state, new String(payload, StandardCharsets.UTF_8));
            }
        }
    }

    /** The broker cleared {@code topic}. */
    public synchronized void remove(String topic) {
        String owner = ownerOf.apply(topic);
        Group g = owner == null ? null : groups.get(owner);
        if (g != null && g.remove(topic)) {
            size--;
        }
    }

    /** Forgets everything (the read-back was given up). */
    public synchronized void clear() {
        groups.clear();
        size = 0;
    }

    /** How many topics the copy holds. */
    public synchronized int size() {
        return size;
    }

    /** True when the copy holds exactly {@code payload} under {@code topic}. */
    public synchronized boolean holds(String topic, String payload) {
        String owner = ownerOf.apply(topic);
        Group g = owner == null ? null : groups.get(owner);
        int i = g == null ? -1 : g.indexOf(topic);
        long[] d = MqttPublisher.Sent.digest(payload.getBytes(StandardCharsets.UTF_8));
        return i >= 0 && g.high(i) == d[0] && g.low(i) == d[1];
    }

    /** The groups by owner, for the reconcile to take apart (the copy is not filled any more then). */
    synchronized Map<String, Group> groups() {
        return new HashMap<>(groups);
    }

    /**
     * Reads the top-level fields the reconcile needs from a state or key payload; a payload that is
     * not a JSON object, or a field of another type, adds nothing.
     */
    private static void read(String owner, Group g, boolean state, String text) {
        String zone = null;
        String server = null;
        String checkedAt = null;
        int keytag = -1;
        int algorithm = -1;
        String firstSeen = null;
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                return;
            }
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                JsonToken t = r.peek();
                switch (name) {
                    case "zone" -> zone = t == JsonToken.STRING ? r.nextString() : skip(r);
                    case "server" -> server = state && t == JsonToken.STRING ? r.nextString() : skip(r);
                    case "checked_at" -> checkedAt = state && t == JsonToken.STRING ? r.nextString() : skip(r);
                    case "keytag" -> keytag = t == JsonToken.NUMBER ? r.nextInt() : skipInt(r);
                    case "algorithm" -> algorithm = t == JsonToken.NUMBER ? r.nextInt() : skipInt(r);
                    case "first_seen" -> firstSeen = t == JsonToken.STRING ? r.nextString() : skip(r);
                    default -> r.skipValue();
                }
            }
        } catch (IOException | RuntimeException notOurs) {
            return; // not a payload of ours: nothing to carry over
        }
        if (zone != null && Topics.escape(zone).equals(owner)) {
            g.zone = zone;
        }
        if (state) {
            g.server = server == null ? g.server : server;
            g.checkedAt = checkedAt;
            return;
        }
        if (keytag >= 0 && algorithm >= 0 && firstSeen != null) {
            try {
                AdoptedKey k = new AdoptedKey(keytag, algorithm, Instant.parse(firstSeen));
                if (g.keys.isEmpty()) {
                    g.keys = new ArrayList<>(2);
                }
                g.keys.removeIf(o -> o.keytag() == k.keytag() && o.algorithm() == k.algorithm()); // sent again
                g.keys.add(k);
            } catch (DateTimeParseException notOurs) {
                // not a key payload of ours: nothing to carry over
            }
        }
    }

    private static String skip(JsonReader r) throws IOException {
        r.skipValue();
        return null;
    }

    private static int skipInt(JsonReader r) throws IOException {
        r.skipValue();
        return -1;
    }
}
