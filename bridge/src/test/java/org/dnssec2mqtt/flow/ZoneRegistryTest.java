package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Path;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;

class ZoneRegistryTest {
    static final QueryTarget PRIMARY = QueryTarget.unsigned(HostPort.parse("127.0.0.1", 53));

    @TempDir
    Path dir;

    ZoneRegistry registry() {
        return new ZoneRegistry(TestConfig.load(dir, "notify.listen = 127.0.0.1:0\nmqtt.url = tcp://127.0.0.1:1\n"));
    }

    static Name zone(String prefix, int i) {
        return Name.fromConstantString(prefix + i + ".example.");
    }

    /** Issue 11: 100,000 new zones NOTIFYed at once were cut at 20,000, and the primaries never resend. */
    @Test
    void aBurstOf100000NewZonesIsLearnedWhole() {
        ZoneRegistry r = registry();
        for (int i = 0; i < 100_000; i++) {
            assertNotNull(r.learn(zone("z", i), PRIMARY), "zone " + (i + 1) + " of 100,000 was not learned");
        }
        assertEquals(100_000, r.unconfirmed());
        assertEquals(100_000, r.learnedCount());
    }

    /** Junk names still stop at the cap; a confirmed zone or a forgotten one makes room again. */
    @Test
    void junkStopsAtTheCapUntilZonesAreConfirmedOrForgotten() {
        ZoneRegistry r = registry();
        TrackedZone first = null;
        TrackedZone second = null;
        for (int i = 0; i < ZoneRegistry.MAX_UNCONFIRMED; i++) {
            TrackedZone z = r.learn(zone("junk", i), PRIMARY);
            assertNotNull(z);
            first = first == null ? z : first;
            second = i == 1 ? z : second;
        }
        assertNull(r.learn(zone("more", 0), PRIMARY), "beyond the cap");
        assertEquals(ZoneRegistry.MAX_UNCONFIRMED, r.unconfirmed());
        assertNotNull(r.learn(zone("junk", 7), PRIMARY), "a zone already held is still found");

        r.confirm(first);
        assertNotNull(r.learn(zone("more", 1), PRIMARY), "room after a confirmation");
        assertNull(r.learn(zone("more", 2), PRIMARY));
        r.remove(second);
        assertNotNull(r.learn(zone("more", 3), PRIMARY), "room after a zone was forgotten");
        assertEquals(ZoneRegistry.MAX_UNCONFIRMED, r.unconfirmed());
    }

    /** A NOTIFY's target as the listener makes it: its own objects, the sender's address text made afresh. */
    static QueryTarget notifyFrom(String ip) {
        return QueryTarget.unsigned(new HostPort(new String(ip), 53));
    }

    /** Issue 11: thousands of zones NOTIFYed by one primary hold one target, not one each. */
    @Test
    void zonesLearnedFromOneSourceShareItsTarget() {
        ZoneRegistry r = registry();
        TrackedZone a = r.learn(zone("a", 0), notifyFrom("192.0.2.1"));
        TrackedZone b = r.learn(zone("b", 0), notifyFrom("192.0.2.1"));
        TrackedZone other = r.learn(zone("c", 0), notifyFrom("192.0.2.2"));
        assertEquals(notifyFrom("192.0.2.1"), a.learnedFrom);
        assertSame(a.learnedFrom, b.learnedFrom, "two zones from one source hold one target");
        assertEquals(notifyFrom("192.0.2.2"), other.learnedFrom, "another source, its own target");
        TrackedZone adopted = r.adopt(zone("d", 0), "192.0.2.1:53", java.util.List.of());
        assertSame(a.learnedFrom, adopted.learnedFrom, "a zone found on the broker shares it too");
        r.learn(zone("a", 0), notifyFrom("192.0.2.2"));
        assertSame(other.learnedFrom, a.learnedFrom, "a zone whose primary changed shares the new one's");

        // more distinct sources than are remembered: each zone still gets its own source, and sharing goes on
        for (int i = 0; i < ZoneRegistry.MAX_SHARED_TARGETS * 3; i++) {
            String ip = "10.0." + (i / 250) + "." + (i % 250 + 1);
            TrackedZone z = r.learn(zone("many", i), notifyFrom(ip));
            assertEquals(notifyFrom(ip), z.learnedFrom);
        }
        TrackedZone e = r.learn(zone("e", 0), notifyFrom("192.0.2.9"));
        TrackedZone f = r.learn(zone("f", 0), notifyFrom("192.0.2.9"));
        assertSame(e.learnedFrom, f.learnedFrom, "still shared after the map started again");
    }

    @Test
    void aZoneReadBackKeepsOneCopyOfItsName() {
        // issue 11: the tracked zone made its own copy of the name its state held (heap dump of
        // the bench's bridge: two copies a zone, ~63 bytes each)
        ZoneRegistry r = registry();
        org.xbill.DNS.Name name = zone("kept", 0);
        String read = new String(org.dnssec2mqtt.zone.Zones.display(name));
        org.dnssec2mqtt.zone.ZoneState s = new org.dnssec2mqtt.zone.ZoneState(read, 1, "192.0.2.1:53",
                java.time.Instant.EPOCH, java.time.Instant.EPOCH, true, "ok", "", java.util.List.of(), "secure",
                null, "ok", null, 0, null, false, null, null, null, null, java.util.List.of(), null, null);
        assertSame(read, r.restore(name, s).display);
    }
}
