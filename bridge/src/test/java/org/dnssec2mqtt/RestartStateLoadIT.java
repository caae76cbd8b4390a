package org.dnssec2mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.dnssec2mqtt.demo.AuthServer;
import org.dnssec2mqtt.demo.DemoZone;
import org.dnssec2mqtt.support.LogCapture;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.MqttRecorder;
import org.dnssec2mqtt.support.TestConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart loads the saved zone states while the MQTT connection comes up: {@code online} goes
 * out before the load ends, but the reconcile of the broker's retained copy, the NOTIFY listener
 * and the start-up checks wait for it. The load is held by the test (its executor runs the task
 * only when told), so the order is seen, not raced: without the wait the reconcile would find the
 * zone's retained topics with no state for it and adopt it as a zone the bridge does not know.
 * The NOTIFY listener binds before the connect, so a start that fails there never says online.
 */
@Timeout(120)
class RestartStateLoadIT {
    @TempDir
    Path dir;

    /** The listener's port, fixed: a NOTIFY is sent while {@code Main.start} has not returned yet. */
    private final int notifyPort = org.dnssec2mqtt.support.FreePorts.tcpAndUdp();

    private String config(MosquittoBroker broker, AuthServer auth) {
        return """
                notify.listen = 127.0.0.1:%d
                dns.query-port = %d
                dns.timeout = 2s
                mqtt.url = %s
                data.dir = %s
                """.formatted(notifyPort, auth.port(), broker.url(), dir.resolve("data"));
    }

    @Test
    void onlineGoesOutWhileTheStatesLoadAndTheReconcileWaitsForThem() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.start("allow_anonymous true\n", Map.of());
                AuthServer auth = new AuthServer(InetAddress.getLoopbackAddress(), 0).start();
                MqttRecorder sub = new MqttRecorder(broker.url(), "dnssec/#")) {
            DemoZone zone = new DemoZone(ReconcileIT.ZONE, 2026112200, Clock.systemUTC());
            auth.add(zone);
            DemoZone.Key ksk = zone.addKey(true, true);
            zone.addKey(false, true);
            String kskTopic = "dnssec/example.test/keys/" + ksk.tag();
            String text = config(broker, auth);
            // a first run saves the zone's state and leaves its topics retained on the broker
            try (Main.Running first = Main.start(TestConfig.load(dir, text), Clock.systemUTC())) {
                ReconcileIT.awaitReconciled(first, 1);
                ReconcileIT.notify(auth, first);
                sub.await(kskTopic, ReconcileIT.WAIT);
                sub.await("dnssec/example.test/state", ReconcileIT.WAIT);
                ReconcileIT.awaitCount(() -> first.bridge.completedChecks(), 1, "checks ended");
            }
            sub.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("offline"), ReconcileIT.WAIT);
            sub.clear();

            CompletableFuture<Runnable> load = new CompletableFuture<>();
            Executor held = load::complete;
            try (LogCapture log = LogCapture.start()) {
                CompletableFuture<Main.Running> started = CompletableFuture.supplyAsync(() -> {
                    try {
                        return Main.start(TestConfig.load(dir, text), Clock.systemUTC(), held);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                Runnable task = load.get(ReconcileIT.WAIT.toSeconds(), TimeUnit.SECONDS);
                // online while the states are still unread
                sub.await(m -> m.topic().equals("dnssec/_bridge/state") && m.payload().contains("online"), ReconcileIT.WAIT);
                awaitSessionWaitingForStates();
                // a NOTIFY meanwhile is answered, waits in the listener's queue, and holds no thread of it
                assertEquals(org.xbill.DNS.Rcode.NOERROR,
                        auth.notify(ReconcileIT.ZONE, new java.net.InetSocketAddress("127.0.0.1", notifyPort), 3));
                assertNoListenerThreadWaits();
                assertFalse(started.isDone(), "the start (its NOTIFY listener, its checks) waits for the states");
                assertFalse(log.text().contains("mqtt: reconciled"), log.text());

                task.run();
                try (Main.Running bridge = started.get(ReconcileIT.WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    ReconcileIT.awaitReconciled(bridge, 1);
                    assertEquals(1, bridge.bridge.knownZones());
                    String line = log.await("mqtt: reconciled", ReconcileIT.WAIT);
                    assertTrue(line.contains("reconciled 1 zones") && line.contains("0 stray topics cleared")
                            && line.contains("0 zones found to adopt"), line);
                    ReconcileIT.awaitChecks(bridge, 1);
                    // the NOTIFY of the serial the saved state has, handed on after the load: no query
                    ReconcileIT.awaitCount(bridge.bridge::skippedNotifies, 1, "NOTIFYs of the known serial");
                }
            }
            assertEquals(0, sub.messages().stream().filter(m -> m.topic().equals(kskTopic)).count(),
                    "the key did not change: its topic is not sent again:\n" + sub.dump());
            assertEquals(0, sub.messages().stream().filter(m -> m.payload().isEmpty()).count(),
                    "nothing cleared:\n" + sub.dump());
        }
    }

    /**
     * The NOTIFY listener binds before the connect: a bridge whose port is taken fails to start
     * and never said online (with the connect first, online then offline went out).
     */
    @Test
    void aBridgeThatCannotListenNeverSaysOnline() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.start("allow_anonymous true\n", Map.of());
                java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                MqttRecorder sub = new MqttRecorder(broker.url(), "dnssec/#")) {
            String text = """
                    notify.listen = 127.0.0.1:%d
                    mqtt.url = %s
                    data.dir = %s
                    """.formatted(taken.getLocalPort(), broker.url(), dir.resolve("data"));
            // the state load held throughout: the bind fails before anything waits for it
            CompletableFuture<Runnable> load = new CompletableFuture<>();
            CompletableFuture<Main.Running> started = CompletableFuture.supplyAsync(() -> {
                try {
                    return Main.start(TestConfig.load(dir, text), Clock.systemUTC(), load::complete);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            try {
                java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class,
                        () -> started.get(ReconcileIT.WAIT.toSeconds(), TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof java.io.IOException && e.getCause().getMessage().contains("notify.listen"),
                        String.valueOf(e.getCause()));
            } finally {
                load.thenAccept(Runnable::run); // a start that connected first (and is still waiting) may go on
            }
            // the broker delivers in the order it took the messages: anything the bridge sent came before this
            sub.publish("dnssec/probe", "after the failed start", false);
            sub.await("dnssec/probe", ReconcileIT.WAIT);
            assertEquals(0, sub.messages().stream().filter(m -> m.topic().equals("dnssec/_bridge/state")).count(),
                    sub.dump());
        }
    }

    /**
     * No thread of the NOTIFY listener waits for the states (issue 11: its sink once waited there,
     * on a UDP reader's thread, which then read no NOTIFY until the load ended), watched for the
     * time a reader takes to hand its request on after the reply.
     */
    private static void assertNoListenerThreadWaits() throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < until) {
            for (Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
                if (t.getKey().getName().startsWith("notify-udp-") && Arrays.stream(t.getValue())
                        .anyMatch(f -> f.getClassName().startsWith(CompletableFuture.class.getName()))) {
                    throw new AssertionError(t.getKey().getName() + " waits for the states:\n"
                            + Arrays.toString(t.getValue()));
                }
            }
            Thread.sleep(10); // polling a thread's state: nothing to wait on
        }
    }

    /** Polls until the MQTT session thread is parked in the reconcile's wait for the states. */
    private static void awaitSessionWaitingForStates() throws InterruptedException {
        long deadline = System.nanoTime() + ReconcileIT.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
                if (t.getKey().getName().equals("mqtt-session") && t.getKey().getState() == Thread.State.WAITING
                        && Arrays.stream(t.getValue()).anyMatch(f -> f.getClassName().equals(BridgeSession.class.getName())
                                && f.getMethodName().equals("statesLoaded"))) {
                    return;
                }
            }
            Thread.sleep(10); // polling a thread's state: nothing to wait on
        }
        throw new AssertionError("the MQTT session did not come to its reconcile");
    }
}
