package org.dnssec2mqtt.signals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.dnssec2mqtt.support.DbusDaemon;
import org.dnssec2mqtt.support.KnotServer;
import org.dnssec2mqtt.support.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real knotd signing a zone with automatic KSK submission, on a real private dbus-daemon, and
 * {@link KnotDbus} listening: the signals arrive with Knot's serial and key tag, and survive
 * knotd and the bus restarting.
 */
@Timeout(120)
class KnotDbusIT {
    private static final String ZONE = "dbus.test";
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final RecordingListener recorder = new RecordingListener();

    @Test
    void kskSubmissionAndZoneUpdatesFromRealKnot() throws Exception {
        try (DbusDaemon bus = DbusDaemon.start();
             KnotDbus dbus = new KnotDbus(bus.address(), Map.of(), recorder, Duration.ofMillis(100), Duration.ofSeconds(1))) {
            dbus.start();
            await(c -> c.equals("bus connected"), bus);
            try (KnotServer knot = new KnotServer().dbus(bus.address()).zone(ZONE).start()) {
                KnotServer.Key ksk = knot.keys(ZONE).stream().filter(KnotServer.Key::ksk).findFirst().orElseThrow();
                String submission = await(c -> c.startsWith("ksk "), bus);
                assertEquals("ksk dbus.test. " + ksk.tag() + " " + ksk.id(), submission, knot.log());
                String updated = await(c -> c.startsWith("updated "), bus);
                assertEquals("updated dbus.test. " + knot.servedSerial(ZONE), updated, knot.log());

                // knotd restarted: the match rule is on the bus, so its next signal is heard
                knot.restart();
                long before = knot.servedSerial(ZONE);
                knot.knotc("zone-sign", ZONE);
                long after = knot.awaitSerialChange(ZONE, before, WAIT);
                await(c -> c.equals("updated dbus.test. " + after), bus);

                // the bus restarted: KnotDbus reconnects on its timer; knotd needs a restart to find it
                try (LogCapture log = LogCapture.start()) {
                    bus.restart();
                    String lost = await(c -> c.startsWith("bus disconnected "), bus);
                    assertTrue(lost.contains("the bus closed it (dbus-daemon stopped or restarted); retrying in 100ms"), lost);
                    await(c -> c.equals("bus connected"), bus);
                    String text = log.text();
                    assertTrue(text.lines().noneMatch(l -> l.contains("ERROR") || l.contains("Exception")), text);
                }
                knot.restart();
                long before2 = knot.servedSerial(ZONE);
                knot.knotc("zone-sign", ZONE);
                long after2 = knot.awaitSerialChange(ZONE, before2, WAIT);
                await(c -> c.equals("updated dbus.test. " + after2), bus);
            }
        }
    }

    @Test
    void knotsDnssecInvalidSignalCarriesTheZone() throws Exception {
        try (DbusDaemon bus = DbusDaemon.start();
             KnotDbus dbus = new KnotDbus(bus.address(), Map.of(), recorder, Duration.ofMillis(100), Duration.ofSeconds(1));
             KnotServer knot = new KnotServer().dbus(bus.address()).zone(ZONE)) {
            dbus.start();
            await(c -> c.equals("bus connected"), bus);
            knot.start();
            // an unsigned zone with dnssec-validation on fails validation at load (Knot 3.2:
            // "DNSSEC, validation failed (no keys for signing)") and knotd signals it
            knot.knotc("conf-begin");
            knot.knotc("conf-set", "zone[" + ZONE + "].dnssec-signing", "off");
            knot.knotc("conf-set", "zone[" + ZONE + "].dnssec-validation", "on");
            knot.knotc("conf-commit");
            knot.knotc("zone-purge", "-f", "+journal", ZONE);
            knot.knotc("zone-reload", ZONE);
            String invalid = await(c -> c.startsWith("invalid "), bus);
            assertEquals("invalid dbus.test. null", invalid, knot.log());
        }
    }

    @Test
    void aMissingBusIsOneWarningAndAStateNeverAnException() throws Exception {
        Path dir = Files.createTempDirectory("nobus");
        String address = "unix:path=" + dir.resolve("no-such-bus.sock");
        try (LogCapture log = LogCapture.start();
             KnotDbus dbus = new KnotDbus(address, Map.of(), recorder, Duration.ofMillis(50), Duration.ofMillis(200))) {
            dbus.start();
            String first = await(c -> c.startsWith("bus disconnected "), null);
            assertTrue(first.contains("cannot connect to D-Bus at " + address), first);
            assertTrue(first.contains("retrying in 50ms"), first);
            // it keeps trying on its timer (back-off capped at 200 ms here), without more warnings
            for (int i = 0; i < 3; i++) {
                await(c -> c.startsWith("bus disconnected "), null);
            }
            String text = log.text();
            assertEquals(1, text.lines().filter(l -> l.contains("WARN") && l.contains("knot.dbus")).count(), text);
            assertTrue(text.lines().noneMatch(l -> l.contains("Exception")), text);
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    private String await(Predicate<String> match, DbusDaemon bus) throws InterruptedException {
        return recorder.await(match, WAIT, bus == null ? "" : bus.log());
    }
}
