package org.dnssec2mqtt.mqtt;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/**
 * JSON for payloads and state files. Payloads are written field by field with a streaming
 * writer (no reflection on the hot path); timestamps are ISO-8601 UTC to the second.
 */
public final class Json {
    private Json() {}

    /** One shared Gson for state files and request parsing; '=' stays '=' (Base64 keys). */
    public static final Gson GSON = new GsonBuilder()
            .disableHtmlEscaping()
            .registerTypeAdapter(Instant.class, new InstantAdapter().nullSafe())
            .create();

    /** ISO-8601 UTC, whole seconds: {@code 2026-11-22T06:30:00Z}. */
    public static String time(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    /** A flat object from ordered fields; values String, Number, Boolean, Instant, Iterable, Map. */
    public static String object(Map<String, ?> fields) {
        StringWriter out = new StringWriter(256);
        try (JsonWriter w = new JsonWriter(out)) {
            w.setHtmlSafe(false);
            write(w, fields);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private static void write(JsonWriter w, Object v) throws IOException {
        if (v == null) {
            w.nullValue();
        } else if (v instanceof String s) {
            w.value(s);
        } else if (v instanceof Boolean b) {
            w.value(b);
        } else if (v instanceof Number n) {
            w.value(n);
        } else if (v instanceof Instant t) {
            w.value(time(t));
        } else if (v instanceof Map<?, ?> m) {
            w.beginObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                w.name(String.valueOf(e.getKey()));
                write(w, e.getValue());
            }
            w.endObject();
        } else if (v instanceof Iterable<?> list) {
            w.beginArray();
            for (Object o : list) {
                write(w, o);
            }
            w.endArray();
        } else {
            w.value(v.toString());
        }
    }

    private static final class InstantAdapter extends TypeAdapter<Instant> {
        @Override
        public void write(JsonWriter out, Instant value) throws IOException {
            out.value(value.toString());
        }

        @Override
        public Instant read(JsonReader in) throws IOException {
            return Instant.parse(in.nextString());
        }
    }
}
