package org.dnssec2mqtt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyInfo;

/**
 * The optional {@code keylog.file}: one line per key change in the style of the original
 * key-listen tool, {@code d1.aa. 300 IN DNSKEY 257 3 8 AwEAAc... ; Key-ID 9562}, followed by
 * {@code ; <event> <time>} so the file reads as a history.
 */
final class KeyLog {
    private final Path file;

    KeyLog(Path file) {
        this.file = file;
    }

    /** The key-listen line for one key. */
    static String line(KeyInfo k) {
        return k.dnskey().replaceAll("\\s+", " ").trim() + " ; Key-ID " + k.keytag();
    }

    /** Appends a line per key event; {@code keys} must hold every key an event names. */
    synchronized void append(List<Event> events, List<KeyInfo> before, List<KeyInfo> after) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Event e : events) {
            List<KeyInfo> from = e.type().equals("key_removed") ? before : after;
            if (e.type().equals("zone_added")) {
                for (KeyInfo k : after) {
                    sb.append(line(k)).append(" ; zone_added ").append(Json.time((java.time.Instant) e.get("at"))).append('\n');
                }
                continue;
            }
            Object tag = e.get("keytag");
            if (tag == null || from == null) {
                continue;
            }
            for (KeyInfo k : from) {
                if (k.keytag() == (Integer) tag) {
                    sb.append(line(k)).append(" ; ").append(e.type()).append(' ')
                            .append(Json.time((java.time.Instant) e.get("at"))).append('\n');
                    break;
                }
            }
        }
        if (sb.length() > 0) {
            Files.writeString(file, sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
