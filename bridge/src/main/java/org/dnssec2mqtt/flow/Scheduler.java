package org.dnssec2mqtt.flow;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When each zone's check runs. Per zone: at most one check in flight and one queued behind it
 * (a storm of triggers costs two checks, and the queued one carries every waiter and the
 * strongest {@link Cause#force}). Across zones: ready checks wait in one FIFO per source (a
 * NOTIFY's sender address, or the kind of trigger), and workers take them round robin. A source
 * holding {@link #perSourceLimit} workers gets more only while {@link #reserve} workers would still
 * stay idle: alone, a source may use most workers; a new source always finds idle ones, so one
 * source's flood (or its failing zones' retries) cannot delay another source's check. Failing zones
 * back off on timers; no worker waits for a retry.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    public static final Duration MAX_RETRY = Duration.ofMinutes(5);

    /** The work of one check; the scheduler only decides when it runs. */
    public interface Job {
        /**
         * @param failures checks of this zone that failed in a row before this one
         */
        Result run(TrackedZone zone, Cause cause, boolean force, int failures);
    }

    /** How a check ended, for waiters and for the back-off. */
    public record Result(TrackedZone zone, Ending ending, boolean changed, String error,
                         org.dnssec2mqtt.zone.ZoneState state) {
        public boolean ok() {
            return ending == Ending.OK;
        }
    }

    /**
     * OK resets the back-off; FAILED retries later; GONE: the zone was dropped, nothing follows;
     * SKIPPED: no server was asked ({@link Cause#ROLLOVER}), the back-off stays as it was.
     */
    public enum Ending { OK, FAILED, GONE, SKIPPED }

    /** One zone's scheduling, guarded by its own monitor. */
    private static final class Slot {
        boolean busy; // in flight or waiting for a worker
        boolean queued;
        boolean queuedForce;
        Cause queuedCause;
        String queuedSource;
        /** Who waits for the check in flight; {@link #NONE} (shared) until someone does. */
        List<CompletableFuture<Result>> waiting = NONE;
        /** Who waits for the queued check; {@link #NONE} until someone does. */
        List<CompletableFuture<Result>> queuedWaiting = NONE;
        int failures;
        boolean retryPending;
        boolean pollScheduled;
        java.util.concurrent.ScheduledFuture<?> due; // the zone's next rollover step
    }

    /** No waiters: one list for every idle zone (two lists a zone cost ~48 bytes, 100,000 zones ~5 MB). */
    private static final List<CompletableFuture<Result>> NONE = List.of();

    /** {@code list} with {@code f} added: a list of its own the first time. */
    private static List<CompletableFuture<Result>> with(List<CompletableFuture<Result>> list, CompletableFuture<Result> f) {
        List<CompletableFuture<Result>> l = list == NONE ? new ArrayList<>(2) : list;
        l.add(f);
        return l;
    }

    /** A check waiting for a worker; {@code since}: {@link System#nanoTime} when it was queued. */
    private record Ready(TrackedZone zone, Cause cause, boolean force, String source, long since) {}

    private final Job job;
    private final int perSourceLimit;
    private final int reserve;
    private final int workerCount;
    private int busy; // guarded by lock
    private final Map<TrackedZone, Slot> slots = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workAvailable = lock.newCondition();
    /** Guarded by {@link #lock}: ready checks per source, the sources in round-robin order, workers per source. */
    private final Map<String, ArrayDeque<Ready>> ready = new HashMap<>();
    private final ArrayDeque<String> ring = new ArrayDeque<>();
    private final Map<String, Integer> running = new HashMap<>();
    private int queuedTotal;
    private boolean closed;
    private final List<Thread> workers = new ArrayList<>();
    private final ScheduledExecutorService timers;
    private final LongSupplier random;

    /**
     * @param workers threads that run checks
     * @param perSourceLimit workers one source may always hold
     * @param reserve workers kept idle for other sources when a source wants more than its limit
     */
    public Scheduler(Job job, int workers, int perSourceLimit, int reserve) {
        this(job, workers, perSourceLimit, reserve, () -> ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
    }

    Scheduler(Job job, int workers, int perSourceLimit, int reserve, LongSupplier random) {
        this.job = job;
        this.perSourceLimit = Math.max(1, perSourceLimit);
        this.reserve = Math.max(0, reserve);
        this.workerCount = workers;
        this.random = random;
        java.util.concurrent.ScheduledThreadPoolExecutor timer = new java.util.concurrent.ScheduledThreadPoolExecutor(1, daemon("timer"));
        timer.setRemoveOnCancelPolicy(true); // rollover timers are replaced after every check: drop the old ones
        this.timers = timer;
        ThreadFactory f = daemon("check");
        for (int i = 0; i < workers; i++) {
            Thread t = f.newThread(this::work);
            this.workers.add(t);
            t.start();
        }
    }

    /** Source key of a trigger that is not a NOTIFY: the kind of trigger. */
    public static String source(Cause cause) {
        return switch (cause) {
            case POLL, SOA_POLL -> "poll";
            default -> cause.label();
        };
    }

    /** Runs a check of {@code z} soon; completes when the check that covers this request ends. */
    public CompletableFuture<Result> schedule(TrackedZone z, Cause cause, String source) {
        CompletableFuture<Result> done = new CompletableFuture<>();
        if (z.removed) {
            done.complete(new Result(z, Ending.GONE, false, "zone " + z.display + " is no longer tracked", null));
            return done;
        }
        Slot s = slots.computeIfAbsent(z, k -> new Slot());
        synchronized (s) {
            if (s.busy) {
                s.queued = true;
                s.queuedForce |= cause.force;
                if (s.queuedCause == null || s.queuedCause == Cause.ROLLOVER || cause.force) {
                    s.queuedCause = cause;
                    s.queuedSource = source;
                }
                s.queuedWaiting = with(s.queuedWaiting, done);
                return done;
            }
            s.busy = true;
            s.waiting = with(s.waiting, done);
        }
        offer(new Ready(z, cause, cause.force, source, System.nanoTime()));
        return done;
    }

    private void offer(Ready r) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            ArrayDeque<Ready> q = ready.computeIfAbsent(r.source(), k -> new ArrayDeque<>());
            if (q.isEmpty()) {
                ring.addLast(r.source());
            }
            q.addLast(r);
            queuedTotal++;
            workAvailable.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The next ready check, round robin over sources under their limit; null when closed. */
    private Ready take() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    return null;
                }
                for (int i = 0, n = ring.size(); i < n; i++) {
                    String source = ring.pollFirst();
                    ArrayDeque<Ready> q = ready.get(source);
                    boolean overLimit = running.getOrDefault(source, 0) >= perSourceLimit;
                    if (overLimit && workerCount - busy - 1 < reserve) {
                        ring.addLast(source);
                        continue;
                    }
                    Ready r = q.pollFirst();
                    queuedTotal--;
                    if (q.isEmpty()) {
                        ready.remove(source);
                    } else {
                        ring.addLast(source);
                    }
                    running.merge(source, 1, Integer::sum);
                    busy++;
                    return r;
                }
                workAvailable.await();
            }
        } finally {
            lock.unlock();
        }
    }

    private void release(String source) {
        lock.lock();
        try {
            running.computeIfPresent(source, (k, v) -> v == 1 ? null : v - 1);
            busy--;
            workAvailable.signalAll(); // a source held back by the reserve may go now
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        while (true) {
            Ready r;
            try {
                r = take();
            } catch (InterruptedException e) {
                return;
            }
            if (r == null) {
                return;
            }
            try {
                run(r);
            } finally {
                release(r.source());
            }
        }
    }

    private void run(Ready r) {
        TrackedZone z = r.zone();
        Slot s = slots.get(z);
        int failures;
        synchronized (s) {
            failures = s.failures;
        }
        Result result;
        if (z.removed) {
            result = new Result(z, Ending.GONE, false, "zone " + z.display + " is no longer tracked", null);
        } else {
            if (log.isDebugEnabled()) {
                // with the check's own line (fetch, evaluate, publish): where a trigger's time goes
                log.debug("check: zone={} cause={} waited {} us for a worker", z.display, r.cause().label(),
                        (System.nanoTime() - r.since()) / 1000);
            }
            try {
                result = job.run(z, r.cause(), r.force(), failures);
            } catch (Throwable t) { // the loop boundary: whatever happens, the zone is not left "running"
                log.error("check: zone={} ended abnormally: {}", z.display, String.valueOf(t.getMessage()));
                log.debug("check: zone={} ended abnormally", z.display, t);
                result = new Result(z, Ending.FAILED, false, "the check ended abnormally; see the bridge's log", z.state);
            }
        }
        finish(z, s, result);
    }

    private void finish(TrackedZone z, Slot s, Result result) {
        List<CompletableFuture<Result>> finished;
        Ready again = null;
        boolean retry = false;
        synchronized (s) {
            if (result.ending() == Ending.OK) {
                s.failures = 0;
            } else if (result.ending() == Ending.FAILED) {
                s.failures++;
                retry = !s.retryPending;
                s.retryPending = true;
            }
            finished = s.waiting;
            if (s.queued && !z.removed) {
                s.waiting = s.queuedWaiting;
                again = new Ready(z, s.queuedCause, s.queuedForce, s.queuedSource, System.nanoTime());
            } else {
                s.waiting = NONE;
                if (!s.queuedWaiting.isEmpty()) { // queued for a zone removed meanwhile
                    finished = new ArrayList<>(finished);
                    finished.addAll(s.queuedWaiting);
                }
                s.busy = false;
            }
            s.queuedWaiting = NONE;
            s.queued = false;
            s.queuedForce = false;
            s.queuedCause = null;
            s.queuedSource = null;
        }
        if (z.removed && again == null) {
            slots.remove(z, s);
            retry = false;
        }
        if (again != null) {
            offer(again);
        }
        if (retry) {
            retryLater(z, s);
        }
        for (CompletableFuture<Result> f : finished) {
            f.complete(result);
        }
    }

    /** Checks of the zone that failed in a row; 0 when it is not scheduled at all. */
    public int failures(TrackedZone z) {
        Slot s = slots.get(z);
        if (s == null) {
            return 0;
        }
        synchronized (s) {
            return s.failures;
        }
    }

    /** Exponential back-off with jitter (2 s, 4 s, ... 5 min) on the timer thread. */
    private void retryLater(TrackedZone z, Slot s) {
        int failures;
        synchronized (s) {
            failures = s.failures;
        }
        long base = Math.min(MAX_RETRY.toMillis(), 2000L << Math.min(Math.max(failures, 1) - 1, 10));
        long delay = base / 2 + random.getAsLong() % (base / 2 + 1);
        submitTimer(() -> {
            synchronized (s) {
                s.retryPending = false;
            }
            if (!z.removed) {
                schedule(z, Cause.RETRY, source(Cause.RETRY));
            }
        }, delay);
    }

    /** The SOA poll of one zone: every {@code every}, jittered by up to 10%, until it is removed. */
    public void pollEvery(TrackedZone z, Duration every) {
        long ms = every.toMillis();
        if (ms <= 0 || z.removed) {
            return;
        }
        Slot s = slots.computeIfAbsent(z, k -> new Slot());
        synchronized (s) {
            if (s.pollScheduled) {
                return;
            }
            s.pollScheduled = true;
        }
        long delay = ms - ms / 10 + random.getAsLong() % (ms / 5 + 1);
        submitTimer(() -> {
            synchronized (s) {
                s.pollScheduled = false;
            }
            if (!z.removed) {
                schedule(z, Cause.SOA_POLL, source(Cause.SOA_POLL));
                pollEvery(z, every);
            }
        }, delay);
    }

    /**
     * A {@link Cause#ROLLOVER} run of {@code z} after {@code delay}: the zone's one rollover timer,
     * replacing the one set before (each run sets it afresh from what it found).
     */
    public void dueIn(TrackedZone z, Duration delay) {
        if (z.removed) {
            return;
        }
        Slot s = slots.computeIfAbsent(z, k -> new Slot());
        long ms = Math.max(0, (delay.toNanos() + 999_999) / 1_000_000); // never before the step is due
        synchronized (s) {
            if (s.due != null) {
                if (!s.due.isDone() && Math.abs(s.due.getDelay(TimeUnit.MILLISECONDS) - ms) < 1000) {
                    return; // the same step, already set
                }
                s.due.cancel(false);
            }
            try {
                s.due = timers.schedule(() -> {
                    if (!z.removed) {
                        schedule(z, Cause.ROLLOVER, source(Cause.ROLLOVER));
                    }
                }, ms, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                s.due = null; // closing
            }
        }
    }

    /** Cancels the zone's rollover timer (nothing is pending). */
    public void notDue(TrackedZone z) {
        Slot s = slots.get(z);
        if (s == null) {
            return;
        }
        synchronized (s) {
            if (s.due != null) {
                s.due.cancel(false);
                s.due = null;
            }
        }
    }

    /** Runs {@code task} every {@code every} on the timer thread (the full poll). */
    public void repeat(Runnable task, Duration every) {
        long ms = every.toMillis();
        if (ms > 0) {
            try {
                timers.scheduleAtFixedRate(task, ms, ms, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    private void submitTimer(Runnable task, long delayMs) {
        try {
            timers.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Checks waiting for a worker. */
    public int queued() {
        lock.lock();
        try {
            return queuedTotal;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops taking work and waits up to {@code grace} for checks in flight; those still running
     * after it are left to end on their own (their threads are daemons).
     */
    public void close(Duration grace) {
        lock.lock();
        try {
            closed = true;
            workAvailable.signalAll();
        } finally {
            lock.unlock();
        }
        timers.shutdownNow();
        long deadline = System.nanoTime() + grace.toNanos();
        for (Thread t : workers) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                t.join(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }

    public static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
