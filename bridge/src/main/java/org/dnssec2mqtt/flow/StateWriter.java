package org.dnssec2mqtt.flow;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dnssec2mqtt.zone.ZoneState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistence stage: zone states go to the {@link StateStore} on a writer thread of their
 * own, off the check path, in batches: what queued up while the last batch was written goes to
 * the disk as one append and one fsync (group commit). Only the latest state of
 * a zone is kept waiting. A write that fails stays pending and is retried on a back-off until
 * it succeeds, with one WARN when the trouble starts and one INFO when it ends: a zone's state
 * is never dropped because the disk hiccupped once. The writer is never interrupted, so a
 * stopping bridge cannot cut a write in half; {@link #close} waits for what is pending.
 */
public final class StateWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StateWriter.class);
    private static final long FIRST_RETRY_MS = 500;
    private static final long MAX_RETRY_MS = 30_000;

    /** A pending delete (forget) of a zone's state. */
    private static final Object DELETE = new Object();

    private final StateStore store;
    /** zone → latest ZoneState or DELETE; guarded by this. */
    private final Map<String, Object> pending = new LinkedHashMap<>();
    private final Thread thread;
    private boolean closing;
    private boolean writing;
    private long failures;
    private long written;

    public StateWriter(StateStore store) {
        this.store = store;
        this.thread = new Thread(this::loop, "state-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues the zone's state to be written; returns at once. */
    public synchronized void save(ZoneState s) {
        pending.remove(s.zone());
        pending.put(s.zone(), s);
        notifyAll();
    }

    /** Queues the deletion of the zone's state (after any save queued before it). */
    public synchronized void delete(String zone) {
        pending.remove(zone);
        pending.put(zone, DELETE);
        notifyAll();
    }

    /** States waiting to be written (0 once everything is on the disk). */
    public synchronized int pending() {
        return pending.size() + (writing ? 1 : 0);
    }

    /** Writes that failed so far (each retried). */
    public synchronized long failures() {
        return failures;
    }

    private void loop() {
        long delay = FIRST_RETRY_MS;
        boolean troubled = false;
        while (true) {
            Map<String, Object> batch;
            synchronized (this) {
                while (pending.isEmpty() && !closing) {
                    waitQuietly(0);
                }
                if (pending.isEmpty()) {
                    return;
                }
                batch = new LinkedHashMap<>(pending);
                pending.clear();
                writing = true;
            }
            String problem = write(batch);
            synchronized (this) {
                writing = false;
                if (problem == null) {
                    written += batch.size();
                    notifyAll();
                } else {
                    failures++;
                    // put back what is not superseded by a newer state queued meanwhile
                    Map<String, Object> merged = new LinkedHashMap<>(batch);
                    merged.keySet().removeAll(pending.keySet());
                    merged.putAll(pending);
                    pending.clear();
                    pending.putAll(merged);
                }
            }
            if (problem == null) {
                if (troubled) {
                    log.info("state: writing to {} works again; every pending zone state is saved", store.dir());
                    troubled = false;
                }
                delay = FIRST_RETRY_MS;
                continue;
            }
            if (!troubled) {
                log.warn("state: cannot write to {}: {}; {} zone state(s) kept in memory, retrying every {} s at most",
                        store.dir(), problem, batch.size(), MAX_RETRY_MS / 1000);
                troubled = true;
            } else {
                log.debug("state: still cannot write to {}: {}", store.dir(), problem);
            }
            synchronized (this) {
                if (closing) {
                    log.error("state: stopping with {} zone state(s) not written to {}: {}", pending.size(),
                            store.dir(), problem);
                    pending.clear();
                    notifyAll();
                    return;
                }
                waitQuietly(delay);
            }
            delay = Math.min(delay * 2, MAX_RETRY_MS);
        }
    }

    /** Writes the batch; null when all of it reached the disk, else the problem in plain words. */
    private String write(Map<String, Object> batch) {
        List<ZoneState> states = new ArrayList<>();
        List<String> forgotten = new ArrayList<>();
        for (Map.Entry<String, Object> e : batch.entrySet()) {
            if (e.getValue() == DELETE) {
                forgotten.add(e.getKey());
            } else {
                states.add((ZoneState) e.getValue());
            }
        }
        try {
            store.apply(states, forgotten);
            return null;
        } catch (IOException e) {
            log.debug("state: write failed", e);
            return IoProblems.describe(e);
        } catch (RuntimeException e) {
            log.debug("state: write failed", e);
            return "unexpected error: " + e.getMessage();
        }
    }

    private void waitQuietly(long ms) {
        try {
            wait(ms);
        } catch (InterruptedException e) {
            // never interrupted on purpose; keep going until closed
        }
    }

    /** Waits until every state queued so far is written (or {@code timeout} passes). */
    public synchronized boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pending.isEmpty() || writing) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            waitQuietly(left);
        }
        return true;
    }

    /** Writes what is pending (up to a few seconds when the disk fails), then stops. */
    @Override
    public void close() {
        flush(Duration.ofSeconds(3));
        synchronized (this) {
            closing = true;
            notifyAll();
        }
        try {
            thread.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
