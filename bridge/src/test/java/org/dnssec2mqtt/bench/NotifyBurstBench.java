package org.dnssec2mqtt.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.dnssec2mqtt.config.Cidr;
import org.dnssec2mqtt.dns.NotifyHandler;
import org.dnssec2mqtt.dns.NotifyListener;
import org.dnssec2mqtt.dns.TsigKeys;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;

/**
 * The NOTIFY listener's reply path alone: a burst of N NOTIFYs for N zones over UDP (as
 * {@link Notifier} sends them, retransmitted until answered) while the consumer is blocked, as
 * a check backlog would hold it. Prints how long until every NOTIFY was answered and how many
 * retransmissions that took. Run with {@code bridge/bench/micro.sh notify} (N from
 * {@code BENCH_NOTIFY_BURST}, default 20,000). Loopback only, bounded by {@link #LIMIT_SECONDS}.
 */
public final class NotifyBurstBench {
    private static final int LIMIT_SECONDS = 60;

    private NotifyBurstBench() {}

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(System.getenv().getOrDefault("BENCH_NOTIFY_BURST", "20000"));
        CountDownLatch release = new CountDownLatch(1);
        NotifyListener listener = new NotifyListener(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                new NotifyHandler(List.of(Cidr.parse("127.0.0.0/8")), TsigKeys.none(), false), r -> {
                    try {
                        release.await(); // a consumer that never keeps up
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        listener.start();
        List<Name> zones = BenchZones.names("n", n);
        try (Notifier notifier = new Notifier(listener.udpAddresses().get(0))) {
            long t0 = System.nanoTime();
            for (Name z : zones) {
                Name ns = Name.concatenate(Name.fromConstantString("ns"), z);
                notifier.notify(z, new SOARecord(z, DClass.IN, 300, ns, ns, 1, 3600, 600, 1209600, 300), true);
            }
            double sentIn = (System.nanoTime() - t0) / 1e9;
            long deadline = t0 + LIMIT_SECONDS * 1_000_000_000L;
            while (notifier.unanswered() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10); // polling another thread's counters
            }
            double all = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "notify burst: %d NOTIFYs sent in %.2f s; %s after %.2f s; %d retransmitted;"
                    + " listener accepted %d, %d waiting for the consumer%n", n, sentIn,
                    notifier.unanswered() == 0 ? "all answered" : notifier.unanswered() + " still unanswered", all,
                    notifier.retransmitted.get(), listener.accepted(), listener.queued());
        } finally {
            release.countDown();
            listener.close();
        }
    }
}
