package org.dnssec2mqtt.bench;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.dns.QueryTarget;
import org.dnssec2mqtt.dns.ZoneFetcher;
import org.dnssec2mqtt.support.NsdServer;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * One zone check's queries (SOA, DNSKEY, CDS, CDNSKEY) against a real NSD on 127.0.0.1, each way
 * the fetcher can ask them: one after the other over dnsjava's TCP client (the code before), all
 * four at once over dnsjava's TCP client (the 40 ms stall), four at once over dnsjava's UDP client
 * (the fetcher's UDP path before issue 11), and {@link ZoneFetcher} over UDP (its own exchange on
 * the calling thread) and over its TCP_NODELAY client. Prints the median and p90 of one fetch (one
 * thread), and fetches per second with {@link #THREADS} threads. Run with {@code bridge/bench/micro.sh fetch};
 * bounded: a few thousand
 * queries per way, loopback only.
 */
public final class FetchBench {
    private static final int ZONES = 50;
    private static final int WARMUP = 100;
    private static final int ROUNDS = 300;
    private static final int THREADS = 16; // as many as the bridge's check workers
    private static final Duration THROUGHPUT_TIME = Duration.ofSeconds(3);
    private static final int[] TYPES = {Type.SOA, Type.DNSKEY, Type.CDS, Type.CDNSKEY};

    /** One way of asking a zone's four questions. */
    interface Way {
        void fetch(Name zone) throws Exception;
    }

    private FetchBench() {}

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("fetch-bench");
        BenchZones zones = new BenchZones();
        List<Name> names = BenchZones.names("f", ZONES);
        Map<Name, Path> files = zones.write(names, work.resolve("zones"));
        ExecutorService io = Executors.newFixedThreadPool(2);
        try (NsdServer nsd = new NsdServer(work.resolve("nsd"))) {
            names.forEach(n -> nsd.zone(n.toString(true), files.get(n)));
            nsd.start();
            InetSocketAddress at = nsd.address();
            QueryTarget target = QueryTarget.unsigned(new HostPort("127.0.0.1", at.getPort()));
            Duration timeout = Duration.ofSeconds(5);
            List<String> rows = new ArrayList<>();
            rows.add(run("dnsjava TCP, one after the other (before)", dnsjava(at, true, false, io), names));
            rows.add(run("dnsjava TCP, four at once", dnsjava(at, true, true, io), names));
            rows.add(run("dnsjava UDP (EDNS 1232), four at once, answers via the executor (ZoneFetcher before)",
                    dnsjava(at, false, true, io), names));
            ZoneFetcher udp = new ZoneFetcher(timeout, false);
            rows.add(run("ZoneFetcher UDP (EDNS 1232), own exchange on the check thread, four at once",
                    z -> udp.fetch(z, target), names));
            ZoneFetcher tcp = new ZoneFetcher(timeout, true);
            rows.add(run("ZoneFetcher TCP_NODELAY, four at once (pooled)", z -> tcp.fetch(z, target), names));
            System.out.println("\nJava " + System.getProperty("java.version") + ", NSD on 127.0.0.1, " + ZONES
                    + " zones; one fetch = SOA + DNSKEY + CDS + CDNSKEY with DO\n");
            System.out.println("| way | median ms (1 thread) | p90 ms | fetches/s (" + THREADS + " threads) |");
            System.out.println("|---|---:|---:|---:|");
            rows.forEach(System.out::println);
        } finally {
            io.shutdownNow();
        }
    }

    /**
     * The fetcher's queries as the code before asked them, or all at once, through dnsjava's
     * client: over TCP, or over UDP with EDNS 1232 as ZoneFetcher asked before it had its own
     * exchange (a channel per query, dnsjava's selector thread, each future completed on {@code io}).
     */
    private static Way dnsjava(InetSocketAddress at, boolean tcp, boolean atOnce, ExecutorService io) {
        SimpleResolver r = new SimpleResolver(at);
        r.setTCP(tcp);
        r.setTimeout(Duration.ofSeconds(5));
        r.setEDNS(0, tcp ? 4096 : 1232, ExtendedFlags.DO, List.of());
        return zone -> {
            List<CompletableFuture<Message>> sent = new ArrayList<>();
            for (int type : TYPES) {
                Message q = Message.newQuery(Record.newRecord(zone, type, DClass.IN));
                q.getHeader().unsetFlag(Flags.RD);
                CompletableFuture<Message> f = r.sendAsync(q, io).toCompletableFuture();
                if (atOnce) {
                    sent.add(f);
                } else {
                    f.get(5, TimeUnit.SECONDS);
                }
            }
            for (CompletableFuture<Message> f : sent) {
                f.get(5, TimeUnit.SECONDS);
            }
        };
    }

    private static String run(String name, Way way, List<Name> zones) throws Exception {
        for (int i = 0; i < WARMUP; i++) {
            way.fetch(zones.get(i % zones.size()));
        }
        long[] nanos = new long[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            long t0 = System.nanoTime();
            way.fetch(zones.get(i % zones.size()));
            nanos[i] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(nanos);
        double median = nanos[ROUNDS / 2] / 1e6;
        double p90 = nanos[ROUNDS * 9 / 10] / 1e6;
        double perSecond = throughput(way, zones);
        String row = String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.0f |", name, median, p90, perSecond);
        System.err.println(row);
        return row;
    }

    /** Fetches per second with {@link #THREADS} threads, each over the zones, for a fixed time. */
    private static double throughput(Way way, List<Name> zones) throws InterruptedException {
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long end = System.nanoTime() + THROUGHPUT_TIME.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int offset = t;
            Thread th = new Thread(() -> {
                for (int i = offset; System.nanoTime() < end; i++) {
                    try {
                        way.fetch(zones.get(i % zones.size()));
                        done.incrementAndGet();
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        if (failed.get() > 0) {
            System.err.println("  " + failed.get() + " fetches failed");
        }
        return done.get() / (THROUGHPUT_TIME.toNanos() / 1e9);
    }
}
