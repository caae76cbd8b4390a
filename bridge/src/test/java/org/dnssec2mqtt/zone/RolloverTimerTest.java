package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.mqtt.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;

/**
 * Rollover timing on the d1.aa fixtures (BIND 9.18 keys; DNSKEY TTL 300 s, DS TTL 3600 s; DS
 * digests from dnssec-dsfromkey), with the clock pinned and a margin of one hour.
 */
class RolloverTimerTest {
    private static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");
    private static final Duration MARGIN = Duration.ofHours(1);
    private static final Duration DNSKEY_TTL = Duration.ofSeconds(300);
    private static final Duration DS_TTL = Duration.ofSeconds(3600);

    private final RolloverTimer timer = new RolloverTimer(MARGIN);
    private List<DNSKEYRecord> all;
    private DNSKEYRecord ksk;      // RSASHA256 KSK 20179
    private DNSKEYRecord zsk;      // ECDSAP256SHA256 ZSK 8510
    private DNSKEYRecord revoked;  // ECDSAP256SHA256 KSK 826, revoked: 954
    private DSRecord ds256;        // 20179 8 2 512A69...
    private RolloverRecord record = RolloverRecord.EMPTY;

    @BeforeEach
    void keys() throws Exception {
        all = Fixtures.keys("d1.aa.dnskey");
        ksk = Fixtures.key(all, 20179);
        zsk = Fixtures.key(all, 8510);
        revoked = Fixtures.key(all, 954);
        ds256 = Fixtures.records("d1.aa.ds").stream().filter(r -> r instanceof DSRecord).map(r -> (DSRecord) r)
                .filter(d -> d.getFootprint() == 20179 && d.getDigestID() == 2).findFirst().orElseThrow();
    }

    /** The keys as the bridge analyses them at {@code at}; earlier keys keep their first_seen. */
    private List<KeyInfo> analysed(List<KeyInfo> before, Instant at, DNSKEYRecord... served) {
        List<DNSKEYRecord> keys = List.of(served);
        List<DNSKEYRecord> ksks = keys.stream().filter(k -> (k.getFlags() & DNSKEYRecord.Flags.SEP_KEY) != 0).toList();
        return KeyAnalyzer.analyze(Fixtures.snapshot(keys, ksks, List.of(zsk)), before, at);
    }

    private RolloverTimer.Result run(List<KeyInfo> keys, List<DSRecord> parentDs, Instant at) {
        RolloverTimer.Result r = timer.evaluate("d1.aa", keys, parentDs, record, at);
        record = r.record();
        return r;
    }

    private static List<String> types(RolloverTimer.Result r) {
        return r.events().stream().map(Event::type).toList();
    }

    @Test
    void dsSubmitReadyOnceAfterTheDnskeyTtlPlusTheMargin() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        Instant due = T0.plus(DNSKEY_TTL).plus(MARGIN);

        RolloverTimer.Result first = run(keys, List.of(), T0);
        assertEquals(List.of(), first.events());
        assertEquals(due, first.nextDue());
        assertEquals(List.of(20179), first.awaitingDsSubmit());

        assertEquals(List.of(), run(keys, List.of(), due.minusSeconds(1)).events(), "not a second early");

        RolloverTimer.Result ready = run(keys, null, due);
        assertEquals(1, ready.events().size(), ready.events().toString());
        Event e = ready.events().get(0);
        assertEquals("ds_submit_ready", e.type());
        assertEquals(Event.HIGH, e.priority());
        assertEquals(20179, e.get("keytag"));
        // dnssec-dsfromkey -2 / -a SHA-384 (d1.aa.ds)
        assertEquals("20179 8 2 512A692D2F2EACE222D9E1E662E8933EC462F738462E60F4A9611F63651ED829", e.get("ds_sha256"));
        assertEquals("20179 8 4 E7622AFB70B9BDA9D91673E90C4D30DA5FC2CFCE7981084B2FA2A998BCA13B959BD87F0A9AAB33BC662C154B14A98170",
                e.get("ds_sha384"));
        assertEquals(due, e.get("ready_at"));
        assertEquals(due, e.get("at"));
        assertTrue(((String) e.get("message")).contains("submit DS 20179 8 2 512A692D"), e.toString());
        assertNull(ready.nextDue());
        assertEquals(List.of(), ready.awaitingDsSubmit());

        assertEquals(List.of(), run(keys, List.of(), due.plus(Duration.ofDays(3))).events(), "never twice");
    }

    @Test
    void dsPropagatedAfterTheDsTtlPlusTheMarginAndNoSubmitReadyOnceTheDsWasSeen() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        run(keys, List.of(), T0);
        Instant dsAt = T0.plusSeconds(120); // the DS shows up before ds_submit_ready was due
        RolloverTimer.Result seen = run(keys, List.of(ds256), dsAt);
        assertEquals(List.of(), seen.events());
        Instant due = dsAt.plus(DS_TTL).plus(MARGIN);
        assertEquals(due, seen.nextDue());
        assertEquals(List.of(20179), seen.awaitingDsPropagation());
        assertEquals(List.of(), seen.awaitingDsSubmit());

        // a caching resolver counts the TTL down; the timer keeps the largest TTL it saw
        DSRecord countedDown = new DSRecord(ds256.getName(), DClass.IN, 1200, ds256.getFootprint(),
                ds256.getAlgorithm(), ds256.getDigestID(), ds256.getDigest());
        assertEquals(List.of(), run(keys, List.of(countedDown), due.minusSeconds(1)).events());

        RolloverTimer.Result propagated = run(keys, null, due);
        assertEquals(List.of("ds_propagated"), types(propagated));
        Event e = propagated.events().get(0);
        assertEquals(Event.NORMAL, e.priority());
        assertEquals(20179, e.get("keytag"));
        assertEquals(due, e.get("propagated_at"));
        assertNull(propagated.nextDue());

        // the DS withdrawn later (the key is now the old KSK): no "submit DS" for it, ever
        RolloverTimer.Result withdrawn = run(keys, List.of(), due.plus(Duration.ofDays(30)));
        assertEquals(List.of(), withdrawn.events());
        assertEquals(List.of(), withdrawn.awaitingDsSubmit());
    }

    @Test
    void dnskeyPropagatedWhenARemovedKskHasBeenGoneForItsTtlPlusTheMargin() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        run(keys, List.of(ds256), T0);
        Instant removedAt = T0.plus(Duration.ofDays(2));
        List<KeyInfo> without = analysed(keys, removedAt, zsk);
        RolloverTimer.Result gone = run(without, List.of(ds256), removedAt);
        Instant due = removedAt.plus(DNSKEY_TTL).plus(MARGIN);
        assertEquals(List.of(), gone.events());
        assertEquals(List.of(20179), gone.awaitingDnskeyPropagation());
        assertEquals(due, gone.nextDue());

        assertEquals(List.of(), run(without, null, due.minusSeconds(1)).events());
        RolloverTimer.Result propagated = run(without, null, due);
        assertEquals(List.of("dnskey_propagated"), types(propagated));
        Event e = propagated.events().get(0);
        assertEquals(20179, e.get("keytag"));
        assertNull(e.get("original_keytag"));
        assertEquals(due, e.get("propagated_at"));
        assertTrue(((String) e.get("message")).contains("its DS at the parent may be removed"), e.toString());
        assertEquals(Map.of(), record.keys(), "announced departures are forgotten");
        assertEquals(List.of(), run(without, null, due.plus(Duration.ofDays(1))).events(), "never twice");
    }

    @Test
    void dnskeyPropagatedForARevokedKskNamesBothTags() {
        List<KeyInfo> keys = analysed(List.of(), T0, revoked, zsk);
        RolloverTimer.Result first = run(keys, List.of(), T0);
        assertEquals(List.of(), first.events());
        assertEquals(List.of(), first.awaitingDsSubmit(), "a revoked key never gets a DS");
        assertEquals(List.of(954), first.awaitingDnskeyPropagation());

        Instant due = T0.plus(DNSKEY_TTL).plus(MARGIN);
        RolloverTimer.Result propagated = run(analysed(keys, due, revoked, zsk), List.of(), due);
        assertEquals(List.of("dnskey_propagated"), types(propagated));
        assertEquals(954, propagated.events().get(0).get("keytag"));
        assertEquals(826, propagated.events().get(0).get("original_keytag"));
        assertTrue(((String) propagated.events().get(0).get("message")).contains("KSK 826 (revoked, now 954)"));

        // later removed for good: already announced, so nothing more
        Instant removed = due.plus(Duration.ofDays(31));
        assertEquals(List.of(), run(analysed(keys, removed, zsk), List.of(), removed).events());
        assertEquals(List.of(), run(analysed(keys, removed, zsk), List.of(), removed.plus(Duration.ofDays(1))).events());
    }

    @Test
    void withoutTheParentSideOnlyDnskeyPropagatedApplies() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        RolloverTimer.Result r = run(keys, null, T0);
        assertNull(r.nextDue());
        assertEquals(List.of(), run(keys, null, T0.plus(Duration.ofDays(10))).events());

        Instant removed = T0.plus(Duration.ofDays(11));
        run(analysed(keys, removed, zsk), null, removed);
        Instant due = removed.plus(DNSKEY_TTL).plus(MARGIN);
        assertEquals(List.of("dnskey_propagated"), types(run(analysed(keys, due, zsk), null, due)));
    }

    @Test
    void timersSurviveARestartThroughTheStateFile() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        run(keys, List.of(), T0);
        Instant dsAt = T0.plus(Duration.ofMinutes(10));
        run(keys, List.of(ds256), dsAt);  // the DS came before ds_submit_ready was due (T0 + 65 min)

        // the bridge restarts: the record comes back from JSON
        String json = Json.GSON.toJson(record);
        record = Json.GSON.fromJson(json, RolloverRecord.class);
        Instant due = dsAt.plus(DS_TTL).plus(MARGIN);
        RolloverTimer.Result after = run(keys, List.of(ds256), due.minusSeconds(1));
        assertEquals(List.of(), after.events(), json);
        assertEquals(due, after.nextDue(), "the DS's first sighting kept its time");
        assertEquals(List.of("ds_propagated"), types(run(keys, List.of(ds256), due)));

        record = Json.GSON.fromJson(Json.GSON.toJson(record), RolloverRecord.class);
        assertEquals(List.of(), run(keys, List.of(ds256), due.plus(Duration.ofHours(5))).events(), "not again after a restart");
    }

    @Test
    void aSha1DsCountsAsTheKeysByTagAndAlgorithm() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        DSRecord sha1 = new DSRecord(ksk.getName(), DClass.IN, 3600, DSRecord.Digest.SHA1, ksk);
        RolloverTimer.Result r = run(keys, List.of(sha1), T0);
        assertEquals(List.of(), r.awaitingDsSubmit());
        assertEquals(List.of(20179), r.awaitingDsPropagation());
    }

    @Test
    void anotherKeysDsDoesNotCount() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        DSRecord other = new DSRecord(ksk.getName(), DClass.IN, 3600, DSRecord.Digest.SHA256, Fixtures.key(all, 41542));
        Instant due = T0.plus(DNSKEY_TTL).plus(MARGIN);
        run(keys, List.of(other), T0);
        assertEquals(List.of("ds_submit_ready"), types(run(keys, List.of(other), due)));
    }

    @Test
    void aZeroMarginMeansExactlyTheTtl() {
        RolloverTimer noMargin = new RolloverTimer(Duration.ZERO);
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        RolloverRecord r = noMargin.evaluate("d1.aa", keys, List.of(), RolloverRecord.EMPTY, T0).record();
        RolloverTimer.Result ready = noMargin.evaluate("d1.aa", keys, List.of(), r, T0.plus(DNSKEY_TTL));
        assertEquals(List.of("ds_submit_ready"), types(ready));
    }

    @Test
    void zsksAreNotFollowed() {
        List<KeyInfo> keys = analysed(List.of(), T0, zsk);
        RolloverTimer.Result r = run(keys, List.of(), T0);
        assertNull(r.nextDue());
        assertEquals(Map.of(), r.record().keys());
    }

    @Test
    void eventPayloadsAreFlatJsonWithIsoTimes() {
        List<KeyInfo> keys = analysed(List.of(), T0, ksk, zsk);
        run(keys, List.of(), T0);
        Event e = run(keys, List.of(), T0.plus(Duration.ofDays(1))).events().get(0);
        String json = Json.object(e.fields());
        assertTrue(json.startsWith("{\"event\":\"ds_submit_ready\",\"zone\":\"d1.aa\",\"keytag\":20179,"), json);
        assertTrue(json.contains("\"ready_at\":\"2026-11-22T01:05:00Z\""), json);
        assertTrue(json.contains("\"priority\":1"), json);
    }
}
