package org.dnssec2mqtt;

import java.time.Duration;
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
import org.dnssec2mqtt.zone.ZoneState;
import org.dnssec2mqtt.zone.Zones;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;

/**
 * The one flow, trigger → schedule → check → publish → persist, wired from its stages: the
 * {@link ZoneRegistry} (which zones), the {@link Scheduler} (when), the {@link Checker} (fetch and
 * evaluate), the {@link Publisher} (what subscribers see) and the {@link StateWriter} (the disk).
 * This class turns triggers (NOTIFY, Knot's signals, commands, polls, adoption) into scheduled
 * checks; {@link CheckJob} takes one check's outcome on to the publisher and the disk.
 */
public final class Bridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Bridge.class);
    static final int WORKERS = 16;

    private final Config config;
    private final ZoneRegistry registry;
    private final Checker checker;
    private final Publisher publisher;
    private final StateWriter writer;
    private final CheckJob job;
    private final Scheduler scheduler;
    private final Metrics metrics;
    private final AtomicLong skippedNotifies = new AtomicLong();
    private final AtomicLong capped = new AtomicLong();

    public Bridge(Config config, ZoneRegistry registry, Checker checker, Publisher publisher, StateWriter writer,
                  KeyLog keyLog, Metrics metrics) {
        this.metrics = metrics;
        this.config = config;
        this.registry = registry;
        this.checker = checker;
        this.publisher = publisher;
        this.writer = writer;
        this.job = new CheckJob(config, registry, checker, publisher, writer, keyLog, metrics);
        this.scheduler = new Scheduler(job::run, WORKERS, WORKERS / 4, WORKERS / 4);
        job.attach(scheduler);
    }

    /**
     * Start-up: a check of every known zone (its SOA serial; its keys when the serial moved while
     * the bridge was down, {@link Cause#STARTUP}), the SOA poll of each, and the periodic full poll.
     */
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
        return job.checks();
    }

    /** Checks that ended, their outcome published and queued for the disk. */
    public long completedChecks() {
        return job.completed();
    }

    public long dnskeyFetches() {
        return job.dnskeyFetches();
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
        if (serial != null && s != null) {
            checker.announced(z, serial);
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

    // ---- cluster roles ---------------------------------------------------------------------

    /** Another cluster node is active: checks end at once (triggers are still heard), nothing is published. */
    public void standby() {
        job.standby(true);
    }

    /**
     * This cluster node became the active one: a full check of every zone it knows (followed from
     * the active node, or learned from a NOTIFY heard while standing by).
     */
    public void activate() {
        job.standby(false);
        for (TrackedZone z : registry.all()) {
            scheduler.schedule(z, Cause.TAKEOVER, Scheduler.source(Cause.TAKEOVER));
        }
    }

    /**
     * Standing by: the active node's whole state of a zone ({@code state} null: the zone is gone
     * from the active node, forgotten). Kept as this node's own, on its disk too, so a takeover or
     * a restart starts from it.
     *
     * @param zoneLevel the zone's topic level, which names it when the state is gone
     */
    public void follow(String zoneLevel, ZoneState state) {
        if (state == null) {
            for (TrackedZone z : registry.all()) {
                if (!z.configured && org.dnssec2mqtt.mqtt.Topics.escape(z.display).equals(zoneLevel)) {
                    synchronized (z) {
                        registry.remove(z);
                        writer.delete(z.display);
                    }
                    log.info("cluster: zone={} was forgotten by the active node", z.display);
                }
            }
            return;
        }
        try {
            Name name = Zones.parse(state.zone());
            TrackedZone z = registry.restore(name, state);
            synchronized (z) {
                writer.save(state);
            }
        } catch (org.xbill.DNS.TextParseException e) {
            log.warn("cluster: the active node's state names '{}', which is not a zone name; ignored", state.zone());
        }
    }

    /** Every zone state the bridge holds. */
    public List<ZoneState> states() {
        return registry.states();
    }

    /** Stops checking; checks in flight get half a second to end. */
    @Override
    public void close() {
        job.stopping();
        scheduler.close(Duration.ofMillis(500));
    }
}
