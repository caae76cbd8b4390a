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
import java.util.concurrent.Executors;
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
        return new Checker(config, new ZoneFetcher(config.dnsTimeout(), config.dnsTcp(),
                Executors.newFixedThreadPool(2)), Clock.systemUTC());
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
        auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
        DemoZone zone = new DemoZone(ZONE, 2026112200, Clock.systemUTC());
        auth.add(zone);
        zone.addKey(true, true);
        zone.addKey(false, true);
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
