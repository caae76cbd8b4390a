package org.dnssec2mqtt;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
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
    /** When the last zone_added line went out at INFO; {@link Long#MIN_VALUE}: none yet. */
    private final AtomicLong lastZoneAddedLine = new AtomicLong(Long.MIN_VALUE);
    /** zone_added lines at DEBUG since the last INFO one. */
    private final AtomicLong folded = new AtomicLong();

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

    /**
     * -1: this zone_added goes to DEBUG; otherwise INFO, with how many went to DEBUG before it.
     * Lock-free: with a lock, the check workers of a burst queued on it (measured).
     */
    private long zoneAddedAtInfo() {
        long now = nanoTime.getAsLong();
        long last = lastZoneAddedLine.get();
        if ((last == Long.MIN_VALUE || now - last >= ZONE_ADDED_EVERY_NANOS)
                && lastZoneAddedLine.compareAndSet(last, now)) {
            return folded.getAndSet(0);
        }
        folded.incrementAndGet();
        return -1;
    }
}
