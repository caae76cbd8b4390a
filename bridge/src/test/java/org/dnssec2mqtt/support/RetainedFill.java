package org.dnssec2mqtt.support;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** Fills a broker with many retained topics quickly: QoS 1 (stored by every broker), 1,000 in flight. */
public final class RetainedFill {
    private RetainedFill() {}

    /** Publishes {@code n} retained messages, {@code topic(i)} = {@code payload(i)}, and returns once all are acknowledged. */
    public static void publish(String url, int n, IntFunction<String> topic, IntFunction<String> payload) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(url, "retained-fill", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMaxInflight(2000);
        c.connect(o).waitForCompletion(10_000);
        Semaphore window = new Semaphore(1000);
        IMqttActionListener release = new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken t) {
                window.release();
            }

            @Override
            public void onFailure(IMqttToken t, Throwable e) {
                window.release();
            }
        };
        for (int i = 0; i < n; i++) {
            window.acquire();
            c.publish(topic.apply(i), payload.apply(i).getBytes(StandardCharsets.UTF_8), 1, true, null, release);
        }
        window.acquire(1000);
        c.disconnect().waitForCompletion(10_000);
        c.close();
    }
}
