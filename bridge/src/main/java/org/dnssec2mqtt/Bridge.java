package org.dnssec2mqtt;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.DnsQueryException;
import org.dnssec2mqtt.dns.NotifyRequest;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.mqtt.HomeAssistant;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.KeyInfo;
import org.dnssec2mqtt.zone.ServerState;
import org.dnssec2mqtt.zone.Validator;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.dnssec2mqtt.zone.ZoneState;
import org.dnssec2mqtt.zone.Zones;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/**
 * The one flow: trigger (NOTIFY, command, poll, start-up) → fetch → analyse → diff → publish →
 * persist. Each zone has at most one check in flight and one queued behind it, so a storm of
 * NOTIFYs costs two checks, not thousands; a NOTIFY whose serial equals the last full check's
 * costs nothing at all.
 */
public final class Bridge implements MqttLink.Session, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Bridge.class);
    /** Zones learned from NOTIFY that never answered yet; junk traffic must not grow memory. */
    static final int MAX_UNCONFIRMED = 20_000;
    /** First checks of a learned zone before it is forgotten. */
    static final int LEARN_ATTEMPTS = 4;
    static final Duration MAX_RETRY = Duration.ofMinutes(5);
    private static final int WORKERS = 16;

    private final Config config;
    private final Clock clock;
    private final Topics topics;
    private final ZoneFetcher fetcher;
    private final StateStore store;
    private final KeyLog keyLog;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
    private final Map<Name, Zone> zones = new ConcurrentHashMap<>();
    private final AtomicInteger unconfirmed = new AtomicInteger();
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong dnskeyFetches = new AtomicLong();
    private final AtomicLong skippedNotifies = new AtomicLong();
    private final AtomicLong capped = new AtomicLong();
    private final ZoneEvaluator.Settings settings;
    private final QueryTarget resolver;
    private final Validator validator = new Validator();
    private volatile MqttLink mqtt;
    private final HomeAssistant homeAssistant; // null unless homeassistant.enabled

    /** Why a check runs. {@code force} fetches DNSKEY even when the serial did not move. */
    public enum Cause {
        NOTIFY(false), COMMAND(true), POLL(true), SOA_POLL(false), STARTUP(true), RETRY(false);

        final boolean force;

        Cause(boolean force) {
            this.force = force;
        }
    }

    /** How one check ended. {@code state} is the zone's state after it (null if never known). */
    public record Result(Name zone, boolean ok, boolean changed, String error, ZoneState state) {}

    /** A tracked zone and its scheduling. Guarded by its own monitor. */
    private static final class Zone {
        final Name name;
        final String display;
        final boolean configured;
        volatile ZoneState state; // null until the first check ends (for learned zones: succeeds)
        volatile boolean confirmed; // a check has succeeded at least once
        volatile QueryTarget learnedFrom; // source of the latest accepted NOTIFY, at dns.query-port
        volatile List<HostPort> nameServers = List.of(); // zones.<zone>.use-ns: the NS RRset's addresses
        int failures;
        boolean pollScheduled;
        boolean retryPending;
        boolean running;
        boolean queued;
        boolean queuedForce;
        List<CompletableFuture<Result>> waiting = new ArrayList<>();
        List<CompletableFuture<Result>> queuedWaiting = new ArrayList<>();
        /** Held while the zone's state is replaced and its retained topics published. */
        final Object publishing = new Object();

        Zone(Name name, boolean configured) {
            this.name = name;
            this.display = Zones.display(name);
            this.configured = configured;
        }
    }

    public Bridge(Config config, Clock clock) throws IOException {
        this.config = config;
        this.clock = clock;
        this.topics = new Topics(config.mqttTopicPrefix());
        this.workers = Executors.newFixedThreadPool(WORKERS, daemon("check"));
        this.timers = Executors.newSingleThreadScheduledExecutor(daemon("timer"));
        this.fetcher = new ZoneFetcher(config.dnsTimeout(), config.dnsTcp(),
                Executors.newFixedThreadPool(2, daemon("dns-io")));
        this.store = new StateStore(config.dataDir());
        this.keyLog = config.keylogFile() == null ? null : new KeyLog(config.keylogFile());
        this.settings = new ZoneEvaluator.Settings(config.rrsigWarnDays(), config.rrsigReminder(), config.pollStaleShare());
        this.resolver = config.dnsResolver() == null ? null : QueryTarget.unsigned(config.dnsResolver());
        this.homeAssistant = config.homeassistantEnabled() ? new HomeAssistant(config.homeassistantPrefix(), topics, Main.VERSION) : null;
        for (Config.ZoneConfig z : config.zones().values()) {
            zones.put(z.zone(), new Zone(z.zone(), true));
        }
        for (ZoneState s : store.loadAll()) {
            Name name;
            try {
                name = Zones.parse(s.zone());
            } catch (TextParseException e) {
                log.error("state: zone '{}' in {} is not a valid name; ignored", s.zone(), store.dir());
                continue;
            }
            Zone z = zones.computeIfAbsent(name, n -> new Zone(n, false));
            z.state = s;
            z.confirmed = !s.keys().isEmpty() || s.reachable();
            if (!z.configured && s.server() != null) {
                // a learned zone is asked where its NOTIFYs came from; that is who answered last
                try {
                    z.learnedFrom = QueryTarget.unsigned(HostPort.parse(s.server(), config.dnsQueryPort()));
                } catch (IllegalArgumentException e) {
                    log.warn("state: zone={} has no usable server '{}'; waiting for its next NOTIFY", s.zone(), s.server());
                }
            }
        }
    }

    /** Attaches the MQTT link; call before {@link #start}. */
    public void attach(MqttLink link) {
        this.mqtt = link;
        if (homeAssistant != null) {
            link.subscribe(homeAssistant.statusTopic()); // its birth message asks for discovery again
        }
    }

    public Topics topics() {
        return topics;
    }

    /** Start-up: a full check of every known zone, then the periodic full poll. */
    public void start() {
        for (Zone z : zones.values()) {
            schedule(z, Cause.STARTUP);
            if (z.confirmed || z.configured) {
                schedulePoll(z);
            }
        }
        long every = config.pollFullInterval().toMillis();
        if (every > 0) {
            timers.scheduleAtFixedRate(this::pollAll, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /** Number of zones with a state (known to subscribers). */
    public int knownZones() {
        return (int) zones.values().stream().filter(z -> z.state != null).count();
    }

    public long checks() {
        return checks.get();
    }

    public long dnskeyFetches() {
        return dnskeyFetches.get();
    }

    public long skippedNotifies() {
        return skippedNotifies.get();
    }

    private void pollAll() {
        for (Zone z : zones.values()) {
            if (z.state != null || z.configured) {
                schedule(z, Cause.POLL);
            }
        }
    }

    // ---- triggers ------------------------------------------------------------------------

    /** An accepted NOTIFY (called on the listener thread: must not block). */
    public void onNotify(NotifyRequest n) {
        Zone z = zones.get(n.zone());
        if (z == null) {
            if (unconfirmed.get() >= MAX_UNCONFIRMED) {
                long n2 = capped.incrementAndGet();
                if (n2 == 1 || n2 % 1000 == 0) {
                    log.warn("notify: zone={} source={} ignored: {} zones learned from NOTIFY are still unconfirmed"
                            + " ({} ignored so far); configure zones.<zone>.servers for large fleets", n.zone(),
                            n.source().getHostAddress(), MAX_UNCONFIRMED, n2);
                }
                return;
            }
            Zone fresh = new Zone(n.zone(), false);
            z = zones.putIfAbsent(n.zone(), fresh);
            if (z == null) {
                z = fresh;
                unconfirmed.incrementAndGet();
                log.debug("notify: zone={} source={} not known yet; checking it", fresh.display,
                        n.source().getHostAddress());
            }
        }
        if (!z.configured) {
            z.learnedFrom = QueryTarget.unsigned(new HostPort(n.source().getHostAddress(), config.dnsQueryPort()));
        }
        ZoneState s = z.state;
        if (n.serial() != null && s != null && z.confirmed && s.reachable() && s.serial() == n.serial()) {
            // contract: a NOTIFY for the serial we already checked costs no query at all
            skippedNotifies.incrementAndGet();
            return;
        }
        schedule(z, Cause.NOTIFY);
    }

    /**
     * A requested check of one zone. A zone that is neither known nor has a server to ask
     * completes with an error and is not added.
     */
    public CompletableFuture<Result> recheck(Name zone) {
        Zone z = zones.get(zone);
        if (z == null) {
            if (config.dnsServers().isEmpty()) {
                return CompletableFuture.completedFuture(new Result(zone, false, false,
                        "unknown zone " + Zones.display(zone) + ": no server to ask", null));
            }
            Zone fresh = new Zone(zone, false);
            z = zones.putIfAbsent(zone, fresh);
            if (z == null) {
                z = fresh;
                unconfirmed.incrementAndGet();
            }
        }
        return schedule(z, Cause.COMMAND);
    }

    /** Checks of every known zone; completes when all have ended. */
    public List<CompletableFuture<Result>> recheckAll() {
        List<CompletableFuture<Result>> all = new ArrayList<>();
        for (Zone z : zones.values()) {
            if (z.state != null || z.configured) {
                all.add(schedule(z, Cause.COMMAND));
            }
        }
        return all;
    }

    private CompletableFuture<Result> schedule(Zone z, Cause cause) {
        CompletableFuture<Result> done = new CompletableFuture<>();
        boolean submit;
        synchronized (z) {
            if (z.running) {
                z.queued = true;
                z.queuedForce |= cause.force;
                z.queuedWaiting.add(done);
                submit = false;
            } else {
                z.running = true;
                z.waiting.add(done);
                submit = true;
            }
        }
        if (submit) {
            boolean force = cause.force;
            workers.execute(() -> run(z, force));
        }
        return done;
    }

    private void run(Zone z, boolean force) {
        Result result;
        try {
            result = check(z, force);
        } catch (RuntimeException e) {
            // the loop boundary: one zone's surprise must not stop the others
            log.error("check: zone={} failed unexpectedly", z.display, e);
            result = new Result(z.name, false, false, "internal error: " + e, z.state);
        }
        List<CompletableFuture<Result>> finished;
        boolean again;
        boolean againForce = false;
        synchronized (z) {
            finished = z.waiting;
            again = z.queued;
            if (again) {
                z.waiting = z.queuedWaiting;
                z.queuedWaiting = new ArrayList<>();
                againForce = z.queuedForce;
                z.queued = false;
                z.queuedForce = false;
            } else {
                z.waiting = new ArrayList<>();
                z.running = false;
            }
        }
        for (CompletableFuture<Result> f : finished) {
            f.complete(result);
        }
        if (again) {
            boolean f = againForce;
            workers.execute(() -> run(z, f));
        }
    }

    // ---- the check ----------------------------------------------------------------------

    private Result check(Zone z, boolean force) {
        checks.incrementAndGet();
        List<QueryTarget> targets = targets(z);
        if (targets.isEmpty()) {
            return new Result(z.name, false, false, "unknown zone " + z.display + ": no server to ask", z.state);
        }
        ZoneState s = z.state;
        if (!force && s != null && z.confirmed && s.reachable()) {
            Result quick = quickCheck(z, s, targets);
            if (quick != null) {
                return quick;
            }
        }
        return fullCheck(z, targets);
    }

    /**
     * Asks every server for the SOA only. Returns null when a serial moved (a full check is due).
     */
    private Result quickCheck(Zone z, ZoneState s, List<QueryTarget> targets) {
        Map<String, ServerState> prior = new HashMap<>();
        for (ServerState sv : s.servers()) {
            prior.put(sv.server(), sv);
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
                boolean keysMatch = p == null || p.keysMatch();
                List<Integer> tags = p == null ? List.of() : p.keytags();
                servers.add(new ServerState(t.toString(), serial, "", tags, keysMatch,
                        serial != s.serial() || !keysMatch, now));
            } catch (DnsQueryException e) {
                last = e;
                servers.add(new ServerState(t.toString(), 0, e.reason(), List.of(), false, false, now));
            }
        }
        if (last != null && servers.stream().noneMatch(ServerState::reachable)) {
            return failed(z, last, servers);
        }
        ZoneEvaluator.Outcome o = ZoneEvaluator.quick(s, servers, settings, now);
        return conclude(z, o);
    }

    /** Asks every server for SOA, DNSKEY, CDS and CDNSKEY; the newest answer is the one trusted. */
    private Result fullCheck(Zone z, List<QueryTarget> targets) {
        dnskeyFetches.incrementAndGet();
        Config.ZoneConfig zc = config.zones().get(z.name);
        if (zc != null && zc.useNs()) {
            refreshNameServers(z, targets.get(0));
            targets = targets(z);
        }
        long t0 = System.nanoTime();
        List<ZoneSnapshot> answers = new ArrayList<>();
        List<DnsQueryException> errors = new ArrayList<>();
        List<Object> byTarget = new ArrayList<>();
        for (QueryTarget t : targets) {
            try {
                ZoneSnapshot snap = fetcher.fetch(z.name, t);
                answers.add(snap);
                byTarget.add(snap);
            } catch (DnsQueryException e) {
                log.debug("check: zone={} server={} failed: {}", z.display, e.server(), e.reason());
                errors.add(e);
                byTarget.add(e);
            }
        }
        Instant now = clock.instant();
        if (answers.isEmpty()) {
            List<ServerState> servers = new ArrayList<>();
            for (DnsQueryException e : errors) {
                servers.add(new ServerState(e.server(), 0, e.reason(), List.of(), false, false, now));
            }
            return failed(z, errors.get(errors.size() - 1), servers);
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
                servers.add(new ServerState(e.server(), 0, e.reason(), List.of(), false, false, now));
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
        long t1 = System.nanoTime();
        ZoneEvaluator.Outcome o = ZoneEvaluator.full(z.state, z.confirmed,
                new ZoneEvaluator.Observation(best, servers, parentDs), settings, now, validator);
        long t2 = System.nanoTime();
        boolean trusted = !"bogus".equals(o.state().validation());
        if (!trusted && !z.confirmed && !z.configured) {
            // a learned zone whose first answer does not validate is not worth knowing yet
            return failed(z, new DnsQueryException(z.name, best.server(), "answer does not validate: "
                    + o.state().problem()), servers);
        }
        if (trusted && !z.confirmed) {
            z.confirmed = true;
            if (!z.configured) {
                unconfirmed.decrementAndGet();
            }
            schedulePoll(z);
        }
        Result r = conclude(z, o);
        if (log.isDebugEnabled()) {
            log.debug("check: zone={} full: fetch {} us, evaluate {} us, publish and save {} us", z.display,
                    (t1 - t0) / 1000, (t2 - t1) / 1000, (System.nanoTime() - t2) / 1000);
        }
        return r;
    }

    /** zones.<zone>.use-ns: the addresses of the zone's NS RRset join its configured servers. */
    private void refreshNameServers(Zone z, QueryTarget first) {
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

    /** Keys' DNSKEY RDATA, TTLs ignored: what must be equal on every server. */
    private static Set<String> rdata(ZoneSnapshot a) {
        Set<String> out = new HashSet<>();
        for (DNSKEYRecord k : a.keys()) {
            out.add(k.rdataToString());
        }
        return out;
    }

    private List<QueryTarget> targets(Zone z) {
        Config.ZoneConfig zc = config.zones().get(z.name);
        List<HostPort> servers = zc != null && !zc.servers().isEmpty() ? zc.servers() : null;
        if (servers == null && z.learnedFrom != null) {
            return List.of(z.learnedFrom);
        }
        if (servers == null) {
            servers = config.dnsServers();
        }
        Name keyName = zc == null ? null : zc.tsigKey();
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

    /** Persists what changed, then publishes keys, servers, state and events, in that order. */
    private Result conclude(Zone z, ZoneEvaluator.Outcome o) {
        ZoneState before;
        ZoneState after = o.state();
        // One lock per zone around "new state, its retained topics": a (re)connect republishing
        // the zone meanwhile would otherwise resend keys this check just cleared.
        synchronized (z.publishing) {
            before = z.state;
            z.state = after;
            // Publish first, then persist: subscribers should not wait on the disk. A crash in
            // between re-raises the same events at the next start, never loses them.
            publishKeys(after.zone(), o.keysBefore(), after.keys());
            publishServers(after.zone(), before == null ? List.of() : before.servers(), after.servers());
            publishState(after);
        }
        if (after.reachable()) {
            z.failures = 0;
        }
        for (Event e : o.events()) {
            publishEvent(e);
            log.info("event: {} zone={} {}", e.type(), z.display, e.get("message"));
        }
        if (before == null || !sameButCheckTime(before, after)) {
            save(after);
        }
        if (keyLog != null && !o.events().isEmpty()) {
            try {
                keyLog.append(o.events(), o.keysBefore(), after.keys());
            } catch (IOException e) {
                log.warn("keylog: cannot append to {}: {}", config.keylogFile(), e.getMessage());
            }
        }
        return new Result(z.name, after.reachable(), !o.events().isEmpty(),
                after.reachable() ? null : after.problem(), after);
    }

    private static boolean sameButCheckTime(ZoneState a, ZoneState b) {
        ZoneState bAtA = new ZoneState(b.zone(), b.serial(), b.server(), a.checkedAt(), b.changedAt(), b.reachable(),
                b.status(), b.problem(), b.keys(), b.validation(), b.rrsigExpires(), b.rrsigAlert(), b.rrsigAlertedAt(),
                b.soaExpire(), b.serialChangedAt(), b.stale(), b.cds(), b.cdnskey(), b.parentDs(), b.dsValidated(),
                a.servers());
        return bAtA.equals(a) && sameServers(a.servers(), b.servers());
    }

    private static boolean sameServers(List<ServerState> a, List<ServerState> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Payloads.server("", a.get(i)).equals(Payloads.server("", b.get(i)))) {
                return false;
            }
        }
        return true;
    }

    /** Every server failed: keys are kept (a server being down retracts nothing); say so once. */
    private Result failed(Zone z, DnsQueryException e, List<ServerState> servers) {
        String why = e.server() + ": " + e.reason();
        z.failures++;
        if (!z.confirmed && !z.configured) {
            if (z.failures >= LEARN_ATTEMPTS) {
                if (zones.remove(z.name, z)) {
                    unconfirmed.decrementAndGet();
                    MqttLink m = mqtt;
                    if (homeAssistant != null && m != null && z.state != null) { // a stored state made it known
                        homeAssistant.clear(z.state.zone(), m::retain);
                    }
                    log.warn("zone={} forgotten: learned from a NOTIFY but {} checks failed (last: {})",
                            z.display, z.failures, why);
                }
            } else {
                retryLater(z);
            }
            return new Result(z.name, false, false, why, null);
        }
        ZoneEvaluator.Outcome o = ZoneEvaluator.unreachable(z.display, z.state, e.server(), e.reason(), servers,
                clock.instant());
        if (!o.events().isEmpty()) {
            log.warn("event: zone_unreachable zone={} {}", z.display, why);
        }
        conclude(z, o);
        retryLater(z);
        return new Result(z.name, false, false, why, o.state());
    }

    /** Exponential back-off with jitter (2 s, 4 s, ... 5 min); one pending retry per zone at most. */
    private void retryLater(Zone z) {
        synchronized (z) {
            if (z.retryPending) {
                return;
            }
            z.retryPending = true;
        }
        long base = Math.min(MAX_RETRY.toMillis(), 2000L << Math.min(Math.max(z.failures, 1) - 1, 10));
        long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1); // jitter
        timers.schedule(() -> {
            synchronized (z) {
                z.retryPending = false;
            }
            if (zones.get(z.name) == z) {
                schedule(z, Cause.RETRY);
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Checks of {@code zone} that failed in a row (the back-off grows with it); null when not tracked. */
    Integer failures(Name zone) {
        Zone z = zones.get(zone);
        return z == null ? null : z.failures;
    }

    /** The SOA poll of one zone: every poll.soa-interval, jittered by up to 10%, until it is forgotten. */
    private void schedulePoll(Zone z) {
        long every = config.pollSoaInterval().toMillis();
        if (every <= 0) {
            return;
        }
        synchronized (z) {
            if (z.pollScheduled) {
                return;
            }
            z.pollScheduled = true;
        }
        long delay = every - every / 10 + ThreadLocalRandom.current().nextLong(every / 5 + 1);
        timers.schedule(() -> {
            synchronized (z) {
                z.pollScheduled = false;
            }
            if (zones.get(z.name) == z) {
                schedule(z, Cause.SOA_POLL);
                schedulePoll(z);
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void save(ZoneState s) {
        try {
            store.save(s);
        } catch (IOException e) {
            log.error("state: cannot write zone={} to {}: {}; the next change retries", s.zone(), store.dir(), e.getMessage());
        }
    }

    // ---- publishing ---------------------------------------------------------------------

    private void publishKeys(String zone, List<KeyInfo> before, List<KeyInfo> after) {
        MqttLink m = mqtt;
        if (m == null) {
            return;
        }
        Map<String, KeyInfo> old = new HashMap<>();
        for (KeyInfo k : before) {
            old.put(k.topicId(), k);
        }
        for (KeyInfo k : after) {
            KeyInfo was = old.remove(k.topicId());
            if (was == null || !Payloads.key(was).equals(Payloads.key(k))) {
                m.retain(topics.key(zone, k.topicId()), Json.object(Payloads.key(k)));
            }
        }
        for (KeyInfo gone : old.values()) {
            m.retain(topics.key(zone, gone.topicId()), ""); // an empty retained payload clears it
        }
    }

    private void publishServers(String zone, List<ServerState> before, List<ServerState> after) {
        MqttLink m = mqtt;
        if (m == null) {
            return;
        }
        Map<String, Map<String, Object>> old = new HashMap<>();
        for (ServerState sv : before) {
            old.put(sv.server(), Payloads.server(zone, sv));
        }
        for (ServerState sv : after) {
            Map<String, Object> payload = Payloads.server(zone, sv);
            if (!payload.equals(old.remove(sv.server()))) {
                m.retain(topics.server(zone, sv.server()), Json.object(payload));
            }
        }
        for (String gone : old.keySet()) {
            m.retain(topics.server(zone, gone), "");
        }
    }

    private void publishState(ZoneState s) {
        MqttLink m = mqtt;
        if (m != null) {
            if (homeAssistant != null) {
                homeAssistant.announce(s.zone(), m::retain); // once per zone and MQTT session
            }
            m.retain(topics.zoneState(s.zone()), Json.object(Payloads.zoneState(s)));
        }
    }

    private void publishEvent(Event e) {
        MqttLink m = mqtt;
        if (m != null) {
            m.send(topics.events(e.zone()), Json.object(Payloads.event(e)));
        }
    }

    // ---- MQTT session -------------------------------------------------------------------

    /** After every (re)connect: the full retained state of every known zone. */
    @Override
    public void connected() {
        MqttLink m = mqtt;
        int n = 0;
        if (homeAssistant != null) {
            homeAssistant.forgetAnnounced(); // publishState below announces every zone again
        }
        for (Zone z : zones.values()) {
            synchronized (z.publishing) {
                ZoneState s = z.state;
                if (s == null) {
                    continue;
                }
                for (KeyInfo k : s.keys()) {
                    m.retain(topics.key(s.zone(), k.topicId()), Json.object(Payloads.key(k)));
                }
                for (ServerState sv : s.servers()) {
                    m.retain(topics.server(s.zone(), sv.server()), Json.object(Payloads.server(s.zone(), sv)));
                }
                publishState(s);
                n++;
            }
        }
        log.info("mqtt: published the retained state of {} zones", n);
    }

    @Override
    public void request(String topic, byte[] payload) {
        if (homeAssistant != null && homeAssistant.isBirth(topic, payload)) { // Home Assistant (re)started
            homeAssistant.forgetAnnounced();
            zones.values().stream().map(z -> z.state).filter(s -> s != null).forEach(s -> homeAssistant.announce(s.zone(), mqtt::retain));
            return;
        }
        String command = topics.commandOf(topic);
        if (command == null) {
            return;
        }
        Commands.handle(this, command, payload);
    }

    /** Publishes a command response (used by {@link Commands}). */
    void respond(String command, Map<String, Object> response) {
        MqttLink m = mqtt;
        if (m != null) {
            m.send(topics.response(command), Json.object(response));
        }
    }

    @Override
    public void close() {
        timers.shutdownNow();
        workers.shutdownNow();
        try {
            workers.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
