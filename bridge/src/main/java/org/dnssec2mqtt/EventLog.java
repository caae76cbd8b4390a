package org.dnssec2mqtt;

import java.util.List;
import java.util.function.LongSupplier;
import org.dnssec2mqtt.zone.Event;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log line of each event a check raised: high-priority ones (problems) at WARN, the rest at
 * INFO, except {@code zone_added}, of which at most one line per {@link #ZONE_ADDED_EVERY_NANOS}
 * is INFO and the others DEBUG, the next INFO line counting them. A primary that NOTIFYs 10,000
 * new zones at once would otherwise write 10,000 lines, and the check workers queued on the
 * logger's lock (measured: seconds of waiting per 10,000-zone burst); the events topic still
 * carries every one.
 */
final class EventLog {
    private static final Logger log = LoggerFactory.getLogger(CheckJob.class); // the lines keep their name
    static final long ZONE_ADDED_EVERY_NANOS = 1_000_000_000L;

    private final LongSupplier nanoTime;
    private long lastZoneAddedLine; // guarded by this
    private boolean anyZoneAddedLine; // guarded by this
    private long folded; // zone_added lines at DEBUG since the last INFO one; guarded by this

    EventLog() {
        this(System::nanoTime);
    }

    /** For tests: a clock of their own. */
    EventLog(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** Logs each of {@code events}, raised by one check of {@code zone}. */
    void log(String zone, List<Event> events) {
        for (Event e : events) {
            if (e.priority() == Event.HIGH) {
                log.warn("event: {} zone={} {}", e.type(), zone, e.get("message"));
            } else if (!"zone_added".equals(e.type())) {
                log.info("event: {} zone={} {}", e.type(), zone, e.get("message"));
            } else {
                long more = zoneAddedAtInfo();
                if (more < 0) {
                    log.debug("event: {} zone={} {}", e.type(), zone, e.get("message"));
                } else if (more == 0) {
                    log.info("event: {} zone={} {}", e.type(), zone, e.get("message"));
                } else {
                    log.info("event: {} zone={} {} ({} more zones added since the last such line, logged at DEBUG)",
                            e.type(), zone, e.get("message"), more);
                }
            }
        }
    }

    /** -1: this zone_added goes to DEBUG; otherwise INFO, with how many went to DEBUG before it. */
    private synchronized long zoneAddedAtInfo() {
        long now = nanoTime.getAsLong();
        if (anyZoneAddedLine && now - lastZoneAddedLine < ZONE_ADDED_EVERY_NANOS) {
            folded++;
            return -1;
        }
        anyZoneAddedLine = true;
        lastZoneAddedLine = now;
        long more = folded;
        folded = 0;
        return more;
    }
}
