package org.dnssec2mqtt.cluster;

import com.google.gson.Gson;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.util.Map;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ZoneState;

/**
 * A zone's whole state as the active cluster node holds it, on its retained replica topic: what
 * standby nodes follow, so that a takeover starts from exactly what the active knew (first-seen
 * times, topic choices for colliding tags, RFC 5011 dates, rollover timers).
 */
public final class Replica {
    /** Bumped when the state's shape changes in a way an older node cannot read. */
    static final int FORMAT = 1;

    private record Wire(int format, ZoneState state) {}

    private Replica() {}

    public static String encode(ZoneState state) {
        return Json.GSON.toJson(new Wire(FORMAT, state));
    }

    /**
     * {@link #encode(ZoneState)}, byte for byte, taking each key's JSON from {@code keys} when an
     * equal key was encoded before and adding what it encodes: the keys are most of a replica, and
     * they rarely change between checks. Gson writes records by reflection, slowly.
     */
    public static String encode(ZoneState state, Map<KeyInfo, String> keys) {
        KEYS.set(keys);
        try {
            return MEMO_GSON.toJson(new Wire(FORMAT, state));
        } finally {
            KEYS.remove();
        }
    }

    /** The memo of the {@link #encode(ZoneState, Map)} running on this thread. */
    private static final ThreadLocal<Map<KeyInfo, String>> KEYS = new ThreadLocal<>();

    /** {@link Json#GSON} with keys written from {@link #KEYS}: a key's JSON is the same inline as alone. */
    private static final Gson MEMO_GSON = Json.GSON.newBuilder().registerTypeAdapterFactory(new TypeAdapterFactory() {
        @Override
        @SuppressWarnings("unchecked")
        public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
            if (type.getRawType() != KeyInfo.class) {
                return null;
            }
            TypeAdapter<KeyInfo> plain = gson.getDelegateAdapter(this, TypeToken.get(KeyInfo.class));
            return (TypeAdapter<T>) new TypeAdapter<KeyInfo>() {
                @Override
                public void write(JsonWriter out, KeyInfo k) throws IOException {
                    Map<KeyInfo, String> memo = KEYS.get();
                    if (memo == null || k == null) {
                        plain.write(out, k);
                        return;
                    }
                    String json = memo.get(k);
                    if (json == null) {
                        json = alone(k);
                        memo.put(k, json);
                    }
                    out.jsonValue(json);
                }

                /** As Gson writes it inside the replica: nulls left out, no HTML escaping. */
                private String alone(KeyInfo k) throws IOException {
                    java.io.StringWriter text = new java.io.StringWriter(512);
                    JsonWriter w = new JsonWriter(text);
                    w.setSerializeNulls(false);
                    w.setHtmlSafe(false);
                    plain.write(w, k);
                    return text.toString();
                }

                @Override
                public KeyInfo read(JsonReader in) throws IOException {
                    return plain.read(in);
                }
            };
        }
    }).create();

    /** The state; null when the payload is not a replica this version reads. */
    public static ZoneState decode(String payload) {
        try {
            Wire w = Json.GSON.fromJson(payload, Wire.class);
            return w == null || w.format() != FORMAT || w.state() == null || w.state().zone() == null ? null : w.state();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
