package org.dnssec2mqtt.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.dnssec2mqtt.mqtt.MqttLink;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.support.MosquittoBroker;
import org.dnssec2mqtt.support.ReadBackSession;
import org.dnssec2mqtt.support.RetainedFill;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Where the read-back of the retained topics after a connect spends its time: a local mosquitto
 * holding N retained topics shaped like the bridge's (per zone a key, the state, a server; JSON
 * of ~250 bytes), read back (a) by {@link MqttLink} itself (connect → reconcile called), (b) by a
 * bare Paho client subscribing like the link and waiting for its marker's echo, at QoS 1 and at
 * QoS 0, with and without a per-message handler, and (c) by {@code mosquitto_sub} as the floor.
 * Each broker config is run: mosquitto's defaults, and {@code max_queued_messages 0} as the bench
 * uses. {@code bridge/bench/micro.sh readback} (sizes as arguments, default 50,000 and 200,000).
 */
public final class ReadBackBench {
    private static final String PREFIX = "rb";

    private ReadBackBench() {}

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = args.length > 0 ? Stream.of(args).map(Integer::valueOf).toList() : List.of(50_000, 200_000);
        // mosquitto's defaults (max_queued_messages 1000) drop what does not fit: only with BENCH_READBACK_DEFAULTS=true
        List<String> configs = new ArrayList<>(List.of("allow_anonymous true\nmax_queued_messages 0\n"));
        if (Boolean.parseBoolean(System.getenv("BENCH_READBACK_DEFAULTS"))) {
            configs.add(0, "allow_anonymous true\n");
        }
        // BENCH_READBACK_LINK_ONLY=true: only the link's rows (to compare two versions of it)
        boolean linkOnly = Boolean.parseBoolean(System.getenv("BENCH_READBACK_LINK_ONLY"));
        List<String> rows = new ArrayList<>();
        for (String config : configs) {
            String conf = config.contains("max_queued") ? "max_queued_messages 0" : "defaults";
            for (int n : sizes) {
                try (MosquittoBroker broker = MosquittoBroker.start(config, Map.of())) {
                    long t0 = System.nanoTime();
                    fill(broker.url(), n);
                    System.out.printf(Locale.ROOT, "bench: %d retained topics stored in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
                    if (!linkOnly) {
                        rows.add(row(n, conf, "mosquitto_sub -C N, QoS 0 (floor)", mosquittoSub(broker, n, 0)));
                        rows.add(row(n, conf, "mosquitto_sub -C N, QoS 1", mosquittoSub(broker, n, 1)));
                        rows.add(row(n, conf, "Paho, QoS 1, count only", paho(broker.url(), n, 1, false, false)));
                        rows.add(row(n, conf, "Paho, QoS 1, String + map (as the link)", paho(broker.url(), n, 1, true, false)));
                        rows.add(row(n, conf, "Paho, QoS 0, count only", paho(broker.url(), n, 0, false, false)));
                        rows.add(row(n, conf, "Paho, QoS 0, String + map", paho(broker.url(), n, 0, true, false)));
                        rows.add(row(n, conf, "Paho, QoS 0, String + map, one SUBSCRIBE", paho(broker.url(), n, 0, true, true)));
                    }
                    Result[] link = link(broker.url());
                    rows.add(row(n, conf, "MqttLink: start → online seen by another client", link[0]));
                    rows.add(row(n, conf, "MqttLink: start → reconcile handed the copy", link[1]));
                }
            }
        }
        System.out.println("Java " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, load average " + String.format(Locale.ROOT, "%.2f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        System.out.println("| mosquitto config | retained topics | reader | time | topics read back |");
        System.out.println("|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    private record Result(double ms, long received) {}

    private static String row(int n, String conf, String what, Result r) {
        String line = String.format(Locale.ROOT, "| %s | %d | %s | %.0f ms | %d |", conf, n, what, r.ms(), r.received());
        System.out.println("bench: " + line);
        return line;
    }

    static String topic(int i) {
        String zone = "z" + (i / 3) + ".example";
        return switch (i % 3) {
            case 0 -> PREFIX + "/" + zone + "/keys/" + (10_000 + i / 3 % 50_000) + "-13";
            case 1 -> PREFIX + "/" + zone + "/state";
            default -> PREFIX + "/" + zone + "/servers/127.0.0.1:5300";
        };
    }

    static String payload(int i) {
        return "{\"zone\":\"z" + (i / 3) + ".example\",\"keytag\":" + (10_000 + i / 3 % 50_000)
                + ",\"algorithm\":13,\"flags\":257,\"role\":\"ksk\",\"state\":\"active\","
                + "\"first_seen\":\"2026-11-22T06:30:00Z\",\"ds_sha256\":\"" + "ab".repeat(32) + "\",\"n\":" + i + "}";
    }

    private static void fill(String url, int n) throws Exception {
        RetainedFill.publish(url, n, ReadBackBench::topic, ReadBackBench::payload);
    }

    private static Result mosquittoSub(MosquittoBroker broker, int n, int qos) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_sub", "-h", broker.host(), "-p", Integer.toString(broker.port()),
                "-q", Integer.toString(qos), "-C", Integer.toString(n), "-W", "10", "--retained-only"));
        for (String f : new Topics(PREFIX).zoneFilters()) {
            cmd.addAll(List.of("-t", f));
        }
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        long lines = 0;
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            while (in.readLine() != null) {
                lines++;
            }
        }
        p.waitFor(60, TimeUnit.SECONDS);
        return new Result((System.nanoTime() - t0) / 1e6, lines);
    }

    /** Subscribes to the bridge's zone filters and the state topic, publishes a marker there, waits for its echo. */
    private static Result paho(String url, int n, int qos, boolean handle, boolean oneSubscribe) throws Exception {
        try {
            return pahoOnce(url, qos, handle, oneSubscribe);
        } catch (org.eclipse.paho.client.mqttv3.MqttException e) {
            System.out.println("bench: Paho reader failed: " + e.getMessage());
            return new Result(Double.NaN, -1);
        }
    }

    private static Result pahoOnce(String url, int qos, boolean handle, boolean oneSubscribe) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(url, "rb-paho-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMaxInflight(2000);
        c.connect(o).waitForCompletion(10_000);
        String state = PREFIX + "/_bridge/state";
        String marker = "{\"state\":\"online\",\"since\":\"" + System.nanoTime() + "\"}";
        AtomicLong count = new AtomicLong();
        Map<String, String> found = new ConcurrentHashMap<>();
        CountDownLatch echo = new CountDownLatch(1);
        c.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                echo.countDown();
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                if (topic.equals(state)) {
                    if (new String(m.getPayload(), StandardCharsets.UTF_8).equals(marker)) {
                        echo.countDown();
                    }
                    return;
                }
                count.incrementAndGet();
                if (handle) {
                    found.put(topic, new String(m.getPayload(), StandardCharsets.UTF_8));
                }
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken t) {}
        });
        List<String> filters = new ArrayList<>(new Topics(PREFIX).zoneFilters());
        filters.add(state);
        long t0 = System.nanoTime();
        if (oneSubscribe) {
            int[] q = new int[filters.size()];
            java.util.Arrays.fill(q, qos);
            c.subscribe(filters.toArray(String[]::new), q).waitForCompletion(10_000);
        } else {
            for (String f : filters) {
                c.subscribe(f, qos).waitForCompletion(10_000);
            }
        }
        c.publish(state, marker.getBytes(StandardCharsets.UTF_8), 1, true).waitForCompletion(10_000);
        boolean done = echo.await(120, TimeUnit.SECONDS);
        double ms = (System.nanoTime() - t0) / 1e6;
        c.disconnect().waitForCompletion(10_000);
        c.close();
        return new Result(done ? ms : Double.NaN, handle ? found.size() : count.get());
    }

    /**
     * The link itself, from its start (connect): until a separate client sees its online message,
     * and until its reconcile is handed the broker's copy.
     */
    private static Result[] link(String url) throws Exception {
        CompletableFuture<Long> online = new CompletableFuture<>();
        MqttAsyncClient watcher = new MqttAsyncClient(url, "rb-watch", new MemoryPersistence());
        watcher.connect().waitForCompletion(10_000);
        watcher.subscribe(PREFIX + "/_bridge/state", 1, (t, m) -> {
            if (!m.isRetained() && new String(m.getPayload(), StandardCharsets.UTF_8).contains("\"online\"")) {
                online.complete(System.nanoTime());
            }
        }).waitForCompletion(10_000);
        Topics topics = new Topics(PREFIX);
        MqttLink link = new MqttLink(new MqttLink.Settings(url, "rb-link", null, null, null, 30), topics);
        CompletableFuture<org.dnssec2mqtt.mqtt.RetainedCopy> got = new CompletableFuture<>();
        link.attach(ReadBackSession.of(topics, got));
        long t0 = System.nanoTime();
        link.start();
        int size = got.get(180, TimeUnit.SECONDS).size();
        double ms = (System.nanoTime() - t0) / 1e6;
        double onlineMs = (online.get(10, TimeUnit.SECONDS) - t0) / 1e6;
        link.close();
        watcher.disconnect().waitForCompletion(10_000);
        watcher.close();
        return new Result[] {new Result(onlineMs, size), new Result(ms, size)};
    }
}
