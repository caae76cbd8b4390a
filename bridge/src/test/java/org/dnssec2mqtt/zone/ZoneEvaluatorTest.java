package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.mqtt.Json;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CDNSKEYRecord;
import org.xbill.DNS.CDSRecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;

class ZoneEvaluatorTest {
    static final Instant T0 = Signed.SIGNED_AT.plus(Duration.ofHours(1));
    static final ZoneEvaluator.Settings S = ZoneEvaluator.Settings.DEFAULTS;
    /** For tests that jump weeks ahead: staleness off, so it does not mix in. */
    static final ZoneEvaluator.Settings FRESH = new ZoneEvaluator.Settings(7, Duration.ofDays(1), 0);

    DemoZone zone = Signed.zone();
    DemoZone.Key ksk = zone.addKey(true, true);
    DemoZone.Key zsk = zone.addKey(false, true);

    static List<String> types(ZoneEvaluator.Outcome o) {
        return o.events().stream().map(Event::type).toList();
    }

    static ServerState server(String name, long serial, boolean match, boolean lagging) {
        return new ServerState(name, serial, "", List.of(), match, lagging, T0);
    }

    ZoneEvaluator.Outcome first(ZoneEvaluator.ParentDs ds) {
        return ZoneEvaluator.full(null, false, new ZoneEvaluator.Observation(Signed.snapshot(zone), List.of(), ds), S, T0);
    }

    ZoneEvaluator.Outcome next(ZoneState before, ZoneSnapshot answer, ZoneEvaluator.ParentDs ds, Instant at) {
        return ZoneEvaluator.full(before, true, new ZoneEvaluator.Observation(answer, List.of(), ds), S, at);
    }

    @Test
    void firstSightIsSecureAndOk() {
        ZoneEvaluator.Outcome o = first(null);
        assertEquals(List.of("zone_added"), types(o));
        assertEquals("secure", o.state().validation());
        assertEquals("ok", o.state().status(), o.state().problem());
        assertEquals(Signed.SIGNED_AT.plus(Duration.ofDays(30)), o.state().rrsigExpires());
    }

    @Test
    void theSignatureVerifiedAtTheLastCheckIsNotVerifiedAgainAfterARestart() {
        // issue 11: the memory of verified signatures was the checker's, lost at a restart and
        // bounded at 50,000: a restart, or a recheck of 100,000 zones, verified every zone again
        Validator before = new Validator();
        ZoneState s = ZoneEvaluator.full(null, false, new ZoneEvaluator.Observation(Signed.snapshot(zone), List.of(), null),
                S, T0, before).state();
        assertEquals(1, before.verifications());
        assertTrue(s.verified() != null, "the state keeps the signature that verified");
        Validator afterRestart = new Validator();
        ZoneState again = ZoneEvaluator.full(s, true, new ZoneEvaluator.Observation(Signed.snapshot(zone), List.of(), null),
                S, T0.plusSeconds(60), afterRestart).state();
        assertEquals("secure", again.validation());
        assertEquals(0, afterRestart.verifications(), "the same signature, verified before: no public-key operation");
        assertEquals(s.verified(), again.verified());
        ZoneState quick = ZoneEvaluator.quick(again, List.of(), S, T0.plusSeconds(120)).state();
        assertEquals(s.verified(), quick.verified(), "a quick check keeps it");
    }

    @Test
    void theStateAndItsKeysShareOneCopyOfTheZoneNameFromCheckToCheck() {
        // issue 11: with 100,000 zones each extra copy of the name is ~5 MiB of heap
        ZoneState s = first(null).state();
        for (KeyInfo k : s.keys()) {
            assertSame(s.zone(), k.zone());
        }
        ZoneState again = next(s, Signed.snapshot(zone), null, T0.plusSeconds(60)).state();
        assertSame(s.zone(), again.zone(), "a later check keeps the name it had");
        for (KeyInfo k : again.keys()) {
            assertSame(s.zone(), k.zone());
        }
    }

    @Test
    void aFirstCheckTakesTheNameTheBridgeHolds() {
        // issue 11: the tracked zone's name and its first state's were two copies (heap dump)
        String held = new String(Zones.display(Signed.snapshot(zone).zone()));
        ZoneState s = ZoneEvaluator.full(null, false,
                new ZoneEvaluator.Observation(Signed.snapshot(zone), List.of(), null, held), S, T0).state();
        assertSame(held, s.zone());
        for (KeyInfo k : s.keys()) {
            assertSame(held, k.zone());
        }
    }

    @Test
    void zonesShareOneCopyOfTheTextsTheyHoldAlike() {
        // issue 11: a copy of the server's host:port and of the empty error per zone was ~100 bytes
        // of each of 100,000 zones' heap (heap dump of the bench's bridge)
        ZoneState a = first(null).state();
        ZoneState b = next(a, Signed.snapshot(zone), null, T0.plusSeconds(60)).state();
        String server = new String(a.server());
        ServerState one = new ServerState(new String(server), 1, new String(""), List.of(), true, false, T0);
        ServerState two = new ServerState(new String(server), 1, new StringBuilder().toString(), List.of(), true, false, T0);
        assertSame(one.server(), two.server());
        assertSame(one.error(), two.error());
        assertSame(a.server(), b.server());
        ZoneState c = new ZoneState(a.zone(), a.serial(), new String(server), a.checkedAt(), a.changedAt(), true,
                new String("ok"), new String(""), a.keys(), new String("secure"), null, new String("ok"), null, 0,
                null, false, null, null, null, null, List.of(one), null, null);
        assertSame(a.server(), c.server());
        assertSame(a.status(), c.status());
        assertSame(a.problem(), c.problem());
        assertSame(one.server(), c.servers().get(0).server());
        // and of the key tags and sizes (beyond the JDK's shared 127), ~4 numbers of 16 bytes a zone
        ServerState tags1 = new ServerState(server, 1, "", List.of(Integer.valueOf(20179), Integer.valueOf(954)), true, false, T0);
        ServerState tags2 = new ServerState(server, 1, "", List.of(Integer.valueOf(20179), Integer.valueOf(954)), true, false, T0);
        assertSame(tags1.keytags().get(0), tags2.keytags().get(0));
        assertSame(tags1.keytags().get(1), tags2.keytags().get(1));
        KeyInfo k = a.keys().get(0);
        assertSame(k.bits(), first(null).state().keys().get(0).bits(), "the key size of each check");
    }

    @Test
    void bogusAnswerNeverRetractsKeysAndSaysSoOnce() {
        ZoneState s = first(null).state();
        ZoneSnapshot a = Signed.snapshot(zone);
        DemoZone other = Signed.zone();
        other.addKey(true, true);
        ZoneSnapshot spoofed = Signed.withSigs(Signed.withKeys(a, List.of(other.keys().get(0).record())),
                a.dnskeySigs(), a.soaSigs());
        ZoneEvaluator.Outcome o = next(s, spoofed, null, T0);
        assertEquals(List.of("dnskey_bogus"), types(o));
        assertEquals(s.keys(), o.state().keys(), "keys kept");
        assertEquals("error", o.state().status());
        assertEquals(List.of(), types(next(o.state(), spoofed, null, T0)), "said once");
        // fault 7: the all-clear, once, and the keys unchanged
        ZoneEvaluator.Outcome valid = next(o.state(), a, null, T0);
        assertEquals(List.of("dnskey_valid"), types(valid), "a good answer again");
        Event e = valid.events().get(0);
        assertEquals(Event.NORMAL, e.priority());
        assertEquals("127.0.0.1:53", e.get("server"));
        assertEquals("signed.test at 127.0.0.1:53 validates again", e.get("message"));
        assertEquals("ok", valid.state().status());
        assertEquals(List.of(), types(next(valid.state(), a, null, T0)), "said once");
    }

    /** Signatures past their validity period: the answer does not validate either; both conditions clear. */
    @Test
    void expiredSignaturesAreBogusUntilResignedAndBothClear() {
        ZoneState s = first(null).state();
        Instant late = Signed.SIGNED_AT.plus(Duration.ofDays(31));
        ZoneEvaluator.Outcome expired = ZoneEvaluator.full(s, true,
                new ZoneEvaluator.Observation(Signed.snapshot(zone), List.of(), null), FRESH, late);
        assertEquals(List.of("dnskey_bogus", "rrsig_expired"), types(expired));
        assertEquals(s.keys(), expired.state().keys(), "keys kept");
        DemoZone resigned = new DemoZone(Signed.ZONE, 200, java.time.Clock.fixed(late, java.time.ZoneOffset.UTC));
        resigned.addKey(true, true);
        resigned.addKey(false, true);
        ZoneEvaluator.Outcome ok = ZoneEvaluator.full(expired.state(), true,
                new ZoneEvaluator.Observation(Signed.snapshot(resigned), List.of(), null), FRESH, late);
        assertTrue(types(ok).containsAll(List.of("dnskey_valid", "rrsig_ok")), types(ok).toString());
        assertEquals("ok", ok.state().status(), ok.state().problem());
    }

    @Test
    void unreachableZoneRecoversOnceByFullOrQuickCheck() {
        ZoneState s = first(null).state();
        ZoneEvaluator.Outcome down = ZoneEvaluator.unreachable("signed.test", s, "127.0.0.1:53", "timeout after 5s",
                List.of(), T0);
        assertEquals(List.of("zone_unreachable"), types(down));
        assertEquals(Event.HIGH, down.events().get(0).priority());
        assertEquals(List.of(), types(ZoneEvaluator.unreachable("signed.test", down.state(), "127.0.0.1:53",
                "timeout after 5s", List.of(), T0)), "said once");
        ZoneEvaluator.Outcome quick = ZoneEvaluator.quick(down.state(), List.of(), S, T0);
        assertEquals(List.of("zone_recovered"), types(quick));
        assertEquals(Event.NORMAL, quick.events().get(0).priority());
        assertEquals(List.of("zone_recovered"), types(next(down.state(), Signed.snapshot(zone), null, T0)));
        // a configured zone whose very first check failed: known, and recovered
        ZoneEvaluator.Outcome never = ZoneEvaluator.unreachable("signed.test", null, "127.0.0.1:53", "refused",
                List.of(), T0);
        assertEquals(List.of("zone_unreachable"), types(never));
        assertEquals(List.of("zone_added", "zone_recovered"), types(ZoneEvaluator.full(never.state(), false,
                new ZoneEvaluator.Observation(Signed.snapshot(zone), List.of(), null), S, T0)));
    }

    /** A zone that drops its signatures while an expiry alert stands: nothing is left to expire. */
    @Test
    void expiryAlertClearsWhenTheZoneHasNoSignaturesLeft() {
        ZoneState s = first(null).state();
        Instant t = Signed.SIGNED_AT.plus(Duration.ofDays(24));
        ZoneEvaluator.Outcome warn = ZoneEvaluator.quick(s, List.of(), FRESH, t);
        assertEquals(List.of("rrsig_expiring"), types(warn));
        ZoneSnapshot unsigned = Signed.withSigs(Signed.withKeys(Signed.snapshot(zone), List.of()), List.of(), List.of());
        ZoneEvaluator.Outcome o = next(warn.state(), unsigned, null, t);
        assertTrue(types(o).contains("rrsig_ok"), types(o).toString());
        assertEquals("ok", o.state().rrsigAlert());
        assertEquals(List.of(), types(next(o.state(), unsigned, null, t)), "said once");
    }

    @Test
    void expiryWarnsRemindsExpiresAndClears() {
        ZoneState s = first(null).state();
        // 24 days later: 6 days left < rrsig.warn-days 7
        ZoneEvaluator.Outcome warn = ZoneEvaluator.quick(s, List.of(), FRESH, Signed.SIGNED_AT.plus(Duration.ofDays(24)));
        assertEquals(List.of("rrsig_expiring"), types(warn));
        assertEquals(6.0, warn.events().get(0).get("rrsig_days_left"));
        assertEquals(Event.HIGH, warn.events().get(0).priority());
        assertEquals("warning", warn.state().status());
        // 12 hours later: no repeat; a day later: a reminder
        Instant t1 = Signed.SIGNED_AT.plus(Duration.ofDays(24)).plus(Duration.ofHours(12));
        assertEquals(List.of(), types(ZoneEvaluator.quick(warn.state(), List.of(), FRESH, t1)));
        ZoneEvaluator.Outcome remind = ZoneEvaluator.quick(warn.state(), List.of(), FRESH, Signed.SIGNED_AT.plus(Duration.ofDays(25)));
        assertEquals(List.of("rrsig_expiring"), types(remind));
        assertEquals(true, remind.events().get(0).get("reminder"));
        // past the expiration: expired, error
        ZoneEvaluator.Outcome expired = ZoneEvaluator.quick(remind.state(), List.of(), FRESH, Signed.SIGNED_AT.plus(Duration.ofDays(31)));
        assertEquals(List.of("rrsig_expired"), types(expired));
        assertEquals("error", expired.state().status());
        // a signer that works again (here with fresh keys) brings fresh signatures: rrsig_ok
        DemoZone resigned = new DemoZone(Signed.ZONE, 200, java.time.Clock.fixed(Signed.SIGNED_AT.plus(Duration.ofDays(31)), java.time.ZoneOffset.UTC));
        resigned.addKey(true, true);
        resigned.addKey(false, true);
        ZoneEvaluator.Outcome ok = next(expired.state(), Signed.snapshot(resigned), null, Signed.SIGNED_AT.plus(Duration.ofDays(31)));
        assertTrue(types(ok).contains("rrsig_ok"), types(ok).toString());
    }

    @Test
    void signaturesShorterThanSoaExpireWarn() {
        // SOA expire of the demo zone is 14 days; at 17 days signed, 13 days are left: > 7, < 14
        ZoneEvaluator.Outcome o = ZoneEvaluator.quick(first(null).state(), List.of(), FRESH, Signed.SIGNED_AT.plus(Duration.ofDays(17)));
        assertEquals(List.of(), types(o));
        assertEquals("warning", o.state().status());
        assertTrue(o.state().problem().contains("sooner than the SOA expire (14.0 days)"), o.state().problem());
    }

    @Test
    void cdsAndCdnskeyMarkTheKeysTheyPointAt() {
        ZoneState s = first(null).state();
        DNSKEYRecord k = ksk.record();
        CDSRecord cds = new CDSRecord(k.getName(), DClass.IN, 300, DNSSEC.Digest.SHA256, k);
        ZoneEvaluator.Outcome o = next(s, Signed.snapshot(zone, List.of(cds), List.of()), null, T0);
        assertEquals(List.of("cds_changed"), types(o));
        assertEquals(List.of(ksk.tag()), o.events().get(0).get("cds_keytags"));
        assertTrue(o.state().keys().stream().filter(x -> x.keytag() == ksk.tag()).findFirst().orElseThrow().cds());
        assertFalse(o.state().keys().stream().filter(x -> x.keytag() == zsk.tag()).findFirst().orElseThrow().cds());

        CDNSKEYRecord delete = new CDNSKEYRecord(k.getName(), DClass.IN, 300, 0, 3, 0, new byte[] {0});
        ZoneEvaluator.Outcome del = next(o.state(), Signed.snapshot(zone, List.of(), List.of(delete)), null, T0);
        assertEquals(List.of("cds_changed"), types(del));
        assertEquals(true, del.events().get(0).get("cds_delete"));
    }

    @Test
    void parentDsIsMatchedMissingSeenGoneAndOrphaned() {
        DNSKEYRecord k = ksk.record();
        DSRecord ds = new DSRecord(k.getName(), DClass.IN, 3600, DNSSEC.Digest.SHA256, k);
        ZoneEvaluator.Outcome o = first(new ZoneEvaluator.ParentDs(List.of(ds), true));
        KeyInfo info = o.state().keys().stream().filter(x -> x.keytag() == ksk.tag()).findFirst().orElseThrow();
        assertEquals(Boolean.TRUE, info.dsAtParent());
        assertNull(o.state().keys().stream().filter(x -> x.keytag() == zsk.tag()).findFirst().orElseThrow().dsAtParent());
        assertEquals("ok", o.state().status(), o.state().problem());
        assertEquals(true, o.state().dsValidated());

        // the DS disappears: ds_gone and ds_missing (the KSK is active)
        ZoneEvaluator.Outcome gone = next(o.state(), Signed.snapshot(zone), new ZoneEvaluator.ParentDs(List.of(), false), T0);
        assertEquals(List.of("ds_gone", "ds_missing"), types(gone));
        assertEquals("warning", gone.state().status());

        // a DS for a key the zone does not have: ds_orphan, high; the only DS → error
        DemoZone other = Signed.zone();
        DSRecord stranger = new DSRecord(k.getName(), DClass.IN, 3600, DNSSEC.Digest.SHA256, other.addKey(true, true).record());
        ZoneEvaluator.Outcome orphan = next(gone.state(), Signed.snapshot(zone), new ZoneEvaluator.ParentDs(List.of(stranger), false), T0);
        assertEquals(List.of("ds_orphan"), types(orphan));
        assertEquals(Event.HIGH, orphan.events().get(0).priority());
        assertEquals("error", orphan.state().status());

        // both: the orphan stays (no new event), the key's DS is seen again
        ZoneEvaluator.Outcome both = next(orphan.state(), Signed.snapshot(zone), new ZoneEvaluator.ParentDs(List.of(stranger, ds), false), T0);
        assertEquals(List.of("ds_seen"), types(both));
        assertEquals("warning", both.state().status());

        // the parent drops the stranger: the orphan's all-clear, once
        ZoneEvaluator.Outcome cleared = next(both.state(), Signed.snapshot(zone), new ZoneEvaluator.ParentDs(List.of(ds), false), T0);
        assertEquals(List.of("ds_orphan_gone"), types(cleared));
        Event e = cleared.events().get(0);
        assertEquals(Event.NORMAL, e.priority());
        assertEquals(stranger.rdataToString(), e.get("ds"));
        assertEquals(stranger.getFootprint(), e.get("keytag"));
        assertEquals("the parent no longer has the DS " + stranger.rdataToString() + " that matched no key of signed.test",
                e.get("message"));
        assertEquals("ok", cleared.state().status(), cleared.state().problem());
        assertEquals(List.of(), types(next(cleared.state(), Signed.snapshot(zone), new ZoneEvaluator.ParentDs(List.of(ds), false), T0)));
    }

    @Test
    void laggingServerIsNamedOnceAndSyncedOnce() {
        ZoneState s = first(null).state();
        List<ServerState> lag = List.of(server("a:53", 101, true, false), server("b:53", 100, true, true));
        ZoneEvaluator.Outcome o = ZoneEvaluator.full(s, true, new ZoneEvaluator.Observation(Signed.snapshot(zone), lag, null), S, T0);
        assertEquals(List.of("server_lagging"), types(o));
        Event e = o.events().get(0);
        assertEquals("b:53", e.get("server"));
        assertEquals(100L, e.get("serial"));
        assertEquals(101L, e.get("expected_serial"));
        assertEquals("warning", o.state().status());
        assertEquals(List.of(), types(ZoneEvaluator.quick(o.state(), lag, S, T0)));
        List<ServerState> synced = List.of(server("a:53", 101, true, false), server("b:53", 101, true, false));
        assertEquals(List.of("server_synced"), types(ZoneEvaluator.quick(o.state(), synced, S, T0)));
    }

    /** A lagging server that goes quiet in between, or the whole zone down, still gets its all-clear. */
    @Test
    void laggingServerSyncsAfterBeingDownInBetween() {
        ZoneState s = first(null).state();
        List<ServerState> lag = List.of(server("a:53", 101, true, false), server("b:53", 100, true, true));
        ZoneEvaluator.Outcome o = ZoneEvaluator.quick(s, lag, S, T0);
        assertEquals(List.of("server_lagging"), types(o));
        List<ServerState> bDown = List.of(server("a:53", 101, true, false),
                new ServerState("b:53", 0, "timeout after 5s", List.of(), false, false, T0));
        ZoneEvaluator.Outcome quiet = ZoneEvaluator.quick(o.state(), bDown, S, T0);
        assertEquals(List.of(), types(quiet));
        List<ServerState> synced = List.of(server("a:53", 101, true, false), server("b:53", 101, true, false));
        assertEquals(List.of("server_synced"), types(ZoneEvaluator.quick(quiet.state(), synced, S, T0)));

        List<ServerState> allDown = List.of(new ServerState("a:53", 0, "refused", List.of(), false, false, T0),
                new ServerState("b:53", 0, "refused", List.of(), false, false, T0));
        ZoneEvaluator.Outcome down = ZoneEvaluator.unreachable("signed.test", o.state(), "b:53", "refused", allDown, T0);
        assertEquals(List.of("zone_unreachable"), types(down));
        assertEquals(List.of("zone_recovered", "server_synced"), types(ZoneEvaluator.quick(down.state(), synced, S, T0)));
    }

    /** A lagging server that leaves the zone's servers (config, NS RRset) lags no more. */
    @Test
    void laggingServerThatIsNoLongerAskedIsClearedOnce() {
        ZoneState s = first(null).state();
        ZoneEvaluator.Outcome o = ZoneEvaluator.quick(s,
                List.of(server("a:53", 101, true, false), server("b:53", 100, true, true)), S, T0);
        List<ServerState> onlyA = List.of(server("a:53", 101, true, false));
        ZoneEvaluator.Outcome left = ZoneEvaluator.quick(o.state(), onlyA, S, T0);
        assertEquals(List.of("server_synced"), types(left));
        assertEquals("b:53", left.events().get(0).get("server"));
        assertEquals("b:53 is no longer asked for signed.test (not among its servers any more)",
                left.events().get(0).get("message"));
        assertEquals(List.of(), types(ZoneEvaluator.quick(left.state(), onlyA, S, T0)));
    }

    /** Fault 4: RFC 1982 (one rule, {@code Serials}): 5 is newer than 4294967295, so the server at 4294967295 lags. */
    @Test
    void serialArithmeticWrapsNamingTheRightServerAsLagging() {
        DemoZone wrapped = new DemoZone(Signed.ZONE, 3, java.time.Clock.fixed(Signed.SIGNED_AT, java.time.ZoneOffset.UTC));
        wrapped.addKey(true, true);
        wrapped.addKey(false, true);
        ZoneSnapshot answer = Signed.snapshot(wrapped);
        assertEquals(5, answer.serial());
        // the flags as a checker comparing with max() would set them: the wrong way round
        List<ServerState> servers = List.of(server("a:53", 5, true, true), server("b:53", 4294967295L, true, false));
        ZoneEvaluator.Outcome o = ZoneEvaluator.full(null, false, new ZoneEvaluator.Observation(answer, servers, null), S, T0);
        assertEquals(List.of("zone_added", "server_lagging"), types(o));
        Event e = o.events().get(1);
        assertEquals("b:53", e.get("server"));
        assertEquals(4294967295L, e.get("serial"));
        assertEquals(5L, e.get("expected_serial"));
        assertEquals(List.of(false, true), o.state().servers().stream().map(ServerState::lagging).toList());
        assertTrue(o.state().problem().contains("server b:53 serves serial 4294967295 (expected 5)"), o.state().problem());
        // b catches up across the wrap: in sync again
        List<ServerState> synced = List.of(server("a:53", 5, true, false), server("b:53", 5, true, true));
        assertEquals(List.of("server_synced"), types(ZoneEvaluator.quick(o.state(), synced, S, T0)));
    }

    /** A server that does not answer (serial 0, which RFC 1982 finds newer than 3000000000) is down, not the newest. */
    @Test
    void aServerThatDoesNotAnswerIsNotTheNewest() {
        ZoneState s = first(null).state();
        List<ServerState> servers = List.of(server("a:53", 3000000000L, true, false),
                new ServerState("b:53", 0, "timeout after 5s", List.of(), false, false, T0));
        ZoneEvaluator.Outcome o = ZoneEvaluator.quick(s, servers, S, T0);
        assertEquals(List.of(), types(o));
        assertEquals("server b:53 does not answer (timeout after 5s)", o.state().problem());
    }

    @Test
    void staleWhenTheSerialDoesNotMoveForHalfTheSoaExpire() {
        ZoneState s = first(null).state();
        // SOA expire 14 days, share 0.5: stale after 7 days; the signatures (30 days) are fine
        assertEquals(List.of(), types(ZoneEvaluator.quick(s, List.of(), S, T0.plus(Duration.ofDays(6)))));
        ZoneEvaluator.Outcome o = ZoneEvaluator.quick(s, List.of(), S, T0.plus(Duration.ofDays(8)));
        assertEquals(List.of("zone_stale"), types(o));
        assertTrue(o.state().stale());
        assertEquals(List.of(), types(ZoneEvaluator.quick(o.state(), List.of(), S, T0.plus(Duration.ofDays(9)))));

        // a new serial: the all-clear, with the serial it moved to
        zone.addKey(false, false);
        Instant t = T0.plus(Duration.ofDays(9));
        ZoneEvaluator.Outcome fresh = next(o.state(), Signed.snapshot(zone), null, t);
        assertEquals(List.of("key_added", "zone_fresh"), types(fresh));
        Event e = fresh.events().get(1);
        assertEquals(Event.NORMAL, e.priority());
        assertEquals(zone.signed().serial(), e.get("serial"));
        assertEquals(t, e.get("serial_changed_at"));
        assertFalse(fresh.state().stale());
        assertEquals(List.of(), types(next(fresh.state(), Signed.snapshot(zone), null, t)));

        // staleness switched off (poll.stale-share = 0) while stale: cleared too, saying why
        ZoneEvaluator.Outcome off = ZoneEvaluator.quick(o.state(), List.of(), FRESH, T0.plus(Duration.ofDays(9)));
        assertEquals(List.of("zone_fresh"), types(off));
        assertTrue(((String) off.events().get(0).get("message")).contains("no longer counts as stale"),
                off.events().get(0).toString());
    }

    @Test
    void rfc5011TimelineIsFixedOnceSetAndSurvivesARestart() {
        ZoneState s = first(null).state();
        KeyInfo k = s.keys().stream().filter(x -> x.keytag() == ksk.tag()).findFirst().orElseThrow();
        assertEquals(T0.plus(Duration.ofDays(30)), k.addHolddownUntil());
        assertNull(k.revokedAt());
        zone.revoke(ksk);
        DemoZone.Key ksk2 = zone.addKey(true, true);
        assertTrue(ksk2.tag() > 0);
        Instant t1 = T0.plus(Duration.ofDays(3));
        ZoneState revoked = next(s, Signed.snapshot(zone), null, t1).state();
        // a restart: the state goes through its JSON form
        ZoneState reloaded = Json.GSON.fromJson(Json.GSON.toJson(revoked), ZoneState.class);
        assertEquals(revoked, reloaded);
        ZoneState later = next(reloaded, Signed.snapshot(zone), null, t1.plus(Duration.ofDays(2))).state();
        KeyInfo r = later.keys().stream().filter(KeyInfo::revoked).findFirst().orElseThrow();
        assertEquals(T0, r.firstSeen());
        assertEquals(T0.plus(Duration.ofDays(30)), r.addHolddownUntil());
        assertEquals(t1, r.revokedAt());
        assertEquals(t1.plus(Duration.ofDays(30)), r.removeHolddownUntil());
    }
}
