package org.dnssec2mqtt.signals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.xbill.DNS.Name;

/** Records every {@link KnotSignals.Listener} call as one line, e.g. {@code updated dbus.test. 2}. */
final class RecordingListener implements KnotSignals.Listener {
    private final BlockingQueue<String> calls = new LinkedBlockingQueue<>();

    @Override
    public void zoneUpdated(Name zone, long serial) {
        calls.add("updated " + zone + " " + serial);
    }

    @Override
    public void kskSubmission(Name zone, int keytag, String keyId) {
        calls.add("ksk " + zone + " " + keytag + " " + keyId);
    }

    @Override
    public void dnssecInvalid(Name zone, String reason) {
        calls.add("invalid " + zone + " " + reason);
    }

    @Override
    public void busState(String state, String problem) {
        calls.add("bus " + state + (problem == null ? "" : " " + problem));
    }

    /** Everything recorded and not yet taken. */
    List<String> drain() {
        List<String> out = new ArrayList<>();
        calls.drainTo(out);
        return out;
    }

    /** Takes calls until one matches and returns it; fails with what came instead after {@code timeout}. */
    String await(Predicate<String> match, Duration timeout, String context) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            String c = calls.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (c == null) {
                break;
            }
            seen.add(c);
            if (match.test(c)) {
                return c;
            }
        }
        throw new AssertionError("no matching listener call within " + timeout + "; got " + seen + "\n" + context);
    }
}
