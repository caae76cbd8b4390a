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
        return iso(t.truncatedTo(ChronoUnit.SECONDS));
    }

    /** The last second of year 9999: beyond it (and before 1970) {@link #iso} leaves it to java.time. */
    private static final long LAST_FOUR_DIGIT_SECOND = 253_402_300_799L;

    /**
     * Exactly {@link Instant#toString()} ({@link DateTimeFormatter#ISO_INSTANT}: the fraction in
     * 3, 6 or 9 digits as needed, none when whole), written out by hand for 1970 to 9999: the
     * formatter's generic printing was ~6 % of the bridge's CPU in a 10,000-zone burst (JFR), as
     * every state saved and every payload carries several times.
     */
    public static String iso(Instant t) {
        long s = t.getEpochSecond();
        if (s < 0 || s > LAST_FOUR_DIGIT_SECOND) {
            return t.toString();
        }
        java.time.LocalDate d = java.time.LocalDate.ofEpochDay(s / 86_400);
        int sod = (int) (s % 86_400);
        int nano = t.getNano();
        int fraction = nano == 0 ? 0 : nano % 1_000_000 == 0 ? 3 : nano % 1_000 == 0 ? 6 : 9;
        char[] c = new char[20 + (fraction == 0 ? 0 : fraction + 1)];
        digits(c, 0, d.getYear(), 4);
        c[4] = '-';
        digits(c, 5, d.getMonthValue(), 2);
        c[7] = '-';
        digits(c, 8, d.getDayOfMonth(), 2);
        c[10] = 'T';
        digits(c, 11, sod / 3600, 2);
        c[13] = ':';
        digits(c, 14, sod / 60 % 60, 2);
        c[16] = ':';
        digits(c, 17, sod % 60, 2);
        int at = 19;
        if (fraction > 0) {
            c[at++] = '.';
            int scaled = fraction == 3 ? nano / 1_000_000 : fraction == 6 ? nano / 1_000 : nano;
            digits(c, at, scaled, fraction);
            at += fraction;
        }
        c[at] = 'Z';
        return new String(c);
    }

    /** {@code value} in {@code width} decimal digits, zero-padded, at {@code c[at]}. */
    private static void digits(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
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
            out.value(iso(value));
        }

        @Override
        public Instant read(JsonReader in) throws IOException {
            return Instant.parse(in.nextString());
        }
    }
}
