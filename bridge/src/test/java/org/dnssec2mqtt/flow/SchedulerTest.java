package org.dnssec2mqtt.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Name;

/** The scheduling rule, with a job that blocks on latches instead of DNS. */
@Timeout(20)
class SchedulerTest {
    Scheduler scheduler;

    static TrackedZone zone(String name) {
        return new TrackedZone(Name.fromConstantString(name + "."), false);
    }

    static Scheduler.Result ok(TrackedZone z) {
        return new Scheduler.Result(z, Scheduler.Ending.OK, false, null, null);
    }

    /** A scheduler whose checks tell {@code seen} their cause, say they are in flight, and wait for {@code release}. */
    static Scheduler holding(CountDownLatch inFlight, CountDownLatch release, java.util.function.Consumer<Cause> seen,
                             int workers) {
        return new Scheduler((z, cause, force, failures) -> {
            seen.accept(cause);
            inFlight.countDown();
            await(release);
            return ok(z);
        }, workers, workers, 0);
    }

    @AfterEach
    void tearDown() {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void aFloodFromOneSourceDoesNotDelayAnotherSource() throws Exception {
        // 1,000 zones from 10.0.0.3 whose checks hang (a server that never answers) ...
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch otherRan = new CountDownLatch(1);
        AtomicInteger floodStarted = new AtomicInteger();
        scheduler = new Scheduler((z, cause, force, failures) -> {
            if (z.display.startsWith("junk")) {
                floodStarted.incrementAndGet();
                await(release);
            } else {
                otherRan.countDown();
            }
            return ok(z);
        }, 6, 2, 2);
        for (int i = 0; i < 1000; i++) {
            scheduler.schedule(zone("junk" + i + ".test"), Cause.NOTIFY, "notify:10.0.0.3");
        }
        // ... and then one zone from 127.0.0.1: it runs while the flood still holds its workers
        scheduler.schedule(zone("real.test"), Cause.NOTIFY, "notify:127.0.0.1");
        assertTrue(otherRan.await(5, TimeUnit.SECONDS), "the other source's check did not run");
        assertTrue(floodStarted.get() <= 4, "a source may use workers beyond its limit only while the reserve stays idle: " + floodStarted.get());
        release.countDown();
    }

    @Test
    void aQueuedRolloverReevaluationGivesWayToAnyRealCheck() throws Exception {
        // a NOTIFY behind a queued ROLLOVER (no queries) must still get its check, and the other way round
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Cause> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        scheduler = holding(inFlight, release, ran::add, 2);
        TrackedZone z = zone("due.test");
        CompletableFuture<Scheduler.Result> first = scheduler.schedule(z, Cause.POLL, "poll");
        assertTrue(inFlight.await(5, TimeUnit.SECONDS));
        scheduler.schedule(z, Cause.ROLLOVER, "rollover");
        CompletableFuture<Scheduler.Result> notify = scheduler.schedule(z, Cause.NOTIFY, "notify:127.0.0.1");
        scheduler.schedule(z, Cause.ROLLOVER, "rollover");
        release.countDown();
        first.get(5, TimeUnit.SECONDS);
        notify.get(5, TimeUnit.SECONDS);
        assertEquals(List.of(Cause.POLL, Cause.NOTIFY), ran);
    }

    @Test
    void aRolloverTimerIsOnePerZoneAndTheLatestWins() throws Exception {
        List<Cause> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        scheduler = new Scheduler((z, cause, force, failures) -> {
            ran.add(cause);
            done.countDown();
            return new Scheduler.Result(z, Scheduler.Ending.SKIPPED, false, null, null);
        }, 2, 2, 0);
        TrackedZone z = zone("timer.test");
        scheduler.dueIn(z, java.time.Duration.ofHours(1));
        scheduler.dueIn(z, java.time.Duration.ofMillis(50)); // a later check found the step sooner
        assertTrue(done.await(5, TimeUnit.SECONDS), "the replaced timer fired");
        scheduler.notDue(z);
        assertEquals(List.of(Cause.ROLLOVER), ran);
        assertEquals(0, scheduler.failures(z), "a run without queries leaves the back-off alone");
    }

    @Test
    void aStormCostsOneCheckInFlightAndOneQueued() throws Exception {
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Map<Cause, AtomicInteger> forced = new ConcurrentHashMap<>();
        scheduler = holding(inFlight, release, cause -> {
            runs.incrementAndGet();
            forced.computeIfAbsent(cause, c -> new AtomicInteger()).incrementAndGet();
        }, 4);
        TrackedZone z = zone("storm.test");
        CompletableFuture<Scheduler.Result> first = scheduler.schedule(z, Cause.NOTIFY, "a");
        assertTrue(inFlight.await(5, TimeUnit.SECONDS));
        List<CompletableFuture<Scheduler.Result>> rest = new java.util.ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            rest.add(scheduler.schedule(z, i == 5000 ? Cause.COMMAND : Cause.NOTIFY, "a"));
        }
        release.countDown();
        first.get(5, TimeUnit.SECONDS);
        CompletableFuture.allOf(rest.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
        assertEquals(2, runs.get(), "10,001 triggers while one check ran: that one and one more");
        assertEquals(1, forced.get(Cause.COMMAND).get(), "the queued check carries the strongest cause (forced)");
    }

    @Test
    void aJobThatThrowsAnErrorDoesNotLeaveTheZoneRunning() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        scheduler = new Scheduler((z, cause, force, failures) -> {
            if (runs.incrementAndGet() == 1) {
                throw new AssertionError("an Error, not an exception");
            }
            return ok(z);
        }, 2, 2, 0, () -> Long.MAX_VALUE / 2);
        TrackedZone z = zone("error.test");
        Scheduler.Result r = scheduler.schedule(z, Cause.COMMAND, "command").get(5, TimeUnit.SECONDS);
        assertFalse(r.ok());
        assertEquals("the check ended abnormally; see the bridge's log", r.error());
        assertTrue(scheduler.schedule(z, Cause.COMMAND, "command").get(5, TimeUnit.SECONDS).ok(),
                "the zone is checked again after an Error");
    }

    @Test
    void aZoneRemovedWhileQueuedIsNotCheckedAgain() throws Exception {
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        scheduler = new Scheduler((z, cause, force, failures) -> {
            runs.incrementAndGet();
            inFlight.countDown();
            await(release);
            return ok(z);
        }, 2, 2, 0);
        TrackedZone z = zone("gone.test");
        scheduler.schedule(z, Cause.NOTIFY, "a");
        assertTrue(inFlight.await(5, TimeUnit.SECONDS));
        CompletableFuture<Scheduler.Result> queued = scheduler.schedule(z, Cause.NOTIFY, "a");
        z.removed = true; // forgotten while its next check waits
        release.countDown();
        Scheduler.Result r = queued.get(5, TimeUnit.SECONDS);
        assertEquals(1, runs.get(), "the removed zone's queued check must not run");
        assertEquals(Scheduler.Ending.OK, r.ending(), "its waiters get the result of the check that ran");
        assertEquals(Scheduler.Ending.GONE, scheduler.schedule(z, Cause.NOTIFY, "a").get(5, TimeUnit.SECONDS).ending());
    }

    @Test
    void aFailingZoneIsRetriedOnATimerAndCountsItsFailures() throws Exception {
        CountDownLatch third = new CountDownLatch(3);
        List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Cause> causes = new java.util.concurrent.CopyOnWriteArrayList<>();
        // the jitter source returns 0: the back-off is its lower half (1 s, then 2 s)
        scheduler = new Scheduler((z, cause, force, failures) -> {
            seen.add(failures);
            causes.add(cause);
            third.countDown();
            return new Scheduler.Result(z, third.getCount() == 0 ? Scheduler.Ending.OK : Scheduler.Ending.FAILED,
                    false, "down", null);
        }, 2, 2, 0, () -> 0);
        TrackedZone z = zone("flaky.test");
        scheduler.schedule(z, Cause.NOTIFY, "a");
        assertTrue(third.await(10, TimeUnit.SECONDS), "retries: " + seen);
        assertEquals(List.of(0, 1, 2), seen);
        assertEquals(List.of(Cause.NOTIFY, Cause.RETRY, Cause.RETRY), causes);
    }

    static void await(CountDownLatch l) {
        try {
            l.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
