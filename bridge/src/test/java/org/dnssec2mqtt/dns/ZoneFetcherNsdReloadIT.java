package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.SignedZone;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A check right after NSD reloaded a zone, as when NSD NOTIFYs the bridge after a change: NSD
 * forks new server processes on a reload and the old ones go, resetting the pooled TCP
 * connections to them and refusing a new connection that reached one of them before it closed
 * its listening socket. Seen in the benchmark: every change of a known zone failed its first
 * check with "the server reset the connection", so an operator got {@code zone_unreachable} and
 * {@code zone_recovered} for every key change, and the change's keys 1-2 s late (the retry).
 */
@Timeout(180)
class ZoneFetcherNsdReloadIT {
    static final int CHANGES = 15;
    static final int PARALLEL = 4;

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "tcp={0}")
    @ValueSource(booleans = {true, false})
    void everyCheckRightAfterAReloadGetsTheNewSerial(boolean tcp) throws Exception {
        SignedZone zone = new SignedZone("reload.test", tmp.resolve("zone"));
        zone.addKsk();
        zone.addZsk();
        zone.sign();
        ExecutorService checks = Executors.newFixedThreadPool(PARALLEL);
        try (NsdServer nsd = new NsdServer(tmp.resolve("nsd")).zone("reload.test", zone.signedFile()).start()) {
            ZoneFetcher fetcher = new ZoneFetcher(Duration.ofSeconds(5), tcp);
            QueryTarget target = QueryTarget.unsigned(new HostPort("127.0.0.1", nsd.port()));
            assertEquals(zone.serial(), fetcher.fetch(zone.name(), target).serial());
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < CHANGES; i++) {
                // several checks at once before the change, as a busy bridge has: a full pool
                List<java.util.concurrent.Future<ZoneSnapshot>> busy = new ArrayList<>();
                for (int j = 0; j < PARALLEL; j++) {
                    busy.add(checks.submit(() -> fetcher.fetch(zone.name(), target)));
                }
                for (java.util.concurrent.Future<ZoneSnapshot> f : busy) {
                    f.get();
                }
                long serial = zone.bumpSerial();
                zone.sign();
                nsd.reload("reload.test");
                nsd.awaitSerial("reload.test", serial, Duration.ofSeconds(10));
                try {
                    long seen = fetcher.fetch(zone.name(), target).serial();
                    if (seen != serial) {
                        failures.add("change " + i + ": serial " + seen + " instead of " + serial);
                    }
                } catch (DnsQueryException e) {
                    failures.add("change " + i + ": " + e.getMessage());
                }
            }
            assertEquals(List.of(), failures, "checks right after a reload of NSD");
        } finally {
            checks.shutdownNow();
        }
    }
}
