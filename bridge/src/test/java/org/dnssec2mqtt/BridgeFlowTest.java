package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.dns.NotifyRequest;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.flow.Checker;
import org.dnssec2mqtt.flow.Publisher;
import org.dnssec2mqtt.flow.StateStore;
import org.dnssec2mqtt.flow.StateWriter;
import org.dnssec2mqtt.flow.TrackedZone;
import org.dnssec2mqtt.flow.ZoneRegistry;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.support.LogCapture;
import org.dnssec2mqtt.support.TestConfig;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.ZoneState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

/**
 * The flow (trigger → schedule → check → publish → persist) with a recording publisher, a real
 * checker against the in-process authoritative server on loopback, and the real state writer.
 */
@Timeout(30)
class BridgeFlowTest {
    static final Name ZONE = Name.fromConstantString("flow.test.");

    @TempDir
    Path dir;
    Bridge bridge;
    StateWriter writer;
    AuthServer auth;

    /** What the publisher was asked to publish, in order. */
    record Published(ZoneState state, List<Event> events, String cleared) {}

    final BlockingQueue<Published> published = new LinkedBlockingQueue<>();
    final Publisher recorder = new Publisher() {
        @Override
        public void publish(ZoneState state, List<Event> events) {
            published.add(new Published(state, events, null));
        }

        @Override
        public void clear(String zone) {
            published.add(new Published(null, List.of(), zone));
        }
    };

    Config config(String extra) {
        return TestConfig.load(dir, "dns.query-port = " + (auth == null ? 9 : auth.port()) + "\ndns.timeout = 1s\n"
                + "data.dir = " + dir.resolve("data") + "\n" + extra);
    }

    Bridge bridge(Config config, Checker checker) throws Exception {
        ZoneRegistry registry = new ZoneRegistry(config);
        writer = new StateWriter(new StateStore(config.dataDir()));
        bridge = new Bridge(config, registry, checker, recorder, writer, null,
                new org.dnssec2mqtt.metrics.Metrics("test", List::of, Clock.systemUTC()));
        return bridge;
    }

    Checker realChecker(Config config) {
        return realChecker(config, Clock.systemUTC());
    }

    Checker realChecker(Config config, Clock clock) {
        return new Checker(config, new ZoneFetcher(config.dnsTimeout(), config.dnsTcp()), clock);
    }

    /** The system clock moved forward by {@link #ahead}: rollover steps come due without waiting for TTLs. */
    static final class ShiftedClock extends Clock {
        volatile Duration ahead = Duration.ZERO;

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return java.time.Instant.now().plus(ahead);
        }
    }

    static List<String> types(Published p) {
        return p.events().stream().map(Event::type).toList();
    }

    static Event event(Published p, String type) {
        return p.events().stream().filter(e -> e.type().equals(type)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type + " among " + types(p)));
    }

    static String ds(DemoZone.Key k, int digest) {
        return new org.xbill.DNS.DSRecord(ZONE, org.xbill.DNS.DClass.IN, 300, digest, k.record()).rdataToString();
    }

    /** The zone with an active KSK and ZSK, served by {@link #auth} on loopback. */
    DemoZone servedZone() throws Exception {
        auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
        DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
        auth.add(zone);
        zone.addKey(true, true);
        zone.addKey(false, true);
        return zone;
    }

    /** A zone with an active KSK and ZSK and a second, stand-by KSK; known to the bridge after its first NOTIFY. */
    DemoZone knownZoneWithNewKsk(String extraConfig, Clock clock) throws Exception {
        DemoZone zone = servedZone();
        DemoZone.Key ksk = zone.keys().get(0);
        zone.addKey(true, false);
        auth.parentDs(ZONE, List.of(new org.xbill.DNS.DSRecord(ZONE, org.xbill.DNS.DClass.IN, 300,
                org.xbill.DNS.DNSSEC.Digest.SHA256, ksk.record())));
        Config config = config("dns.resolver = 127.0.0.1:" + auth.port() + "\n" + extraConfig);
        bridge(config, realChecker(config, clock)).start();
        bridge.onNotify(new NotifyRequest(ZONE, Type.SOA, null, InetAddress.getLoopbackAddress(), null));
        assertEquals(List.of("zone_added"), types(next()));
        return zone;
    }

    @Test
    void aRolloverStepFiresOnItsTimerWithoutAQueryAndOnlyOnce() throws Exception {
        ShiftedClock clock = new ShiftedClock();
        DemoZone zone = knownZoneWithNewKsk("rollover.margin = 1m\n", clock);
        DemoZone.Key fresh = zone.keys().get(2);
        ZoneState s = bridge.registry().get(ZONE).state();
        assertEquals(List.of(fresh.tag()), s.signals().awaitingDsSubmit(), "the new KSK waits for its DNSKEY TTL plus the margin");
        java.time.Instant due = s.signals().rolloverDue();
        assertEquals(s.keys().stream().filter(k -> k.keytag() == fresh.tag()).findFirst().orElseThrow().firstSeen()
                .plusSeconds(300).plus(Duration.ofMinutes(1)), due);
        assertEquals(due, Payloads.zoneState(s).get("rollover_due"));

        // time moves on to 1.5 s before the step; a check then finds it not due yet
        clock.ahead = Duration.between(java.time.Instant.now(), due).minusMillis(1500);
        bridge.recheck(ZONE).get(10, TimeUnit.SECONDS);
        Published early = next();
        assertFalse(types(early).contains("ds_submit_ready"), types(early).toString());
        long queries = auth.queries();

        // the scheduler's timer re-evaluates the zone when the step is due: no query for it
        Published ready = next();
        Event e = event(ready, "ds_submit_ready");
        assertEquals(queries, auth.queries(), "the timer asks no server");
        assertEquals(fresh.tag(), e.get("keytag"));
        assertEquals(ds(fresh, org.xbill.DNS.DNSSEC.Digest.SHA256), e.get("ds_sha256"));
        assertEquals(Event.HIGH, e.priority());
        assertEquals(List.of(), ready.state().signals().awaitingDsSubmit());
        assertFalse(Payloads.zoneState(ready.state()).containsKey("rollover_due"));

        // once per key and step: the next check does not say it again
        bridge.recheck(ZONE).get(10, TimeUnit.SECONDS);
        assertFalse(types(next()).contains("ds_submit_ready"));
    }

    @Test
    void aStepThatFellDueWhileTheBridgeWasDownIsAnnouncedOnceAtStartUp() throws Exception {
        ShiftedClock clock = new ShiftedClock();
        DemoZone zone = knownZoneWithNewKsk("rollover.margin = 1m\n", clock);
        DemoZone.Key fresh = zone.keys().get(2);
        java.time.Instant due = bridge.registry().get(ZONE).state().signals().rolloverDue();
        assertTrue(writer.flush(Duration.ofSeconds(5)));
        Config config = config("dns.resolver = 127.0.0.1:" + auth.port() + "\nrollover.margin = 1m\n");
        bridge.close();
        writer.close();

        // down past the step; the new bridge's start-up check announces it
        clock.ahead = Duration.between(java.time.Instant.now(), due).plusMinutes(10);
        ZoneRegistry registry = new ZoneRegistry(config);
        for (ZoneState s : new StateStore(config.dataDir()).loadAll()) {
            registry.restore(org.dnssec2mqtt.zone.Zones.parse(s.zone()), s);
        }
        writer = new StateWriter(new StateStore(config.dataDir()));
        bridge = new Bridge(config, registry, realChecker(config, clock), recorder, writer, null,
                new org.dnssec2mqtt.metrics.Metrics("test", List::of, Clock.systemUTC()));
        bridge.start();
        Published p = next();
        assertEquals(fresh.tag(), event(p, "ds_submit_ready").get("keytag"));
        assertEquals(due, event(p, "ds_submit_ready").get("ready_at"));
        bridge.recheck(ZONE).get(10, TimeUnit.SECONDS);
        assertFalse(types(next()).contains("ds_submit_ready"), "announced once");
    }

    @Test
    void knotsSignalsGoThroughTheListenerWithoutANotify() throws Exception {
        DemoZone zone = servedZone();
        Config config = config(""); // no servers anywhere: 127.0.0.1 at dns.query-port
        bridge(config, realChecker(config)).start();
        java.util.concurrent.atomic.AtomicInteger republished = new java.util.concurrent.atomic.AtomicInteger();
        KnotListener knot = new KnotListener(bridge, republished::incrementAndGet);
        assertEquals(java.util.Map.of("knot_dbus", "disconnected", "knot_dbus_problem", "not connected yet"),
                knot.onlineFields());

        knot.zoneUpdated(ZONE, zone.signed().serial());
        Published p = next();
        assertEquals(List.of("zone_added"), types(p));
        assertEquals("127.0.0.1:" + auth.port(), p.state().server());
        long queries = auth.queries();
        knot.zoneUpdated(ZONE, zone.signed().serial());
        assertEquals(1, bridge.skippedNotifies(), "the serial last checked costs no query, as for a NOTIFY");
        assertEquals(queries, auth.queries());

        knot.busState(org.dnssec2mqtt.signals.KnotSignals.CONNECTED, null);
        assertEquals(java.util.Map.of("knot_dbus", "connected"), knot.onlineFields());
        knot.busState(org.dnssec2mqtt.signals.KnotSignals.DISCONNECTED, "the bus closed it; retrying in 1s");
        assertEquals("the bus closed it; retrying in 1s", knot.onlineFields().get("knot_dbus_problem"));
        assertEquals(2, republished.get(), "each change republishes the bridge state");
    }

    @Test
    void knotsKskSubmissionCarriesTheDsOfThatKeyUntilTheParentServesIt() throws Exception {
        DemoZone zone = knownZoneWithNewKsk("", Clock.systemUTC());
        DemoZone.Key fresh = zone.keys().get(2);
        bridge.onKskSubmission(ZONE, fresh.tag(), "257fec", "knot");
        Published p = next();
        Event e = event(p, "ksk_submission");
        assertEquals(Event.HIGH, e.priority());
        assertEquals(fresh.tag(), e.get("keytag"));
        assertEquals(ds(fresh, org.xbill.DNS.DNSSEC.Digest.SHA256), e.get("ds_sha256"));
        assertEquals(ds(fresh, org.xbill.DNS.DNSSEC.Digest.SHA384), e.get("ds_sha384"));
        assertEquals("knot", e.get("source"));
        assertEquals(List.of(fresh.tag()), Payloads.zoneState(p.state()).get("ds_submission_pending"));

        // the parent serves the new DS: ds_seen, and nothing is pending any more
        auth.parentDs(ZONE, List.of(
                new org.xbill.DNS.DSRecord(ZONE, org.xbill.DNS.DClass.IN, 300, org.xbill.DNS.DNSSEC.Digest.SHA256, zone.keys().get(0).record()),
                new org.xbill.DNS.DSRecord(ZONE, org.xbill.DNS.DClass.IN, 300, org.xbill.DNS.DNSSEC.Digest.SHA256, fresh.record())));
        bridge.recheck(ZONE).get(10, TimeUnit.SECONDS);
        Published seen = next();
        assertEquals(fresh.tag(), event(seen, "ds_seen").get("keytag"));
        assertEquals(List.of(), Payloads.zoneState(seen.state()).get("ds_submission_pending"));
    }

    @Test
    void knotsFailedValidationIsTheZonesErrorUntilANewerSerialValidates() throws Exception {
        DemoZone zone = knownZoneWithNewKsk("", Clock.systemUTC());
        bridge.onSignerInvalid(ZONE, null, "knot");
        Published p = next();
        Event e = event(p, "dnssec_invalid");
        assertEquals(Event.HIGH, e.priority());
        assertEquals("error", p.state().status());
        assertTrue(p.state().problem().startsWith("Knot's DNSSEC validation of the zone failed"), p.state().problem());

        // the same serial still validating here says nothing about what Knot found
        bridge.recheck(ZONE).get(10, TimeUnit.SECONDS);
        Published same = next();
        assertFalse(types(same).contains("dnssec_valid"), types(same).toString());
        assertEquals("error", same.state().status());
        // said once while it lasts
        bridge.onSignerInvalid(ZONE, null, "knot");
        assertFalse(types(next()).contains("dnssec_invalid"));

        // a newer serial that validates: the all-clear
        zone.activate(zone.keys().get(2));
        bridge.onNotify(new NotifyRequest(ZONE, Type.SOA, null, InetAddress.getLoopbackAddress(), null));
        Published valid = next();
        assertEquals(Event.NORMAL, event(valid, "dnssec_valid").priority());
        assertFalse(valid.state().problem().contains("Knot"), valid.state().problem());
        assertFalse("error".equals(valid.state().status()), valid.state().problem());
    }

    @AfterEach
    void tearDown() {
        if (bridge != null) {
            bridge.close();
        }
        if (writer != null) {
            writer.close();
        }
        if (auth != null) {
            auth.close();
        }
    }

    Published next() throws InterruptedException {
        Published p = published.poll(10, TimeUnit.SECONDS);
        assertTrue(p != null, "nothing published");
        return p;
    }

    @Test
    void anUnexpectedFailureOfACheckIsTheZonesErrorStateSaidOnceInPlainWords() throws Exception {
        // issue 10 fault 3: a check that died of a runtime exception was logged with a stack trace at
        // every retry and the configured zone never got a state topic
        Config config = config("zones.flow.test.servers = 127.0.0.1:9\n");
        Checker broken = new Checker(config, null, Clock.systemUTC()) {
            @Override
            public Found check(TrackedZone z, boolean force, Runnable dnskeyFetched) {
                throw new java.nio.channels.UnresolvedAddressException();
            }
        };
        try (LogCapture log = LogCapture.start()) {
            bridge(config, broken).start();
            Published p = next();
            assertEquals("error", p.state().status());
            assertFalse(p.state().reachable());
            assertTrue(p.state().problem().contains("internal error while checking"), p.state().problem());
            assertFalse(p.state().problem().contains("Exception"), p.state().problem());
            assertEquals(List.of("zone_unreachable"), p.events().stream().map(Event::type).toList());
            String text = log.await("failed: internal error", Duration.ofSeconds(5));
            assertFalse(text.contains("\tat "), "no stack trace at WARN:\n" + text);
            eventually(() -> bridge.failures(ZONE) == 1, "the failure counts for the back-off");
        }
    }

    @Test
    void aNotifiedZoneIsCheckedPublishedOnceAndSaved() throws Exception {
        DemoZone zone = servedZone();
        Config config = config("");
        bridge(config, realChecker(config)).start();
        bridge.onNotify(new NotifyRequest(ZONE, Type.SOA, null, InetAddress.getLoopbackAddress(), null));
        Published p = next();
        assertEquals(List.of("zone_added"), p.events().stream().map(Event::type).toList());
        assertEquals(2, p.state().keys().size());
        StateStore store = new StateStore(config.dataDir());
        eventually(() -> writer.flush(Duration.ofSeconds(5)) && load(store) == 1, "the state is saved");
        // the same serial again: no query, nothing published
        long queries = auth.queries();
        bridge.onNotify(new NotifyRequest(ZONE, Type.SOA, p.state().serial(), InetAddress.getLoopbackAddress(), null));
        assertEquals(1, bridge.skippedNotifies());
        assertEquals(queries, auth.queries());
        // forget: cleared, deleted, and a check that was queued meanwhile publishes nothing
        assertNull(bridge.forget(ZONE));
        Published cleared = next();
        assertEquals("flow.test", cleared.cleared());
        eventually(() -> writer.flush(Duration.ofSeconds(5)) && load(store) == 0, "the state is deleted");
        assertEquals("unknown zone flow.test: nothing to forget", bridge.forget(ZONE));
    }

    static int load(StateStore store) {
        try {
            return store.loadAll().size();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Polls {@code condition} (the stages run on their own threads) for up to 5 s. */
    static void eventually(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(5); // polling another stage's counter: nothing to wait on
        }
    }

    @Test
    void aConfiguredZoneCannotBeForgotten() throws Exception {
        Config config = config("zones.flow.test.servers = 127.0.0.1:9\n");
        bridge(config, realChecker(config));
        assertEquals("flow.test is configured (zones.flow.test.*): remove it from the configuration to forget it",
                bridge.forget(ZONE));
    }
}
