package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * What the self-signing peers ({@link KnotServer}, {@link BindServer}, {@link PowerDnsServer})
 * have in common: one foreground process on 127.0.0.1 and a free port, with its own temporary
 * directory; zones it signs itself with ECDSAP256SHA256 keys; NOTIFYs to 127.0.0.1:notifyPort,
 * optionally TSIG-signed.
 *
 * <pre>{@code
 * try (KnotServer knot = new KnotServer()
 *         .tsigKey("notify-key.", "hmac-sha256", secretBase64)
 *         .zone("example.test", notifyPort, "notify-key.")   // null: unsigned NOTIFY; port 0: none
 *         .start()) {
 *     List<DNSKEYRecord> keys = knot.dnskeys("example.test");
 *     knot.rollKsk("example.test");
 *     knot.awaitDnskeys("example.test", set -> set.size() == keys.size() + 1, Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <p>The zone content is made here ({@link #zoneText(String, long)}): SOA, NS and the name server's
 * A record, TTL 300. Every key operation of a subclass ends with the server publishing the change
 * under a new SOA serial and NOTIFYing, like an operator's change would.
 *
 * @param <S> the concrete server, so the builder methods chain without casts
 */
public abstract class AuthoritativeServer<S extends AuthoritativeServer<S>> implements AutoCloseable {
    /** How long {@link #start()} waits for the server to serve every zone, signed. */
    protected static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    /** A zone to serve: NOTIFYs go to 127.0.0.1:notifyPort (none when 0), TSIG-signed when tsigKeyName is set. */
    protected record Zone(String name, int notifyPort, String tsigKeyName) {}

    /** A TSIG key as the servers' configs spell it: name, algorithm (e.g. "hmac-sha256"), Base64 secret. */
    protected record TsigKey(String name, String algorithm, String secret) {}

    protected final Path dir;
    private final boolean ownsDir;
    protected final List<Zone> zones = new ArrayList<>();
    protected final Map<String, TsigKey> keys = new LinkedHashMap<>();
    protected int port;
    protected Process process;

    /** A server keeping its files in a new temporary directory that {@link #close()} deletes. */
    protected AuthoritativeServer(String prefix) {
        try {
            this.dir = Files.createTempDirectory(prefix).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.ownsDir = true;
    }

    /** A server keeping its files in {@code dir} (left in place on close, for post-mortems). */
    protected AuthoritativeServer(Path dir) {
        try {
            this.dir = Files.createDirectories(dir).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.ownsDir = false;
    }

    /** Declares a TSIG key; {@code algorithm} like "hmac-sha256", {@code base64Secret} the shared secret. */
    public S tsigKey(String name, String algorithm, String base64Secret) {
        requireNotStarted();
        keys.put(name, new TsigKey(name, algorithm, base64Secret));
        return self();
    }

    /** Serves and signs {@code name} without NOTIFYs. */
    public S zone(String name) {
        return zone(name, 0, null);
    }

    /**
     * Serves and signs {@code name}, NOTIFYing 127.0.0.1:{@code notifyPort} (none when 0), signed
     * with the TSIG key {@code tsigKeyName} (declared with {@link #tsigKey}) or unsigned when null.
     */
    public S zone(String name, int notifyPort, String tsigKeyName) {
        requireNotStarted();
        if (tsigKeyName != null && !keys.containsKey(tsigKeyName)) {
            throw new IllegalArgumentException("expected a TSIG key declared with tsigKey(); got " + tsigKeyName);
        }
        zones.add(new Zone(name, notifyPort, tsigKeyName));
        return self();
    }

    /**
     * Writes the config, starts the server in the foreground and waits until it serves every zone's
     * SOA and a non-empty DNSKEY set over TCP. On failure the process is stopped before throwing.
     */
    public abstract S start();

    /** The port the server listens on (TCP and UDP) at 127.0.0.1. */
    public int port() {
        return port;
    }

    /** 127.0.0.1 and {@link #port()}. */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** The server's temporary directory: config, keys, zone files, log. */
    public Path dir() {
        return dir;
    }

    /** Queries the server over TCP with EDNS and the DO bit (so RRSIGs come along). */
    public Message query(String name, int type) {
        try {
            SimpleResolver resolver = new SimpleResolver(address());
            resolver.setTCP(true);
            resolver.setTimeout(Duration.ofSeconds(3));
            resolver.setEDNS(0, 4096, ExtendedFlags.DO, List.of());
            return resolver.send(Message.newQuery(Record.newRecord(absolute(name), type, 1)));
        } catch (IOException e) {
            throw new UncheckedIOException("query " + name + "/" + Type.string(type) + " to " + address(), e);
        }
    }

    /** The DNSKEY records the server serves for {@code zone} now (TCP, DO). */
    public List<DNSKEYRecord> dnskeys(String zone) {
        return dnskeysIn(query(zone, Type.DNSKEY));
    }

    /**
     * The key tags of the RRSIGs over the served DNSKEY RRset (which keys sign it; a revoked KSK
     * keeps signing under its new tag, RFC 5011 §2.1).
     */
    public Set<Integer> dnskeySigners(String zone) {
        return query(zone, Type.DNSKEY).getSectionRRsets(Section.ANSWER).stream()
                .filter(set -> set.getType() == Type.DNSKEY)
                .flatMap(set -> set.sigs().stream())
                .map(sig -> sig.getFootprint())
                .collect(Collectors.toSet());
    }

    /** The SOA serial served for {@code zone} over TCP, or -1 when the server does not answer one (yet). */
    public long servedSerial(String zone) {
        try {
            SimpleResolver resolver = new SimpleResolver(address());
            resolver.setTCP(true);
            resolver.setTimeout(Duration.ofMillis(500));
            Message answer = resolver.send(Message.newQuery(Record.newRecord(absolute(zone), Type.SOA, 1)));
            for (Record record : answer.getSection(Section.ANSWER)) {
                if (record instanceof SOARecord soa) {
                    return soa.getSerial();
                }
            }
        } catch (IOException notYet) {
            // not listening yet, still loading, or a pooled TCP connection the server closed: poll again
        }
        return -1;
    }

    /**
     * Polls DNSKEY over TCP until the served set satisfies {@code match}; returns that set. Fails
     * with the last set seen and the server's log on timeout.
     */
    public List<DNSKEYRecord> awaitDnskeys(String zone, Predicate<List<DNSKEYRecord>> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<DNSKEYRecord> seen = List.of();
        String error = "";
        while (true) {
            try {
                seen = dnskeys(zone);
                if (match.test(seen)) {
                    return seen;
                }
            } catch (UncheckedIOException e) {
                error = " (last query failed: " + e.getCause() + ")";
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("DNSKEY set of " + zone + " did not match within " + timeout
                        + error + "; last served:\n" + describe(seen) + "\n" + log());
            }
            pause();
        }
    }

    /** Polls the SOA over TCP until {@code zone} serves a serial other than {@code serial}; returns it. */
    public long awaitSerialChange(String zone, long serial, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long seen = servedSerial(zone);
            if (seen >= 0 && seen != serial) {
                return seen;
            }
            pause();
        }
        throw new AssertionError("expected " + zone + " to serve a serial other than " + serial
                + " within " + timeout + "\n" + log());
    }

    /** The server's output so far (stdout and stderr), for failure messages. */
    public String log() {
        Path file = dir.resolve(logFileName());
        try {
            return "---- " + getClass().getSimpleName() + " log (" + dir + ") ----\n"
                    + (Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(no log yet)\n");
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")\n";
        }
    }

    /** Stops the server and everything it forked; deletes the directory if this object created it. */
    @Override
    public void close() {
        if (process != null) {
            NsdServer.stopTree(process);
            process = null;
        }
        if (ownsDir) {
            NsdServer.deleteTree(dir);
        }
    }

    /** A fresh random 256-bit secret in Base64, for TSIG keys (hmac-sha256) and rndc. */
    public static String randomSecret() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return Base64.getEncoder().encodeToString(secret);
    }

    /** One DNSKEY a line with flags and key tag, for failure messages. */
    public static String describe(List<DNSKEYRecord> keys) {
        if (keys.isEmpty()) {
            return "  (no DNSKEY)";
        }
        StringBuilder text = new StringBuilder();
        for (DNSKEYRecord key : keys) {
            text.append("  flags=").append(key.getFlags()).append(" tag=").append(key.getFootprint())
                    .append(" alg=").append(key.getAlgorithm()).append('\n');
        }
        return text.toString();
    }

    /** The distinct flags values in a DNSKEY set (256 ZSK, 257 KSK, 385 revoked KSK). */
    public static Set<Integer> flags(List<DNSKEYRecord> keys) {
        return keys.stream().map(DNSKEYRecord::getFlags).collect(Collectors.toSet());
    }

    /** How many keys in a DNSKEY set have exactly {@code flags}. */
    public static long count(List<DNSKEYRecord> keys, int flags) {
        return keys.stream().filter(k -> k.getFlags() == flags).count();
    }

    /** The DNSKEY records in a message's answer section. */
    public static List<DNSKEYRecord> dnskeysIn(Message answer) {
        return answer.getSection(Section.ANSWER).stream()
                .filter(DNSKEYRecord.class::isInstance).map(DNSKEYRecord.class::cast).toList();
    }

    /** {@code this}, typed as the concrete server. */
    protected abstract S self();

    /** File name (in {@link #dir}) that the process's stdout and stderr go to. */
    protected abstract String logFileName();

    /** The unsigned zone every server starts from: SOA with {@code serial}, NS, and the NS's address. */
    protected static String zoneText(String zone, long serial) {
        return "$ORIGIN " + absolute(zone) + "\n"
                + "$TTL 300\n"
                + "@ IN SOA ns1 hostmaster " + serial + " 3600 600 86400 300\n"
                + "@ IN NS ns1\n"
                + "ns1 IN A 127.0.0.1\n";
    }

    /** Starts {@code command} in {@link #dir} with output to {@link #logFileName()}; sets {@link #process}. */
    protected void launch(List<String> command) {
        launch(command, Map.of());
    }

    /** {@link #launch(List)} with {@code env} added to the inherited environment. */
    protected void launch(List<String> command, Map<String, String> env) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().putAll(env);
            process = builder
                    .directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(logFileName()).toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Waits until every zone serves a SOA and a non-empty DNSKEY set over TCP; closes and throws otherwise. */
    protected void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            for (Zone zone : zones) {
                while (!servesSigned(zone.name())) {
                    if (!process.isAlive()) {
                        throw new IllegalStateException(getClass().getSimpleName() + " exited with "
                                + process.exitValue() + " at start-up\n" + log());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(getClass().getSimpleName() + " did not serve " + zone.name()
                                + " signed over TCP on " + address() + " within " + START_TIMEOUT + "\n" + log());
                    }
                    pause();
                }
            }
        } catch (RuntimeException e) {
            close(); // the caller never gets this object to close, so don't leave the server running
            throw e;
        }
    }

    /** Runs a control tool in {@link #dir}; on failure the exception carries the server's log too. */
    protected String control(List<String> command) {
        try {
            return Exec.run(dir, command);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "\n" + log(), e);
        }
    }

    protected void requireStarted() {
        if (process == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " not started");
        }
    }

    protected void requireNotStarted() {
        if (process != null) {
            throw new IllegalStateException(getClass().getSimpleName() + " already started");
        }
    }

    protected Zone zoneNamed(String name) {
        Name wanted = absolute(name);
        return zones.stream().filter(z -> absolute(z.name()).equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("expected a zone of this server; got " + name));
    }

    protected static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polling interval for waits on a separate process: there is no event to wait for. */
    protected static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Name absolute(String name) {
        try {
            return Name.fromString(name, Name.root);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("bad name: " + name, e);
        }
    }

    private boolean servesSigned(String zone) {
        if (servedSerial(zone) < 0) {
            return false;
        }
        try {
            return !dnskeys(zone).isEmpty();
        } catch (UncheckedIOException notYet) {
            return false;
        }
    }
}
