package org.dnssec2mqtt;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.NotifyRequest;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.flow.Cause;
import org.dnssec2mqtt.flow.Checker;
import org.dnssec2mqtt.flow.Publisher;
import org.dnssec2mqtt.flow.Scheduler;
import org.dnssec2mqtt.flow.StateWriter;
import org.dnssec2mqtt.flow.TrackedZone;
import org.dnssec2mqtt.flow.ZoneRegistry;
import org.dnssec2mqtt.metrics.Metrics;
import org.dnssec2mqtt.mqtt.MqttPublisher;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.zone.Event;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneState;
import org.dnssec2mqtt.zone.Zones;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;

/**
 * The one flow, trigger → schedule → check → publish → persist, wired from its stages: the
 * {@link ZoneRegistry} (which zones), the {@link Scheduler} (when), the {@link Checker} (fetch and
 * evaluate), the {@link Publisher} (what subscribers see) and the {@link StateWriter} (the disk).
 * This class only turns triggers into scheduled checks and one check's outcome into a publish
 * and a save.
 */
public final class Bridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Bridge.class);
    /** First checks of a learned zone before it is forgotten. */
    static final int LEARN_ATTEMPTS = 4;
    static final int WORKERS = 16;

    private final Config config;
    private final ZoneRegistry registry;
    private final Checker checker;
    private final Publisher publisher;
    private final StateWriter writer;
    private final KeyLog keyLog; // null unless keylog.file
    private final Scheduler scheduler;
    private final Metrics metrics;
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong dnskeyFetches = new AtomicLong();
    private final AtomicLong skippedNotifies = new AtomicLong();
    private final AtomicLong capped = new AtomicLong();
    private volatile boolean closing;

    public Bridge(Config config, ZoneRegistry registry, Checker checker, Publisher publisher, StateWriter writer,
                  KeyLog keyLog, Metrics metrics) {
        this.metrics = metrics;
        this.config = config;
        this.registry = registry;
        this.checker = checker;
        this.publisher = publisher;
        this.writer = writer;
        this.keyLog = keyLog;
        this.scheduler = new Scheduler(this::run, WORKERS, WORKERS / 4, WORKERS / 4);
    }

    /** Start-up: a full check of every known zone, the SOA poll of each, and the periodic full poll. */
    public void start() {
        for (TrackedZone z : registry.all()) {
            scheduler.schedule(z, Cause.STARTUP, Scheduler.source(Cause.STARTUP));
            if (z.confirmed() || z.configured) {
                scheduler.pollEvery(z, config.pollSoaInterval());
            }
        }
        scheduler.repeat(() -> {
            for (TrackedZone z : registry.checkable()) {
                scheduler.schedule(z, Cause.POLL, Scheduler.source(Cause.POLL));
            }
        }, config.pollFullInterval());
    }

    public ZoneRegistry registry() {
        return registry;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** Number of zones with a state (known to subscribers). */
    public int knownZones() {
        return registry.known();
    }

    public long checks() {
        return checks.get();
    }

    /** Checks that ended, their outcome published and queued for the disk. */
    public long completedChecks() {
        return completed.get();
    }

    public long dnskeyFetches() {
        return dnskeyFetches.get();
    }

    public long skippedNotifies() {
        return skippedNotifies.get();
    }

    /** Checks of {@code zone} that failed in a row; null when it is not tracked. */
    Integer failures(Name zone) {
        TrackedZone z = registry.get(zone);
        return z == null ? null : scheduler.failures(z);
    }

    // ---- triggers ------------------------------------------------------------------------

    /** An accepted NOTIFY (called on the listener's thread: must not block). */
    public void onNotify(NotifyRequest n) {
        String source = n.source().getHostAddress();
        trigger(n.zone(), n.serial(), QueryTarget.unsigned(new HostPort(source, config.dnsQueryPort())),
                "notify:" + source, "notify: zone={} source=" + source);
    }

    /**
     * A signer says the zone has a new serial without a NOTIFY (Knot's {@code zone_updated}): the
     * same as a NOTIFY from the signer's host. A zone not known yet is asked at its configured
     * servers, else {@code dns.servers}, else 127.0.0.1 at {@code dns.query-port} (the signer runs on
     * this host). Must not block.
     *
     * @param serial the new serial; null when not given
     * @param source who said so ({@code knot})
     */
    public void onSignal(Name zone, Long serial, String source) {
        trigger(zone, serial, signerTarget(), source, source + ": zone={}");
    }

    /**
     * A signer asks for the DS of a new KSK at the parent (Knot's {@code zone_ksk_submission}): a
     * full check, then {@code ksk_submission} with that key's DS as the check found it, and the
     * zone's {@code ds_submission_pending} until the parent serves it. Must not block.
     */
    public void onKskSubmission(Name zone, int keytag, String keyId, String source) {
        signal(zone, new Checker.KskSubmission(keytag, keyId, source), source);
    }

    /**
     * The signer's own DNSSEC validation of the zone failed (Knot's {@code zone_dnssec_invalid}):
     * {@code dnssec_invalid}, the zone in error until a full check of a newer serial validates
     * ({@code dnssec_valid}). Must not block.
     */
    public void onSignerInvalid(Name zone, String reason, String source) {
        signal(zone, new Checker.SignerInvalid(reason, source), source);
    }

    private void signal(Name zone, Checker.Signal signal, String source) {
        TrackedZone z = learn(zone, signerTarget(), source + ": zone={}");
        if (z != null) {
            checker.signal(z, signal);
            scheduler.schedule(z, Cause.SIGNAL, source);
        }
    }

    /** Where a zone a signer on this host tells of is asked when nothing configures it. */
    private QueryTarget signerTarget() {
        return config.dnsServers().isEmpty() ? QueryTarget.unsigned(new HostPort("127.0.0.1", config.dnsQueryPort()))
                : null; // Checker.targets: dns.servers
    }

    /** A new serial (or none known) for {@code zone}: a check, unless it is the serial last checked. */
    private void trigger(Name zone, Long serial, QueryTarget from, String source, String logPrefix) {
        TrackedZone z = learn(zone, from, logPrefix);
        if (z == null) {
            return;
        }
        ZoneState s = z.state();
        if (serial != null && s != null && z.confirmed() && s.reachable() && s.serial() == serial) {
            // contract: a NOTIFY for the serial we already checked costs no query at all
            skippedNotifies.incrementAndGet();
            return;
        }
        scheduler.schedule(z, Cause.NOTIFY, source);
    }

    /** The zone, learned if new; null (and a warning now and then) when too many are unconfirmed. */
    private TrackedZone learn(Name zone, QueryTarget from, String logPrefix) {
        TrackedZone z = registry.learn(zone, from);
        if (z == null) {
            long c = capped.incrementAndGet();
            if (c == 1 || c % 1000 == 0) {
                log.warn(logPrefix + " ignored: {} zones learned from NOTIFY are still unconfirmed"
                        + " ({} ignored so far); configure zones.<zone>.servers for large fleets",
                        Zones.display(zone), ZoneRegistry.MAX_UNCONFIRMED, c);
            }
        }
        return z;
    }

    /**
     * A requested check of one zone. A zone that is neither known nor has a server to ask
     * completes with an error and is not added.
     */
    public CompletableFuture<Scheduler.Result> recheck(Name zone) {
        TrackedZone z = registry.get(zone);
        if (z == null) {
            if (config.dnsServers().isEmpty()) {
                return CompletableFuture.completedFuture(new Scheduler.Result(null, Scheduler.Ending.GONE, false,
                        "unknown zone " + Zones.display(zone) + ": no server to ask", null));
            }
            z = registry.learn(zone, null);
            if (z == null) {
                return CompletableFuture.completedFuture(new Scheduler.Result(null, Scheduler.Ending.GONE, false,
                        "too many zones waiting for their first answer; try again later", null));
            }
        }
        return scheduler.schedule(z, Cause.COMMAND, Scheduler.source(Cause.COMMAND));
    }

    /** Checks of every known zone; each completes when its check ends. */
    public List<CompletableFuture<Scheduler.Result>> recheckAll() {
        List<CompletableFuture<Scheduler.Result>> all = new ArrayList<>();
        for (TrackedZone z : registry.checkable()) {
            all.add(scheduler.schedule(z, Cause.COMMAND, Scheduler.source(Cause.COMMAND)));
        }
        return all;
    }

    /**
     * Forgets a learned zone: its retained topics are cleared and its state deleted. Returns the
     * problem in plain words, or null when done.
     */
    public String forget(Name zone) {
        TrackedZone z = registry.get(zone);
        String display = Zones.display(zone);
        if (z != null && z.configured) {
            return display + " is configured (zones." + display + ".*): remove it from the configuration to forget it";
        }
        if (z == null) {
            return "unknown zone " + display + ": nothing to forget";
        }
        synchronized (z) { // no check of it can publish or save in between
            registry.remove(z);
            metrics.countZoneForgotten();
            publisher.clear(display);
            writer.delete(display);
        }
        log.info("zone={} forgotten on request: its retained topics are cleared and its state deleted", display);
        return null;
    }

    /** A zone the broker holds that the bridge has no state of: adopt it and check it, never wipe it. */
    public void adopt(MqttPublisher.Found f) {
        Name name;
        try {
            name = Zones.parse(f.zone());
        } catch (org.xbill.DNS.TextParseException e) {
            log.warn("mqtt: the broker holds topics of '{}', which is not a zone name; left as they are", f.zone());
            return;
        }
        TrackedZone z = registry.adopt(name, f.server(), f.keys());
        if (z == null) {
            log.warn("mqtt: zone={} found on the broker but not adopted: too many zones waiting for a first answer",
                    f.zone());
            return;
        }
        log.info("mqtt: zone={} found on the broker without a state in {}; adopting it and checking it",
                f.zone(), config.dataDir());
        scheduler.schedule(z, Cause.ADOPT, Scheduler.source(Cause.ADOPT));
    }

    /** Every zone state the bridge holds. */
    public List<ZoneState> states() {
        return registry.states();
    }

    // ---- one check ----------------------------------------------------------------------

    /** The scheduler's job: check, then publish and persist what was found. */
    private Scheduler.Result run(TrackedZone z, Cause cause, boolean force, int failures) {
        long t0 = System.nanoTime();
        Scheduler.Result r = null;
        try {
            r = cause == Cause.ROLLOVER && !force ? reevaluate(z) : check(z, force, failures);
            return r;
        } finally {
            completed.incrementAndGet();
            boolean ok = r != null && (r.ok() || r.ending() == Scheduler.Ending.SKIPPED);
            Metrics.CheckResult result = !ok ? Metrics.CheckResult.FAILED
                    : r.changed() ? Metrics.CheckResult.CHANGED : Metrics.CheckResult.OK;
            metrics.countCheck(Metrics.CheckCause.valueOf(cause.name()), result, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /** A rollover step fell due: what is known, evaluated again without a query. */
    private Scheduler.Result reevaluate(TrackedZone z) {
        Checker.Found f = checker.reevaluate(z);
        if (f.outcome() == null) {
            return new Scheduler.Result(z, Scheduler.Ending.SKIPPED, false, f.error(), z.state());
        }
        if (f.outcome().events().isEmpty() && f.state().equals(z.state())) {
            // not due yet after all (a timer may fire a little early): nothing to publish or save
            setRolloverTimer(z, f.state());
            return new Scheduler.Result(z, Scheduler.Ending.SKIPPED, false, null, f.state());
        }
        boolean changed = conclude(z, f.outcome());
        return new Scheduler.Result(z, Scheduler.Ending.SKIPPED, changed, null, f.state());
    }

    /** Sets the zone's rollover timer for the next step of {@code s}, or clears it. */
    private void setRolloverTimer(TrackedZone z, ZoneState s) {
        Instant due = s.signals().rolloverDue();
        if (due == null) {
            scheduler.notDue(z);
        } else {
            scheduler.dueIn(z, Duration.between(checker.now(), due));
        }
    }

    private Scheduler.Result check(TrackedZone z, boolean force, int failures) {
        checks.incrementAndGet();
        long t0 = System.nanoTime();
        Checker.Found f;
        try {
            f = checker.check(z, force, dnskeyFetches::incrementAndGet);
        } catch (RuntimeException e) {
            if (closing || jvmStopping()) {
                log.debug("check: zone={} cut short by the shutdown: {}", z.display, e.getMessage());
                return new Scheduler.Result(z, Scheduler.Ending.GONE, false, "the bridge is stopping", z.state());
            }
            String why = "internal error while checking (" + (e.getMessage() == null ? "no detail" : e.getMessage()) + ")";
            log.warn("check: zone={} failed: {}; retrying with back-off", z.display, why);
            log.debug("check: zone={} failed", z.display, e);
            f = checker.broken(z, why);
        }
        switch (f.kind()) {
            case NO_SERVER:
                return new Scheduler.Result(z, Scheduler.Ending.GONE, false, f.error(), z.state());
            case UNTRUSTED:
            case UNREACHABLE:
                if (f.outcome() == null) {
                    return learningFailed(z, f.error(), failures + 1);
                }
                conclude(z, f.outcome());
                return new Scheduler.Result(z, Scheduler.Ending.FAILED, false, f.error(), f.state());
            default:
                boolean trusted = !"bogus".equals(f.state().validation());
                if (trusted && !z.confirmed()) {
                    if (!z.configured) {
                        metrics.countZoneLearned();
                    }
                    registry.confirm(z);
                    scheduler.pollEvery(z, config.pollSoaInterval());
                }
                long t1 = System.nanoTime();
                boolean changed = conclude(z, f.outcome());
                if (log.isDebugEnabled()) {
                    log.debug("check: zone={} {}: fetch and evaluate {} us, publish {} us", z.display,
                            f.kind().name().toLowerCase(java.util.Locale.ROOT), (t1 - t0) / 1000,
                            (System.nanoTime() - t1) / 1000);
                }
                ZoneState s = f.state();
                return new Scheduler.Result(z, Scheduler.Ending.OK, changed, null, s);
        }
    }

    /** A learned zone that never answered: retried a few times, then forgotten with one log line. */
    private Scheduler.Result learningFailed(TrackedZone z, String why, int failures) {
        if (failures >= LEARN_ATTEMPTS && registry.remove(z)) {
            metrics.countZoneForgotten();
            log.warn("zone={} forgotten: learned from a NOTIFY but {} checks failed (last: {})", z.display, failures, why);
            return new Scheduler.Result(z, Scheduler.Ending.GONE, false, why, null);
        }
        return new Scheduler.Result(z, Scheduler.Ending.FAILED, false, why, null);
    }

    /** Publishes the outcome (events first, then the retained topics), then queues the save. True when events came. */
    private boolean conclude(TrackedZone z, ZoneEvaluator.Outcome o) {
        ZoneState before;
        ZoneState after = o.state();
        synchronized (z) {
            if (registry.get(z.name) != z) {
                return false; // forgotten while it was checked
            }
            before = z.state();
            registry.update(z, after);
            publisher.publish(after, o.events());
            setRolloverTimer(z, after);
        }
        for (Event e : o.events()) { // one line each: high-priority ones (problems) at WARN
            if (e.priority() == Event.HIGH) {
                log.warn("event: {} zone={} {}", e.type(), z.display, e.get("message"));
            } else {
                log.info("event: {} zone={} {}", e.type(), z.display, e.get("message"));
            }
        }
        if (before == null || !sameButCheckTime(before, after)) {
            writer.save(after);
        }
        if (keyLog != null && !o.events().isEmpty()) {
            try {
                keyLog.append(o.events(), o.keysBefore(), after.keys());
            } catch (IOException e) {
                log.warn("keylog: cannot append to {}: {}", config.keylogFile(), e.getMessage());
            }
        }
        return !o.events().isEmpty();
    }

    private static boolean sameButCheckTime(ZoneState a, ZoneState b) {
        ZoneState bAtA = new ZoneState(b.zone(), b.serial(), b.server(), a.checkedAt(), b.changedAt(), b.reachable(),
                b.status(), b.problem(), b.keys(), b.validation(), b.rrsigExpires(), b.rrsigAlert(), b.rrsigAlertedAt(),
                b.soaExpire(), b.serialChangedAt(), b.stale(), b.cds(), b.cdnskey(), b.parentDs(), b.dsValidated(),
                a.servers(), b.dnskeyRrsigExpires(), b.soaRrsigExpires(), b.signals());
        if (!bAtA.equals(a) || a.servers().size() != b.servers().size()) {
            return false;
        }
        for (int i = 0; i < a.servers().size(); i++) {
            if (!Payloads.server("", a.servers().get(i)).equals(Payloads.server("", b.servers().get(i)))) {
                return false;
            }
        }
        return true;
    }

    /** True once the JVM runs its shutdown hooks (dnsjava's own closes its selector under our checks). */
    private static boolean jvmStopping() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** Stops checking; checks in flight get half a second to end. */
    @Override
    public void close() {
        closing = true;
        scheduler.close(Duration.ofMillis(500));
    }
}
