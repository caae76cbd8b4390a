package org.dnssec2mqtt.zone;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One event for the {@code events} topic: a flat, ordered set of fields that always holds
 * {@code event}, {@code zone}, {@code at}, {@code title}, {@code message} and {@code priority}
 * (0 normal, 1 high), plus whatever the event type adds.
 */
public final class Event {
    public static final int NORMAL = 0;
    public static final int HIGH = 1;

    private final Map<String, Object> fields;

    private Event(Map<String, Object> fields) {
        this.fields = Collections.unmodifiableMap(fields);
    }

    /** Starts an event; finish it with {@link Builder#text}. */
    public static Builder of(String type, String zone, Instant at) {
        return new Builder(type, zone, at);
    }

    public String type() {
        return (String) fields.get("event");
    }

    public String zone() {
        return (String) fields.get("zone");
    }

    public int priority() {
        return (Integer) fields.get("priority");
    }

    public Object get(String field) {
        return fields.get(field);
    }

    /** Every field in payload order. Values are String, Number, Boolean, Instant or List. */
    public Map<String, Object> fields() {
        return fields;
    }

    @Override
    public String toString() {
        return fields.toString();
    }

    /** Collects the type-specific fields before the ready-made text. */
    public static final class Builder {
        private final Map<String, Object> head = new LinkedHashMap<>();
        private final Map<String, Object> extra = new LinkedHashMap<>();

        private final Instant at;

        private Builder(String type, String zone, Instant at) {
            head.put("event", type);
            head.put("zone", zone);
            this.at = at;
        }

        public Builder with(String field, Object value) {
            if (value != null) {
                extra.put(field, value);
            }
            return this;
        }

        /** Adds the ready-made text mqttwarn and phones show, and builds the event. */
        public Event text(String title, String message, int priority) {
            Map<String, Object> all = new LinkedHashMap<>(head);
            all.putAll(extra);
            all.put("at", at);
            all.put("title", title);
            all.put("message", message);
            all.put("priority", priority);
            return new Event(all);
        }
    }
}
