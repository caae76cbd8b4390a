package org.dnssec2mqtt.flow;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.dnssec2mqtt.Serials;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.DnsQueryException;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyAnalyzer;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.RolloverTimer;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.Validator;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneSignals;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;

/**
 * One check of one zone: ask its servers (SOA only when the serial may not have moved, else SOA,
 * DNSKEY, CDS and CDNSKEY), evaluate what they said against what was known, and return what was
 * found. No MQTT, no disk: the caller publishes and persists.
 */
public class Checker {
    private static final Logger log = LoggerFactory.getLogger(Checker.class);

    /** What a check found. */
    public record Found(Kind kind, ZoneEvaluator.Outcome outcome, String error, long fetchNanos) {
        public Found(Kind kind, ZoneEvaluator.Outcome outcome, String error) {
            this(kind, outcome, error, 0);
        }

        /** The same, saying how long its servers took to answer (the rest of the check is evaluation). */
        Found fetched(long nanos) {
            return new Found(kind, outcome, error, nanos);
        }

        /** The zone state after the check; null when it has none. */
        public ZoneState state() {
            return outcome == null ? null : outcome.state();
        }
    }

    /**
     * FULL or QUICK: servers answered (outcome set); UNREACHABLE: none did (outcome set for zones
     * with a state, else null); UNTRUSTED: a learned zone's first answer did not validate;
     * NO_SERVER: nobody to ask; TIME: nobody was asked, what is known was evaluated against the
     * time ({@link #reevaluate}).
     */
    public enum Kind { FULL, QUICK, UNREACHABLE, UNTRUSTED, NO_SERVER, TIME }

    /** What a signer said about a zone; applied by the zone's next check ({@link #signal}). */
    public sealed interface Signal permits KskSubmission, SignerInvalid {}

    /** The signer asks for the DS of this KSK at the parent (Knot's {@code zone_ksk_submission}). */
    public record KskSubmission(int keytag, String keyId, String source) implements Signal {}

    /** The signer's own DNSSEC validation of the zone failed ({@code reason} nullable). */
    public record SignerInvalid(String reason, String source) implements Signal {}

    private final Config config;
    private final ZoneFetcher fetcher;
    private final Clock clock;
    private final ZoneEvaluator.Settings settings;
    private final QueryTarget resolver;
    private final Validator validator = new Validator();
    private final RolloverTimer rollover;
    /** Signals waiting for their zone's next check (the scheduler runs one check per zone at a time). */
    private final Map<TrackedZone, List<Signal>> signals = new ConcurrentHashMap<>();
    /** The newest serial a server announced (NOTIFY, a signer's signal) for a known zone, until its next check. */
    private final Map<TrackedZone, Long> announced = new ConcurrentHashMap<>();

    public Checker(Config config, ZoneFetcher fetcher, Clock clock) {
        this.config = config;
        this.fetcher = fetcher;
        this.clock = clock;
        this.settings = new ZoneEvaluator.Settings(config.rrsigWarnDays(), config.rrsigReminder(), config.pollStaleShare());
        this.resolver = config.dnsResolver() == null ? null : QueryTarget.unsigned(config.dnsResolver());
        this.rollover = new RolloverTimer(config.rolloverMargin());
    }

    /** The checker's clock (what rollover steps are timed by). */
    public Instant now() {
        return clock.instant();
    }

    /**
     * Keeps what a signer said for the zone's next check: a {@link SignerInvalid} is applied by
     * whatever runs next, a {@link KskSubmission} by the next full check (its DS comes from it).
     */
    public void signal(TrackedZone z, Signal s) {
        signals.merge(z, List.of(s), (a, b) -> {
            List<Signal> all = new ArrayList<>(a);
            all.addAll(b);
            return List.copyOf(all);
        });
    }

    /**
     * What is known of {@code z} evaluated again against the time, without a query: the rollover
     * steps that fell due, and the signer's signals. NO_SERVER when the zone has no state yet.
     */
    public Found reevaluate(TrackedZone z) {
        ZoneState s = z.state;
        if (s == null) {
            return new Found(Kind.NO_SERVER, null, "zone " + z.display + " has no state to evaluate yet");
        }
        return settle(z, s, new Found(Kind.TIME, new ZoneEvaluator.Outcome(s, List.of(), s.keys()), null), null);
    }

    /**
     * A server announced {@code serial} for {@code z} (a NOTIFY): when it is newer than the known
     * one, the next check skips the SOA-only look (the serial did move) and asks over UDP
     * ({@link ZoneFetcher#fetchJustChanged}: the server has just reloaded). When the SOA answered
     * is that serial, a change the check finds needs no second look ({@link #looksTorn}): a tear
     * with an older SOA is ruled out by the serial, and one with an older DNSKEY answer cannot
     * make a change up (which keys exist and which sign the DNSKEY RRset come from that answer,
     * unchanged then; which sign the SOA comes from the SOA, the announced version).
     */
    public void announced(TrackedZone z, long serial) {
        announced.merge(z, serial, (a, b) -> Serials.newer(b, a) ? b : a);
    }

    /**
     * Checks {@code z}. {@code force} fetches the keys even when no serial moved. Any failure
     * becomes a {@link Kind#UNREACHABLE} result saying what went wrong in plain words.
     *
     * @param dnskeyFetched called once when a full check starts (for the counters)
     */
    public Found check(TrackedZone z, boolean force, Runnable dnskeyFetched) {
        List<QueryTarget> targets = targets(z);
        if (targets.isEmpty()) {
            return new Found(Kind.NO_SERVER, null, "unknown zone " + z.display + ": no server to ask");
        }
        ZoneState s = z.state;
        Long said = announced.remove(z);
        boolean justChanged = said != null && s != null && Serials.newer(said, s.serial());
        if (!force && !justChanged && s != null && z.confirmed && s.reachable() && !z.adopted
                && !"bogus".equals(s.validation())) {
            Found quick = quick(z, s, targets);
            if (quick != null) {
                return quick;
            }
        }
        dnskeyFetched.run();
        return full(z, targets, false, justChanged ? said : null);
    }

    /**
     * SOA of every server; null when a full check is due: a serial moved, or a server is one the
     * last check did not ask (its keys were never compared: a server added to the configuration
     * or the NS RRset since).
     */
    private Found quick(TrackedZone z, ZoneState s, List<QueryTarget> targets) {
        Map<String, ServerState> prior = new HashMap<>();
        for (ServerState sv : s.servers()) {
            prior.put(sv.server(), sv);
        }
        for (QueryTarget t : targets) {
            if (!prior.containsKey(t.toString())) {
                return null;
            }
        }
        List<ServerState> servers = new ArrayList<>();
        DnsQueryException last = null;
        Instant now = clock.instant();
        for (QueryTarget t : targets) {
            try {
                long serial = fetcher.soa(z.name, t).soa().getSerial();
                if (Serials.newer(serial, s.serial())) {
                    return null;
                }
                ServerState p = prior.get(t.toString());
                boolean keysMatch = p.keysMatch();
                List<Integer> tags = p.keytags();
                servers.add(new ServerState(t.toString(), serial, "", tags, keysMatch,
                        serial != s.serial() || !keysMatch, now));
            } catch (DnsQueryException e) {
                last = e;
                servers.add(failedServer(t.toString(), e.reason(), now));
            }
        }
        if (last != null && servers.stream().noneMatch(ServerState::reachable)) {
            return unreachable(z, last.server(), last.reason(), servers);
        }
        return settle(z, s, new Found(Kind.QUICK, ZoneEvaluator.quick(s, servers, settings, now), null), null);
    }

    /**
     * SOA, DNSKEY, CDS and CDNSKEY of every server; the newest answer is the one trusted.
     *
     * @param again this is the second fetch of a check whose first one looked torn
     *     ({@link #looksTorn}): its answer is believed
     * @param announced the newer serial a server announced (asked over UDP then); null for none
     */
    private Found full(TrackedZone z, List<QueryTarget> targets, boolean again, Long announced) {
        boolean justChanged = announced != null;
        Config.ZoneConfig zc = config.zones().get(z.name);
        if (zc != null && zc.useNs()) {
            refreshNameServers(z, targets.get(0));
            targets = targets(z);
        }
        List<ZoneSnapshot> answers = new ArrayList<>();
        List<Object> byTarget = new ArrayList<>();
        DnsQueryException lastError = null;
        long fetchStart = System.nanoTime();
        for (QueryTarget t : targets) {
            try {
                ZoneSnapshot snap = fetch(z, t, justChanged);
                answers.add(snap);
                byTarget.add(snap);
            } catch (DnsQueryException e) {
                log.debug("check: zone={} server={} failed: {}", z.display, e.server(), e.reason());
                lastError = e;
                byTarget.add(e);
            }
        }
        Instant now = clock.instant();
        if (answers.isEmpty()) {
            List<ServerState> servers = new ArrayList<>();
            for (Object o : byTarget) {
                DnsQueryException e = (DnsQueryException) o;
                servers.add(failedServer(e.server(), e.reason(), now));
            }
            return unreachable(z, lastError.server(), lastError.reason(), servers);
        }
        ZoneSnapshot best = answers.get(0);
        for (ZoneSnapshot a : answers) {
            if (Serials.newer(a.serial(), best.serial())) {
                best = a;
            }
        }
        Set<String> bestKeys = rdata(best);
        List<ServerState> servers = new ArrayList<>();
        for (Object o : byTarget) {
            if (o instanceof ZoneSnapshot a) {
                boolean match = rdata(a).equals(bestKeys);
                List<Integer> tags = a.keys().stream().map(DNSKEYRecord::getFootprint).sorted().toList();
                servers.add(new ServerState(a.server(), a.serial(), "", tags, match,
                        a.serial() != best.serial() || !match, now));
            } else {
                DnsQueryException e = (DnsQueryException) o;
                servers.add(failedServer(e.server(), e.reason(), now));
            }
        }
        ZoneEvaluator.ParentDs parentDs = null;
        if (resolver != null && !best.keys().isEmpty()) {
            try {
                ZoneFetcher.DsAnswer ds = fetcher.ds(z.name, resolver);
                parentDs = new ZoneEvaluator.ParentDs(ds.records(), ds.validated());
            } catch (DnsQueryException e) {
                log.debug("check: zone={} no DS answer from {}: {}", z.display, resolver, e.reason());
            }
        }
        long fetching = System.nanoTime() - fetchStart;
        ZoneState before = z.state;
        boolean confirmed = z.confirmed;
        if (z.adopted && before == null) {
            before = adoptedState(z, best, now);
            confirmed = before != null;
        }
        ZoneEvaluator.Outcome o = ZoneEvaluator.full(before, confirmed,
                new ZoneEvaluator.Observation(best, servers, parentDs, z.display), settings, now, validator);
        if (!again && before != null && looksTorn(before.keys(), o.state().keys())
                && !(justChanged && best.serial() == announced)) {
            long lookAgain = System.nanoTime();
            boolean same = sameAnswersAgain(z, best, targets, justChanged);
            fetching += System.nanoTime() - lookAgain;
            if (!same) {
                log.debug("check: zone={} a key's role or state changed and the server's answers moved meanwhile;"
                        + " asking again before believing it", z.display);
                Found second = full(z, targets, true, announced);
                return second.fetched(second.fetchNanos() + fetching);
            }
        }
        if ("bogus".equals(o.state().validation()) && !z.confirmed && !z.configured) {
            // a learned zone whose first answer does not validate is not worth knowing yet
            return new Found(Kind.UNTRUSTED, null, best.server() + ": answer does not validate: " + o.state().problem());
        }
        boolean bogus = "bogus".equals(o.state().validation());
        return settle(z, z.state, new Found(Kind.FULL, o, null),
                parentDs == null || bogus ? null : parentDs.records()).fetched(fetching);
    }

    /** One server's answers; {@code justChanged}: it has just announced a newer serial (asked over UDP). */
    private ZoneSnapshot fetch(TrackedZone z, QueryTarget t, boolean justChanged) throws DnsQueryException {
        return justChanged ? fetcher.fetchJustChanged(z.name, t) : fetcher.fetch(z.name, t);
    }

    /**
     * The second look at a check that {@link #looksTorn}: the server of the answer believed asked
     * once more (its four queries at once, nothing else: no other server, no NS refresh, no parent
     * DS query). The same SOA and DNSKEY RRsets with the same signatures mean both came from one
     * version of the zone, whichever way a tear would pair an old and a new answer: the first
     * answer stands.
     */
    private boolean sameAnswersAgain(TrackedZone z, ZoneSnapshot best, List<QueryTarget> targets, boolean justChanged) {
        for (QueryTarget t : targets) {
            if (t.toString().equals(best.server())) {
                try {
                    ZoneSnapshot again = fetch(z, t, justChanged);
                    return again.serial() == best.serial()
                            && new java.util.HashSet<>(again.soaSigs()).equals(new java.util.HashSet<>(best.soaSigs()))
                            && rdata(again).equals(rdata(best))
                            && new java.util.HashSet<>(again.dnskeySigs()).equals(new java.util.HashSet<>(best.dnskeySigs()));
                } catch (DnsQueryException e) {
                    return false;
                }
            }
        }
        return false;
    }

    /**
     * Whether a key's role or state changed, or a new key stands by: what a torn read looks like.
     * A check's queries go out at once, on several connections; while a server reloads they can
     * meet its old and its new process (NSD forks a new one), so the SOA and its signatures may be
     * of one version and the DNSKEY RRset of the next. Whether a ZSK is active, and whether a KSK
     * is a CSK, is read from the SOA's signatures: a new ZSK would look standby, a removed one
     * would stay as standby, for one check. Such a change is asked again before it is believed
     * (one more fetch, only when it happens). Keys appearing, going or being revoked come from the
     * DNSKEY answer alone and need no second look.
     */
    static boolean looksTorn(List<KeyInfo> before, List<KeyInfo> after) {
        Map<String, KeyInfo> was = KeyInfo.byIdentity(before);
        for (KeyInfo k : after) {
            KeyInfo w = was.get(k.identity());
            if (w == null ? k.state() == KeyInfo.KeyState.STANDBY
                    : !k.revoked() && k.flags() == w.flags() && (k.role() != w.role() || k.state() != w.state())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The state an adopted zone had, as far as the broker's retained key topics tell: the keys of
     * this answer that match a retained key (tag and algorithm) keep its {@code first_seen}. Null
     * when none match (the zone is then new).
     */
    private ZoneState adoptedState(TrackedZone z, ZoneSnapshot answer, Instant now) {
        List<AdoptedKey> retained = z.adoptedKeys;
        List<KeyInfo> keys = new ArrayList<>();
        for (KeyInfo k : KeyAnalyzer.analyze(answer, List.of(), now)) {
            for (AdoptedKey a : retained) {
                if (a.keytag() == k.keytag() && a.algorithm() == k.algorithm() && a.firstSeen() != null) {
                    keys.add(withFirstSeen(k, a.firstSeen()));
                    break;
                }
            }
        }
        if (keys.isEmpty()) {
            return null;
        }
        Instant first = keys.stream().map(KeyInfo::firstSeen).min(Instant::compareTo).orElse(now);
        return new ZoneState(z.display, answer.serial(), answer.server(), first, first, true, "ok", "", keys,
                null, null, "ok", null, answer.soaExpire(), first, false, List.of(), List.of(), null, null,
                List.of());
    }

    private static KeyInfo withFirstSeen(KeyInfo k, Instant firstSeen) {
        return new KeyInfo(k.identity(), k.topicId(), k.dnskey(), k.zone(), k.keytag(), k.flags(), k.role(),
                k.state(), k.revoked(), k.originalKeytag(), k.algorithm(), k.algorithmName(), k.bits(), k.ttl(),
                k.dsSha256(), k.dsSha384(), firstSeen, k.cds(), k.dsAtParent(),
                k.addHolddownUntil() == null ? null : firstSeen.plus(java.time.Duration.ofDays(30)),
                k.revokedAt(), k.removeHolddownUntil());
    }

    /** Every server failed: keys are kept (a server being down retracts nothing). */
    private Found unreachable(TrackedZone z, String server, String reason, List<ServerState> servers) {
        if (z.state == null && !z.configured) {
            return new Found(Kind.UNREACHABLE, null, server + ": " + reason);
        }
        ZoneEvaluator.Outcome o = ZoneEvaluator.unreachable(z.display, z.state, server, reason, servers, clock.instant());
        return settle(z, z.state, new Found(Kind.UNREACHABLE, o, server + ": " + reason), null);
    }

    /**
     * A check that died of something unexpected: the zone's error state with a plain-words problem
     * (what the caller logs once with the cause).
     */
    public Found broken(TrackedZone z, String why) {
        String server = z.state != null && z.state.server() != null ? z.state.server() : "bridge";
        return unreachable(z, server, why, z.state == null ? List.of() : z.state.servers());
    }

    /**
     * What follows every check: the rollover steps ({@link RolloverTimer}, with the parent's DS when
     * this check asked for it), the DS submissions still pending, and the signer's signals, carried
     * from {@code before} and applied to the outcome's state and events.
     *
     * @param parentDs the parent's DS RRset as this check saw it; null when not asked (or bogus)
     */
    private Found settle(TrackedZone z, ZoneState before, Found f, List<DSRecord> parentDs) {
        ZoneEvaluator.Outcome o = f.outcome();
        if (o == null) {
            return f;
        }
        Instant now = f.kind() == Kind.TIME ? clock.instant() : o.state().checkedAt();
        ZoneState after = o.state();
        ZoneSignals was = before == null ? ZoneSignals.NONE : before.signals();
        List<Event> events = new ArrayList<>(o.events());
        RolloverTimer.Result r = rollover.evaluate(after.zone(), after.keys(), parentDs, was.rollover(), now);
        events.addAll(r.events());

        List<Integer> pending = new ArrayList<>();
        for (int tag : was.dsSubmissionPending()) {
            if (dsAwaited(after.keys(), tag)) {
                pending.add(tag);
            }
        }
        String invalid = was.signerInvalid();
        Long invalidSerial = was.signerInvalidSerial();
        if (invalid != null && f.kind() == Kind.FULL && "secure".equals(after.validation())
                && (invalidSerial == null || Serials.newer(after.serial(), invalidSerial))) {
            events.add(SignerEvents.valid(after, now));
            invalid = null;
            invalidSerial = null;
        }
        boolean newlyInvalid = false;
        List<Signal> applied = new ArrayList<>();
        for (Signal s : signals.getOrDefault(z, List.of())) {
            if (s instanceof SignerInvalid si) {
                applied.add(s);
                if (invalid == null) {
                    invalid = SignerEvents.problem(si);
                    invalidSerial = after.serial();
                    newlyInvalid = true;
                    events.add(SignerEvents.invalid(after, si, now));
                }
            } else if (s instanceof KskSubmission ks && f.kind() == Kind.FULL) {
                applied.add(s);
                KeyInfo k = sepKey(after.keys(), ks.keytag());
                events.add(SignerEvents.submission(after, ks, k, now));
                if (k != null && !Boolean.TRUE.equals(k.dsAtParent()) && !pending.contains(ks.keytag())) {
                    pending.add(ks.keytag());
                }
            }
        }
        if (!applied.isEmpty()) {
            signals.computeIfPresent(z, (k, v) -> {
                List<Signal> left = new ArrayList<>(v);
                left.removeIf(x -> applied.stream().anyMatch(a -> a == x));
                return left.isEmpty() ? null : List.copyOf(left);
            });
        }
        ZoneState out = after.withSignals(was.withRollover(r).withSigner(pending, invalid, invalidSerial));
        // the evaluator folds status and problem afresh (not a TIME run): the signer's finding goes first
        if (invalid != null && (f.kind() != Kind.TIME || newlyInvalid)) {
            out = out.withStatus("error", invalid + (out.problem().isEmpty() ? "" : "; " + out.problem()));
        }
        return new Found(f.kind(), new ZoneEvaluator.Outcome(out, events, o.keysBefore()), f.error());
    }

    /** The unrevoked SEP key with this tag; null when the zone does not serve it. */
    private static KeyInfo sepKey(List<KeyInfo> keys, int keytag) {
        for (KeyInfo k : keys) {
            if (k.keytag() == keytag && k.sep() && !k.revoked()) {
                return k;
            }
        }
        return null;
    }

    /** A DS asked for is still awaited while its key is served and the parent is not seen serving it. */
    private static boolean dsAwaited(List<KeyInfo> keys, int keytag) {
        KeyInfo k = sepKey(keys, keytag);
        return k != null && !Boolean.TRUE.equals(k.dsAtParent());
    }

    private static ServerState failedServer(String server, String reason, Instant now) {
        return new ServerState(server, 0, reason, List.of(), false, false, now);
    }

    /** zones.&lt;zone&gt;.use-ns: the addresses of the zone's NS RRset join its configured servers. */
    private void refreshNameServers(TrackedZone z, QueryTarget first) {
        try {
            List<HostPort> found = new ArrayList<>();
            for (String address : fetcher.nameServerAddresses(z.name, first, resolver)) {
                found.add(new HostPort(address, config.dnsQueryPort()));
            }
            if (!found.equals(z.nameServers)) {
                log.info("zone={} name servers: {}", z.display, found);
            }
            z.nameServers = List.copyOf(found);
        } catch (DnsQueryException e) {
            log.debug("zone={} NS RRset not available from {}: {}; keeping {}", z.display, first, e.reason(), z.nameServers);
        }
    }

    /** Keys' DNSKEY RDATA, TTLs ignored: what must be equal on every server (wire form: exact, no Base64 to make). */
    private static Set<String> rdata(ZoneSnapshot a) {
        Set<String> out = new HashSet<>();
        for (DNSKEYRecord k : a.keys()) {
            out.add(new String(k.rdataToWireCanonical(), java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        return out;
    }

    /** Who to ask: the configured servers (plus use-ns), else the NOTIFY's source, else dns.servers. */
    List<QueryTarget> targets(TrackedZone z) {
        Config.ZoneConfig zc = config.zones().get(z.name);
        List<HostPort> servers = zc != null && !zc.servers().isEmpty() ? zc.servers() : null;
        if (servers == null && z.learnedFrom != null) {
            return List.of(z.learnedFrom);
        }
        if (servers == null) {
            servers = config.dnsServers();
        }
        org.xbill.DNS.Name keyName = zc == null ? null : zc.tsigKey();
        List<QueryTarget> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<HostPort> all = new ArrayList<>(servers);
        all.addAll(z.nameServers);
        for (HostPort hp : all) {
            if (seen.add(hp.toString())) {
                out.add(new QueryTarget(hp, keyName, keyName == null ? null : config.tsigKeys().get(keyName)));
            }
        }
        return out;
    }
}
