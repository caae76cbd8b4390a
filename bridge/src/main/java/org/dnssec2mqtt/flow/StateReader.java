package org.dnssec2mqtt.flow;

import com.google.gson.Gson;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneSignals;
import org.dnssec2mqtt.zone.ZoneState;

/**
 * Reads the records a state line holds most of, a zone's state, its keys and its servers, field
 * by field: what Gson's reflection reads (a missing field is null, 0 or false; an unknown one is
 * skipped; an enum name this version does not know is null), for a fraction of the CPU. Gson's
 * reflective reading was most of a start's CPU with 100,000 states under the launcher's client
 * JIT (JFR). The rarer parts of a state (its rollover record and the signer's signals) are still
 * read by Gson. Reading only: the lines are written by {@link org.dnssec2mqtt.mqtt.Json#GSON}.
 */
final class StateReader implements TypeAdapterFactory {
    private final TypeAdapter<Instant> instants;

    /** @param instants how this store reads a time */
    StateReader(TypeAdapter<Instant> instants) {
        this.instants = instants;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
        Class<? super T> raw = type.getRawType();
        if (raw == ZoneState.class) {
            return (TypeAdapter<T>) new States(gson.getAdapter(ZoneSignals.class)).nullSafe();
        }
        if (raw == KeyInfo.class) {
            return (TypeAdapter<T>) keyReader.nullSafe();
        }
        if (raw == ServerState.class) {
            return (TypeAdapter<T>) serverReader.nullSafe();
        }
        return null;
    }

    /** Only reads: a state line is written by Gson's own reflection. */
    private abstract static class Reading<T> extends TypeAdapter<T> {
        @Override
        public final void write(JsonWriter out, T value) {
            throw new UnsupportedOperationException("state lines are written by Json.GSON");
        }
    }

    private final class States extends Reading<ZoneState> {
        private final TypeAdapter<ZoneSignals> signals;

        States(TypeAdapter<ZoneSignals> signals) {
            this.signals = signals;
        }

        @Override
        public ZoneState read(JsonReader in) throws IOException {
            String zone = null;
            long serial = 0;
            String server = null;
            Instant checkedAt = null;
            Instant changedAt = null;
            boolean reachable = false;
            String status = null;
            String problem = null;
            List<KeyInfo> keys = null;
            String validation = null;
            Instant rrsigExpires = null;
            String rrsigAlert = null;
            Instant rrsigAlertedAt = null;
            long soaExpire = 0;
            Instant serialChangedAt = null;
            boolean stale = false;
            List<String> cds = null;
            List<String> cdnskey = null;
            List<String> parentDs = null;
            Boolean dsValidated = null;
            List<ServerState> servers = null;
            Instant dnskeyRrsigExpires = null;
            Instant soaRrsigExpires = null;
            ZoneSignals zoneSignals = null;
            String verified = null;
            in.beginObject();
            for (String name = next(in); name != null; name = next(in)) {
                switch (name) {
                    case "zone" -> zone = in.nextString();
                    case "serial" -> serial = in.nextLong();
                    case "server" -> server = in.nextString();
                    case "checkedAt" -> checkedAt = instants.read(in);
                    case "changedAt" -> changedAt = instants.read(in);
                    case "reachable" -> reachable = in.nextBoolean();
                    case "status" -> status = in.nextString();
                    case "problem" -> problem = in.nextString();
                    case "keys" -> keys = list(in, keyReader);
                    case "validation" -> validation = in.nextString();
                    case "rrsigExpires" -> rrsigExpires = instants.read(in);
                    case "rrsigAlert" -> rrsigAlert = in.nextString();
                    case "rrsigAlertedAt" -> rrsigAlertedAt = instants.read(in);
                    case "soaExpire" -> soaExpire = in.nextLong();
                    case "serialChangedAt" -> serialChangedAt = instants.read(in);
                    case "stale" -> stale = in.nextBoolean();
                    case "cds" -> cds = strings(in);
                    case "cdnskey" -> cdnskey = strings(in);
                    case "parentDs" -> parentDs = strings(in);
                    case "dsValidated" -> dsValidated = in.nextBoolean();
                    case "servers" -> servers = list(in, serverReader);
                    case "dnskeyRrsigExpires" -> dnskeyRrsigExpires = instants.read(in);
                    case "soaRrsigExpires" -> soaRrsigExpires = instants.read(in);
                    case "signals" -> zoneSignals = signals.read(in);
                    case "verified" -> verified = in.nextString();
                    default -> in.skipValue();
                }
            }
            return new ZoneState(zone, serial, server, checkedAt, changedAt, reachable, status, problem,
                    keys == null ? List.of() : keys, validation, rrsigExpires, rrsigAlert, rrsigAlertedAt, soaExpire,
                    serialChangedAt, stale, cds, cdnskey, parentDs, dsValidated, servers, dnskeyRrsigExpires,
                    soaRrsigExpires, zoneSignals, verified);
        }
    }

    private final Reading<KeyInfo> keyReader = new Reading<>() {
        @Override
        public KeyInfo read(JsonReader in) throws IOException {
            String identity = null;
            String topicId = null;
            String dnskey = null;
            String zone = null;
            int keytag = 0;
            int flags = 0;
            KeyInfo.Role role = null;
            KeyInfo.KeyState state = null;
            boolean revoked = false;
            Integer originalKeytag = null;
            int algorithm = 0;
            String algorithmName = null;
            Integer bits = null;
            long ttl = 0;
            String dsSha256 = null;
            String dsSha384 = null;
            Instant firstSeen = null;
            boolean cds = false;
            Boolean dsAtParent = null;
            Instant addHolddownUntil = null;
            Instant revokedAt = null;
            Instant removeHolddownUntil = null;
            in.beginObject();
            for (String name = next(in); name != null; name = next(in)) {
                switch (name) {
                    case "identity" -> identity = in.nextString();
                    case "topicId" -> topicId = in.nextString();
                    case "dnskey" -> dnskey = in.nextString();
                    case "zone" -> zone = in.nextString();
                    case "keytag" -> keytag = in.nextInt();
                    case "flags" -> flags = in.nextInt();
                    case "role" -> role = known(KeyInfo.Role.class, in.nextString());
                    case "state" -> state = known(KeyInfo.KeyState.class, in.nextString());
                    case "revoked" -> revoked = in.nextBoolean();
                    case "originalKeytag" -> originalKeytag = in.nextInt();
                    case "algorithm" -> algorithm = in.nextInt();
                    case "algorithmName" -> algorithmName = in.nextString();
                    case "bits" -> bits = in.nextInt();
                    case "ttl" -> ttl = in.nextLong();
                    case "dsSha256" -> dsSha256 = in.nextString();
                    case "dsSha384" -> dsSha384 = in.nextString();
                    case "firstSeen" -> firstSeen = instants.read(in);
                    case "cds" -> cds = in.nextBoolean();
                    case "dsAtParent" -> dsAtParent = in.nextBoolean();
                    case "addHolddownUntil" -> addHolddownUntil = instants.read(in);
                    case "revokedAt" -> revokedAt = instants.read(in);
                    case "removeHolddownUntil" -> removeHolddownUntil = instants.read(in);
                    default -> in.skipValue();
                }
            }
            return new KeyInfo(identity, topicId, dnskey, zone, keytag, flags, role, state, revoked, originalKeytag,
                    algorithm, algorithmName, bits, ttl, dsSha256, dsSha384, firstSeen, cds, dsAtParent,
                    addHolddownUntil, revokedAt, removeHolddownUntil);
        }
    };

    private final Reading<ServerState> serverReader = new Reading<>() {
        @Override
        public ServerState read(JsonReader in) throws IOException {
            String server = null;
            long serial = 0;
            String error = null;
            List<Integer> keytags = null;
            boolean keysMatch = false;
            boolean lagging = false;
            Instant checkedAt = null;
            in.beginObject();
            for (String name = next(in); name != null; name = next(in)) {
                switch (name) {
                    case "server" -> server = in.nextString();
                    case "serial" -> serial = in.nextLong();
                    case "error" -> error = in.nextString();
                    case "keytags" -> keytags = ints(in);
                    case "keysMatch" -> keysMatch = in.nextBoolean();
                    case "lagging" -> lagging = in.nextBoolean();
                    case "checkedAt" -> checkedAt = instants.read(in);
                    default -> in.skipValue();
                }
            }
            return new ServerState(server, serial, error, keytags, keysMatch, lagging, checkedAt);
        }
    };

    /**
     * The name of the object's next field with a value (a null leaves the field at its default);
     * null after the last, the object then ended.
     */
    private static String next(JsonReader in) throws IOException {
        while (in.hasNext()) {
            String name = in.nextName();
            if (in.peek() != JsonToken.NULL) {
                return name;
            }
            in.nextNull();
        }
        in.endObject();
        return null;
    }

    private static <T> List<T> list(JsonReader in, TypeAdapter<T> each) throws IOException {
        List<T> out = new ArrayList<>();
        in.beginArray();
        while (in.hasNext()) {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                out.add(null);
            } else {
                out.add(each.read(in));
            }
        }
        in.endArray();
        return out;
    }

    private static List<String> strings(JsonReader in) throws IOException {
        List<String> out = new ArrayList<>();
        in.beginArray();
        while (in.hasNext()) {
            out.add(in.nextString());
        }
        in.endArray();
        return out;
    }

    private static List<Integer> ints(JsonReader in) throws IOException {
        List<Integer> out = new ArrayList<>();
        in.beginArray();
        while (in.hasNext()) {
            out.add(in.nextInt());
        }
        in.endArray();
        return out;
    }

    /** The constant named {@code name}; null for a name this version does not know (as Gson reads it). */
    private static <E extends Enum<E>> E known(Class<E> type, String name) {
        try {
            return Enum.valueOf(type, name);
        } catch (IllegalArgumentException unknown) {
            return null;
        }
    }
}
