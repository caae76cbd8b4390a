package org.dnssec2mqtt;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.flow.Cause;
import org.dnssec2mqtt.flow.Checker;
import org.dnssec2mqtt.flow.Publisher;
import org.dnssec2mqtt.flow.Scheduler;
import org.dnssec2mqtt.flow.StateWriter;
import org.dnssec2mqtt.flow.TrackedZone;
import org.dnssec2mqtt.flow.ZoneRegistry;
import org.dnssec2mqtt.metrics.Metrics;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.zone.ZoneEvaluator;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's job, one check of one zone through the rest of the flow: the {@link Checker}'s
 * finding becomes the zone's new state in the {@link ZoneRegistry}, goes to the {@link Publisher}
 * (events first, then the retained topics), then to the {@link StateWriter}; a learned zone that
 * never answers is forgotten; timers for the next poll and rollover step are set.
 */
final class CheckJob {
    private static final Logger log = LoggerFactory.getLogger(CheckJob.class);
    /** First checks of a learned zone before it is forgotten. */
    static final int LEARN_ATTEMPTS = 4;

    private final Config config;
    private final ZoneRegistry registry;
    private final Checker checker;
    private final Publisher publisher;
    private final StateWriter writer;
    private final KeyLog keyLog; // null unless keylog.file
    private final Metrics metrics;
    private final EventLog eventLog = new EventLog();
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong dnskeyFetches = new AtomicLong();
    private Scheduler scheduler;
    private volatile boolean closing;
    /** A cluster node standing by: another node checks and publishes; every job ends at once. */
    private volatile boolean standby;

    CheckJob(Config config, ZoneRegistry registry, Checker checker, Publisher publisher, StateWriter writer,
             KeyLog keyLog, Metrics metrics) {
        this.config = config;
        this.registry = registry;
        this.checker = checker;
        this.publisher = publisher;
        this.writer = writer;
        this.keyLog = keyLog;
        this.metrics = metrics;
    }

    /** The scheduler that runs this job (it sets the zones' poll and rollover timers). */
    void attach(Scheduler s) {
        this.scheduler = s;
    }

    /** From now on a check cut short is the shutdown's doing, not the zone's error. */
    void stopping() {
        closing = true;
    }

    /** Cluster mode: whether checks run on this node ({@code false}) or another node's ({@code true}). */
    void standby(boolean on) {
        standby = on;
    }

    long checks() {
        return checks.get();
    }

    long completed() {
        return completed.get();
    }

    long dnskeyFetches() {
        return dnskeyFetches.get();
    }

    /** The scheduler's job: check, then publish and persist what was found. */
    Scheduler.Result run(TrackedZone z, Cause cause, boolean force, int failures) {
        if (standby) {
            return new Scheduler.Result(z, Scheduler.Ending.SKIPPED, false, "this node stands by", z.state());
        }
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
                    // the stages of one check (bridge/docs/performance.md, "Where the time of one change goes")
                    log.debug("check: zone={} {}: fetch {} us, evaluate {} us, publish and save {} us", z.display,
                            f.kind().name().toLowerCase(java.util.Locale.ROOT), f.fetchNanos() / 1000,
                            (t1 - t0 - f.fetchNanos()) / 1000, (System.nanoTime() - t1) / 1000);
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
        eventLog.log(z.display, o.events());
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
                a.servers(), b.dnskeyRrsigExpires(), b.soaRrsigExpires(), b.signals(), b.verified());
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

}
