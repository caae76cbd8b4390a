package org.dnssec2mqtt.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.mqtt.Payloads;
import org.junit.jupiter.api.Test;

/** Who is active, from the node topics alone: every node must reach the same answer. */
class ElectionTest {
    static final Instant T = Instant.parse("2026-12-02T10:00:00Z");

    static Election.Node standby(String n) {
        return new Election.Node(n, true, false, null);
    }

    static Election.Node active(String n, Instant since) {
        return new Election.Node(n, true, true, since);
    }

    static Election.Node offline(String n) {
        return new Election.Node(n, false, false, null);
    }

    @Test
    void withNobodyActiveTheLowestOnlineNameTakesIt() {
        assertTrue(Election.shouldBeActive("a", null, List.of(standby("b"), standby("c"))));
        assertFalse(Election.shouldBeActive("b", null, List.of(standby("a"), standby("c"))));
        assertFalse(Election.shouldBeActive("c", null, List.of(standby("a"), standby("b"))));
        // an offline lower name does not count
        assertTrue(Election.shouldBeActive("b", null, List.of(offline("a"), standby("c"))));
        assertTrue(Election.shouldBeActive("a", null, List.of()), "alone");
    }

    @Test
    void anActiveNodeStaysWhileItLivesEvenWhenALowerNameComesBack() {
        assertFalse(Election.shouldBeActive("a", null, List.of(active("b", T))), "a restarted a stands by");
        assertTrue(Election.shouldBeActive("b", T, List.of(standby("a"))));
    }

    @Test
    void ofTwoActivesTheOneActiveLongerStaysAndBothAgree() {
        Instant older = T;
        Instant newer = T.plusSeconds(3);
        // b became active first (a partition); a is lower but newer: a steps down, b stays
        assertFalse(Election.shouldBeActive("a", newer, List.of(active("b", older))));
        assertTrue(Election.shouldBeActive("b", older, List.of(active("a", newer))));
        // a tie: the lower name stays
        assertTrue(Election.shouldBeActive("a", T, List.of(active("b", T))));
        assertFalse(Election.shouldBeActive("b", T, List.of(active("a", T))));
    }

    @Test
    void aStandbyWaitsWhileAnotherNodesBridgeConnectionSaysOnline() {
        // a's node topic is gone (its cluster connection is down) but its bridge connection is up
        assertFalse(Election.shouldBeActive("b", null, List.of(offline("a")), "a"));
        assertFalse(Election.shouldBeActive("b", null, List.of(), "a"), "no node topic of a at all");
        assertTrue(Election.shouldBeActive("b", null, List.of(offline("a")), null), "a's bridge said offline");
        // a node that says it stands by again left an old online behind: its node topic wins
        assertTrue(Election.shouldBeActive("a", null, List.of(standby("b")), "b"));
        // this node's own old online, and an active node, are never held back by it
        assertTrue(Election.shouldBeActive("b", null, List.of(offline("a")), "b"));
        assertTrue(Election.shouldBeActive("b", T, List.of(offline("a")), "a"));
    }

    @Test
    void theBridgeStateNamesItsPublisherOnlyWhenOnline() {
        assertEquals("a", Membership.publisher(Payloads.online(Instant.now(), Map.of("node", "a"))));
        assertNull(Membership.publisher(Payloads.online(Instant.now())), "a bridge outside a cluster");
        assertNull(Membership.publisher(Payloads.offline()));
        assertNull(Membership.publisher(""));
        assertNull(Membership.publisher("not json"));
    }

    @Test
    void theNodeTopicPayloadParsesBack() {
        Election.Node n = Election.Node.parse("a", Payloads.node("a", true, true, T));
        assertEquals(active("a", T), n);
        assertEquals(standby("b"), Election.Node.parse("b", Payloads.node("b", true, false, null)));
        // a will says offline: never active, whatever else it says
        assertEquals(offline("c"), Election.Node.parse("c", Payloads.node("c", false, true, T)));
        assertNull(Election.Node.parse("d", "not json"));
        assertNull(Election.Node.parse("d", "[1]"));
    }
}
