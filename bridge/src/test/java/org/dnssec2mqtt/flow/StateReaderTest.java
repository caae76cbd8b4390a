package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.RolloverRecord;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.ZoneSignals;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.Test;

/** {@link StateReader} reads what Gson's reflection reads from the same text. */
class StateReaderTest {
    static final Instant T = Instant.parse("2026-11-22T06:30:00.123456789Z");

    final Gson reader = Json.GSON.newBuilder()
            .registerTypeAdapterFactory(new StateReader(Json.GSON.getAdapter(Instant.class)))
            .create();

    /** A state with every field of it, its keys and its servers set, none at its default. */
    static ZoneState everyFieldSet() throws Exception {
        ZoneState p = StateStoreTest.state("every.aa");
        List<KeyInfo> keys = new ArrayList<>();
        int i = 0;
        for (KeyInfo k : p.keys()) {
            i++;
            keys.add(new KeyInfo(k.identity(), "topic-" + i, "text " + i, "other.aa", k.keytag(), k.flags(), k.role(),
                    k.state(), !k.revoked(), 40_000 + i, k.algorithm(), k.algorithmName(), 1024 + i, 3600 + i,
                    "1 2 3 AB" + i, "1 2 4 CD" + i, T.plusSeconds(i), true, Boolean.FALSE, T.plusSeconds(10 + i),
                    T.plusSeconds(20 + i), T.plusSeconds(30 + i)));
        }
        List<ServerState> servers = List.of(
                new ServerState("127.0.0.1:53", 7, "", List.of(1, 2), true, false, T),
                new ServerState("[::1]:5353", 6, "timed out", List.of(), false, true, T.plusMillis(5)));
        RolloverRecord rollover = new RolloverRecord(T, Map.of("1 8 2 AB", new RolloverRecord.SeenDs(T, 86400)),
                Map.of("13:abc", new RolloverRecord.TrackedKey(5, 6, 300, T, List.of("ds_submitted"))));
        ZoneSignals signals = new ZoneSignals(rollover, T.plusSeconds(99), List.of(1), List.of(2), List.of(3),
                List.of(4), "NSEC chain broken", 2026112201L);
        return new ZoneState(p.zone(), 2026112202L, "127.0.0.1:53", T, T.plusSeconds(1), true, "warning",
                "a problem \"quoted\" \\ and ünïcode", keys, "secure", T.plusSeconds(2), "expiring", T.plusSeconds(3),
                1_209_600, T.plusSeconds(4), true, List.of("cds b", "cds a"), List.of("cdnskey"), List.of("ds"),
                Boolean.TRUE, servers, T.plusSeconds(5), T.plusSeconds(6), signals,
                "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=");
    }

    @Test
    void aStateWithEveryFieldSetIsReadAsGsonReadsIt() throws Exception {
        ZoneState s = everyFieldSet();
        String json = Json.GSON.toJson(s);
        ZoneState read = reader.fromJson(json, ZoneState.class);
        assertEquals(Json.GSON.fromJson(json, ZoneState.class), read);
        assertEquals(s, read);
        assertEquals(Json.GSON.toJson(s), Json.GSON.toJson(read));
    }

    @Test
    void theWayAStoredStateIsWrittenIsReadAsGsonReadsIt() throws Exception {
        for (ZoneState s : List.of(everyFieldSet().stored(), StateStoreTest.state("d1.aa").stored())) {
            String json = Json.GSON.toJson(s);
            assertEquals(Json.GSON.fromJson(json, ZoneState.class), reader.fromJson(json, ZoneState.class), json);
        }
    }

    @Test
    void missingFieldsAreTheirDefaultsUnknownOnesAreSkippedAndAnUnknownRoleIsNone() {
        String json = """
                {"zone":"a.test","future":{"x":[1,{"y":null}],"z":"w"},"keys":[{"keytag":5,"role":"XSK",
                "state":"ACTIVE","later":true,"dsAtParent":null}],"servers":[{"server":"s","more":[]}],"verified":null,
                "signals":null,"parentDs":null}
                """;
        ZoneState read = reader.fromJson(json, ZoneState.class);
        assertEquals(Json.GSON.fromJson(json, ZoneState.class), read);
        assertNull(read.keys().get(0).role());
        assertEquals(KeyInfo.KeyState.ACTIVE, read.keys().get(0).state());
        assertEquals(0, read.serial());
    }

    @Test
    void aValueOfTheWrongKindIsAParseErrorAsWithGson() {
        for (String json : List.of("{\"zone\":\"a\",\"keys\":[],\"serial\":\"many\"}",
                "{\"zone\":\"a\",\"keys\":[],\"reachable\":[1]}", "{\"zone\":\"a\",\"keys\":{}}",
                "{\"zone\":\"a\",\"keys\":[],\"checkedAt\":\"yesterday\"}")) {
            Class<? extends Exception> gson = failure(() -> Json.GSON.fromJson(json, ZoneState.class));
            Class<? extends Exception> ours = failure(() -> reader.fromJson(json, ZoneState.class));
            assertEquals(gson != null, ours != null, json);
            assertThrows(RuntimeException.class, () -> reader.fromJson(json, ZoneState.class), json);
        }
        assertThrows(JsonParseException.class, () -> reader.fromJson("{\"zone\":\"a\",\"keys\":{}}", ZoneState.class));
    }

    private static Class<? extends Exception> failure(Runnable r) {
        try {
            r.run();
            return null;
        } catch (RuntimeException e) {
            return e.getClass();
        }
    }
}
