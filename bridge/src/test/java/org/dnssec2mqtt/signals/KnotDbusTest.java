package org.dnssec2mqtt.signals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.types.UInt16;
import org.freedesktop.dbus.types.UInt32;
import org.junit.jupiter.api.Test;

/** Signal arguments as dbus-java decodes them from Knot 3.2.6 (types from its "sqs", "su", "s" signatures). */
class KnotDbusTest {
    private final RecordingListener listener = new RecordingListener();

    @Test
    void zoneUpdatedCarriesAnUnsigned32BitSerial() {
        // serials above 2^31 (RFC 1982 arithmetic wraps at 2^32) stay positive
        assertTrue(KnotDbus.dispatch("zone_updated", new Object[] {"Dbus.Test.", new UInt32(4294967295L)}, listener));
        assertEquals(List.of("updated dbus.test. 4294967295"), listener.drain());
    }

    @Test
    void kskSubmissionCarriesTagAndKnotsKeyId() {
        assertTrue(KnotDbus.dispatch("zone_ksk_submission",
                new Object[] {"dbus.test.", new UInt16(54579), "07d77d34fe9a51c9557d98ad328611f8d2aef916"}, listener));
        assertEquals(List.of("ksk dbus.test. 54579 07d77d34fe9a51c9557d98ad328611f8d2aef916"), listener.drain());
    }

    @Test
    void dnssecInvalidOnKnot32HasNoReasonAndLaterArgumentsBecomeTheReason() {
        assertTrue(KnotDbus.dispatch("zone_dnssec_invalid", new Object[] {"bad.test."}, listener));
        assertTrue(KnotDbus.dispatch("zone_dnssec_invalid", new Object[] {"bad.test.", "expired signature"}, listener));
        assertEquals(List.of("invalid bad.test. null", "invalid bad.test. expired signature"), listener.drain());
    }

    @Test
    void otherMembersAndMalformedArgumentsAreDroppedNotThrown() {
        assertFalse(KnotDbus.dispatch("started", new Object[0], listener));
        assertFalse(KnotDbus.dispatch("keys_updated", new Object[] {"dbus.test."}, listener));
        assertFalse(KnotDbus.dispatch("zone_updated", new Object[] {"dbus.test."}, listener));
        assertFalse(KnotDbus.dispatch("zone_updated", new Object[] {42, new UInt32(1)}, listener));
        assertFalse(KnotDbus.dispatch("zone_updated", new Object[] {"a..b", new UInt32(1)}, listener));
        assertFalse(KnotDbus.dispatch("zone_ksk_submission", new Object[] {"dbus.test.", "x", "id"}, listener));
        assertEquals(List.of(), listener.drain());
    }

    @Test
    void systemMeansDbusSystemBusAddressOrTheDefaultSocket() {
        assertEquals("unix:path=/tmp/x", KnotDbus.address("system", Map.of("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/tmp/x")));
        assertEquals(KnotDbus.DEFAULT_SYSTEM_BUS, KnotDbus.address("system", Map.of()));
        assertEquals(KnotDbus.DEFAULT_SYSTEM_BUS, KnotDbus.address("system", Map.of("DBUS_SYSTEM_BUS_ADDRESS", " ")));
        assertEquals("unix:abstract=foo", KnotDbus.address("unix:abstract=foo", Map.of()));
    }
}
