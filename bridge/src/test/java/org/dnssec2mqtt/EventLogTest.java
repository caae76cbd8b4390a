package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.support.LogCapture;
import org.dnssec2mqtt.zone.Event;
import org.junit.jupiter.api.Test;

/** The event lines of a burst of new zones: one INFO line per second, not one per zone. */
class EventLogTest {
    private static final Instant AT = Instant.parse("2026-12-02T12:00:00Z");

    private static Event added(String zone) {
        return Event.of("zone_added", zone, AT).text("zone added", zone + " is now watched with 2 keys", Event.NORMAL);
    }

    private static long lines(String log, String needle) {
        return log.lines().filter(l -> l.contains(needle)).count();
    }

    @Test
    void aBurstOfNewZonesLogsOneInfoLinePerSecondAndTheNextCountsTheRest() {
        AtomicLong clock = new AtomicLong(5_000_000_000L);
        EventLog events = new EventLog(clock::get);
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 1000; i++) {
                events.log("z" + i + ".test", List.of(added("z" + i + ".test")));
            }
            clock.addAndGet(EventLog.ZONE_ADDED_EVERY_NANOS);
            events.log("last.test", List.of(added("last.test")));
            String text = log.text();
            assertEquals(2, lines(text, "INFO CheckJob - event: zone_added"), text);
            assertTrue(text.contains("event: zone_added zone=z0.test z0.test is now watched"), text);
            assertTrue(text.contains("zone=last.test last.test is now watched with 2 keys (999 more zones added since"
                    + " the last such line, logged at DEBUG)"), text);
        }
    }

    @Test
    void otherEventsKeepOneLineEachAndProblemsStayAtWarn() {
        EventLog events = new EventLog(() -> 0L);
        Event rrsig = Event.of("rrsig_expiring", "a.test", AT).text("expiring", "RRSIGs of a.test expire soon", Event.HIGH);
        Event key = Event.of("key_added", "a.test", AT).text("key", "a.test has a new ZSK", Event.NORMAL);
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 3; i++) {
                events.log("a.test", List.of(added("a.test"), key, rrsig));
            }
            String text = log.text();
            assertEquals(1, lines(text, "INFO CheckJob - event: zone_added"), text);
            assertEquals(3, lines(text, "INFO CheckJob - event: key_added zone=a.test a.test has a new ZSK"), text);
            assertEquals(3, lines(text, "WARN CheckJob - event: rrsig_expiring zone=a.test"), text);
        }
    }
}
