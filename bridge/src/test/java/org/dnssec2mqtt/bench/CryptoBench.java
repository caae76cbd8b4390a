package org.dnssec2mqtt.bench;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.dnssec2mqtt.crypto.CryptoProvider;
import org.dnssec2mqtt.demo.DemoZone;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;

/**
 * The cryptography of a check, timed under each {@code crypto.provider} (no JMH: warm-up, then
 * the median of many timed batches). Run with {@code bridge/bench/crypto.sh}; it prints the
 * Markdown table of bridge/docs/performance.md. Pure CPU, no network.
 */
public final class CryptoBench {
    private static final int WARMUP_MILLIS = 3000;
    /** The JDK's EC code is plain Java: it needs thousands of runs before the JIT has compiled it. */
    private static final int WARMUP_MIN_OPS = 5000;
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final int BATCHES = 200;
    private static final long BATCH_NANOS = 5_000_000; // each batch runs about 5 ms

    /** One operation to time; returns something so the JIT cannot drop the work. */
    interface Op {
        Object run() throws Exception;
    }

    private CryptoBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, Op> ops = ops();
        Map<String, Map<CryptoProvider.Mode, Double>> medians = new LinkedHashMap<>();
        Map<CryptoProvider.Mode, String> names = new LinkedHashMap<>();
        for (CryptoProvider.Mode mode : CryptoProvider.Mode.values()) {
            names.put(mode, CryptoProvider.install(mode));
            for (Map.Entry<String, Op> e : ops.entrySet()) {
                double us = medianMicros(e.getValue());
                medians.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>()).put(mode, us);
                System.err.printf(Locale.ROOT, "%-12s %-55s %9.1f µs%n", names.get(mode), e.getKey(), us);
            }
        }
        CryptoProvider.Mode jdk = CryptoProvider.Mode.JDK;
        CryptoProvider.Mode auto = CryptoProvider.Mode.AUTO;
        System.out.println("Java " + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs; median µs of thread CPU time per operation over " + BATCHES + " batches of ~5 ms each,"
                + " after at least " + WARMUP_MILLIS + " ms and " + WARMUP_MIN_OPS + " operations of warm-up\n");
        System.out.println("| operation | " + names.get(jdk) + " | " + names.get(auto) + " | speed-up |");
        System.out.println("|---|---:|---:|---:|");
        for (Map.Entry<String, Map<CryptoProvider.Mode, Double>> e : medians.entrySet()) {
            double a = e.getValue().get(jdk);
            double b = e.getValue().get(auto);
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f× |%n", e.getKey(), a, b, a / b);
        }
        CryptoProvider.install(jdk);
    }

    /** The operations, each set up once with fixed keys and data. */
    private static Map<String, Op> ops() throws Exception {
        Map<String, Op> ops = new LinkedHashMap<>();
        // A real answer: KSK + ZSK, ECDSAP256SHA256, the DNSKEY RRset signed by the KSK.
        Instant signedAt = Instant.parse("2026-11-22T06:00:00Z");
        DemoZone zone = new DemoZone(Name.fromConstantString("bench.test."), 1, Clock.fixed(signedAt, ZoneOffset.UTC));
        DemoZone.Key ksk = zone.addKey(true, true);
        zone.addKey(false, true);
        DemoZone.Signed signed = zone.signed();
        RRset dnskeys = signed.dnskey();
        RRSIGRecord sig = signed.dnskey().sigs().stream().filter(s -> s.getFootprint() == ksk.tag()).findFirst()
                .orElseThrow();
        DNSKEYRecord kskRecord = ksk.record();
        Instant at = signedAt.plusSeconds(60);
        ops.put("DNSSEC.verify, two-key DNSKEY RRset, ECDSAP256SHA256", () -> {
            DNSSEC.verify(dnskeys, sig, kskRecord, at);
            return sig;
        });

        byte[] message = new byte[300];
        for (int i = 0; i < message.length; i++) {
            message[i] = (byte) (i * 31);
        }
        ops.put("ECDSA P-256 verify (SHA256withECDSA, 300 bytes)", verify("EC", new ECGenParameterSpec("secp256r1"),
                "SHA256withECDSA", message));
        ops.put("RSA-2048 verify (SHA256withRSA, 300 bytes)", verify("RSA", 2048, "SHA256withRSA", message));
        ops.put("Ed25519 verify (300 bytes)", verify("Ed25519", null, "Ed25519", message));
        ops.put("DS SHA-256 of a P-256 DNSKEY", () -> new DSRecord(kskRecord.getName(), DClass.IN, 300,
                DNSSEC.Digest.SHA256, kskRecord));
        SecretKeySpec secret = new SecretKeySpec("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII),
                "HmacSHA256");
        byte[] tsigData = new byte[120]; // a NOTIFY and its TSIG variables
        ops.put("HMAC-SHA256 (TSIG, 120 bytes, new Mac each)", () -> {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(secret);
            return mac.doFinal(tsigData);
        });
        return ops;
    }

    /** A verification of one fixed signature; the Signature object is new each time, as in dnsjava. */
    private static Op verify(String keyType, Object init, String algorithm, byte[] message) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(keyType);
        if (init instanceof ECGenParameterSpec spec) {
            g.initialize(spec);
        } else if (init instanceof Integer bits) {
            g.initialize(bits);
        }
        KeyPair pair = g.generateKeyPair();
        Signature s = Signature.getInstance(algorithm);
        s.initSign(pair.getPrivate());
        s.update(message);
        byte[] signature = s.sign();
        return () -> {
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pair.getPublic());
            v.update(message);
            if (!v.verify(signature)) {
                throw new IllegalStateException(algorithm + " did not verify");
            }
            return v;
        };
    }

    /**
     * Warms up, sizes a batch to ~5 ms, then returns the median per-operation time of the batches.
     * Time is this thread's CPU time, not wall time: the machine is shared, and a thread waiting
     * for a core would otherwise count the other processes' work as ours.
     */
    static double medianMicros(Op op) throws Exception {
        Object sink = null;
        long t0 = CPU.getCurrentThreadCpuTime();
        long end = System.nanoTime() + WARMUP_MILLIS * 1_000_000L;
        long n = 0;
        while (System.nanoTime() < end || n < WARMUP_MIN_OPS) {
            sink = op.run();
            n++;
        }
        long perBatch = Math.max(1, n * BATCH_NANOS / Math.max(1, CPU.getCurrentThreadCpuTime() - t0));
        List<Double> times = new ArrayList<>();
        for (int b = 0; b < BATCHES; b++) {
            long start = CPU.getCurrentThreadCpuTime();
            for (long i = 0; i < perBatch; i++) {
                sink = op.run();
            }
            times.add((CPU.getCurrentThreadCpuTime() - start) / 1000.0 / perBatch);
        }
        if (sink == null) {
            throw new IllegalStateException("no result");
        }
        times.sort(null);
        return times.get(times.size() / 2);
    }
}
