package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A real NSD ({@code /usr/sbin/nsd -d}) serving zones on 127.0.0.1 and a free port, as an ordinary
 * process with its own temporary config (not the system service).
 *
 * <pre>{@code
 * try (NsdServer nsd = new NsdServer(tempDir)
 *         .tsigKey("notify-key", "hmac-sha256", secretBase64)
 *         .zone("example.test", signedZone.sign(), bridgePort, null)         // notify: ...@port NOKEY
 *         .zone("other.test", otherFile, bridgePort, "notify-key")          // NOTIFY signed with TSIG
 *         .start()) {
 *     nsd.reload("example.test");   // re-reads the zone file; NSD then NOTIFYs
 * }
 * }</pre>
 *
 * <p>NSD NOTIFYs every zone at start-up and retries each NOTIFY 5 times 3 s apart until answered.
 * Remote control goes through a unix socket ({@code control-interface: /path}), which needs no
 * TLS keys. {@link #log()} returns NSD's log for failure messages.
 */
public final class NsdServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    /** A zone; {@code primaryPort} > 0 makes it a secondary transferring from 127.0.0.1:primaryPort. */
    private record Zone(String name, Path file, List<Integer> notifyPorts, String tsigKeyName, int primaryPort) {}

    private record Key(String name, String algorithm, String secret) {}

    private final Path dir;
    private final boolean ownsDir;
    private final List<Zone> zones = new ArrayList<>();
    private final List<Key> keys = new ArrayList<>();
    private int port;
    private String ip = "127.0.0.1";
    private int fixedPort;
    private Process process;

    /** An NSD keeping its config, log and socket in {@code dir} (left in place on close). */
    public NsdServer(Path dir) {
        this.dir = dir;
        this.ownsDir = false;
    }

    /** An NSD in a temporary directory that {@link #close()} deletes. */
    public NsdServer() {
        try {
            this.dir = Files.createTempDirectory("nsd");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.ownsDir = true;
    }

    /**
     * Listens on {@code ip} (another loopback address, e.g. 127.0.0.2: Linux routes all of
     * 127.0.0.0/8 to lo) and {@code port} instead of 127.0.0.1 and a free port: several NSDs can
     * then share one port, as a zone's name servers do.
     */
    public NsdServer listenOn(String ip, int port) {
        this.ip = ip;
        this.fixedPort = port;
        return this;
    }

    /** Declares a TSIG key ({@code algorithm} as NSD spells it, e.g. "hmac-sha256"; secret in Base64). */
    public NsdServer tsigKey(String name, String algorithm, String base64Secret) {
        keys.add(new Key(name, algorithm, base64Secret));
        return this;
    }

    /** Serves {@code zoneFile} as primary for {@code name}, without NOTIFYs. */
    public NsdServer zone(String name, Path zoneFile) {
        return zone(name, zoneFile, 0, null);
    }

    /**
     * Serves {@code zoneFile} as primary for {@code name} and NOTIFYs 127.0.0.1:{@code notifyPort}
     * (none when 0), signed with the TSIG key {@code tsigKeyName} or unsigned when null.
     */
    public NsdServer zone(String name, Path zoneFile, int notifyPort, String tsigKeyName) {
        return zone(name, zoneFile, notifyPort > 0 ? List.of(notifyPort) : List.of(), tsigKeyName);
    }

    /** As {@link #zone(String, Path, int, String)}, NOTIFYing 127.0.0.1 at each of {@code notifyPorts} (several bridges). */
    public NsdServer zone(String name, Path zoneFile, List<Integer> notifyPorts, String tsigKeyName) {
        zones.add(new Zone(name, zoneFile.toAbsolutePath(), List.copyOf(notifyPorts), tsigKeyName, 0));
        return this;
    }

    /**
     * Serves {@code name} as a secondary of 127.0.0.1:{@code primaryPort} ({@code request-xfr}, and
     * {@code allow-notify} from 127.0.0.1, no TSIG), keeping the transferred zone in this directory;
     * NOTIFYs 127.0.0.1:{@code notifyPort} (none when 0) after each transfer. {@link #start()} does
     * not wait for the first transfer: poll {@link #awaitSerial} or {@link #query}.
     */
    public NsdServer secondary(String name, int primaryPort, int notifyPort) {
        zones.add(new Zone(name, dir.toAbsolutePath().resolve(name + ".zone"), notifyPort > 0 ? List.of(notifyPort) : List.of(), null, primaryPort));
        return this;
    }

    /** Starts NSD and waits until it answers the first zone's SOA over TCP. */
    public NsdServer start() {
        Path nsd = Peers.require("/usr/sbin/nsd");
        Peers.require("/usr/sbin/nsd-control");
        if (process != null) {
            throw new IllegalStateException("NSD already started");
        }
        port = fixedPort > 0 ? fixedPort : FreePorts.tcpAndUdp();
        try {
            Files.createDirectories(dir);
            Files.writeString(configFile(), config(), StandardCharsets.UTF_8);
            process = new ProcessBuilder(nsd.toString(), "-d", "-c", configFile().toString())
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("nsd.out").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            awaitReady();
        } catch (RuntimeException e) {
            close(); // the caller never gets this object to close, so don't leave NSD running
            throw e;
        }
        return this;
    }

    /** The port NSD listens on (TCP and UDP), at 127.0.0.1 unless {@link #listenOn} said otherwise. */
    public int port() {
        return port;
    }

    /** The address and {@link #port()} NSD listens on. */
    public InetSocketAddress address() {
        return new InetSocketAddress(ip, port);
    }

    /** The generated nsd.conf. */
    public Path configFile() {
        return dir.resolve("nsd.conf");
    }

    /** Re-reads every zone file that changed on disk (NSD compares mtimes); changed zones get NOTIFYs. */
    public void reload() {
        control("reload");
    }

    /** Re-reads {@code zone}'s file; when its serial changed NSD sends NOTIFYs. Asynchronous in NSD. */
    public void reload(String zone) {
        control("reload", zone);
    }

    /** Sends {@code zone}'s NOTIFYs now, serial unchanged ({@code nsd-control notify ZONE}). */
    public void notify(String zone) {
        control("notify", zone);
    }

    /** Polls the SOA over TCP until {@code zone} serves at least {@code serial} (a reload is asynchronous). */
    public void awaitSerial(String zone, long serial, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long seen = -1;
        while (System.nanoTime() < deadline) {
            seen = servedSerial(zone);
            if (seen >= serial) {
                return;
            }
            pause();
        }
        throw new AssertionError("expected " + zone + " serial >= " + serial + " within " + timeout
                + "; got " + seen + "\n" + log());
    }

    /**
     * Queries NSD over TCP with EDNS and the DO bit (so RRSIGs come along). Right after a reload
     * NSD's old server process resets the TCP connections it still accepts (see the bridge's
     * ZoneFetcherNsdReloadIT): a reset is asked again, up to five times, 50 ms apart.
     */
    public Message query(String name, int type) {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                SimpleResolver resolver = new SimpleResolver(address());
                resolver.setTCP(true);
                resolver.setTimeout(Duration.ofSeconds(3));
                resolver.setEDNS(0, 4096, ExtendedFlags.DO, List.of());
                Message query = Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, 1));
                return resolver.send(query);
            } catch (java.net.SocketException | java.io.EOFException e) {
                last = e; // reset or closed by the old process of a reload
                pause();
            } catch (IOException e) {
                last = e;
                break;
            }
        }
        throw new UncheckedIOException("query " + name + "/" + Type.string(type) + " to " + address(), last);
    }

    /** NSD's log file and console output so far. */
    public String log() {
        StringBuilder text = new StringBuilder("---- NSD log (" + dir + ") ----\n");
        for (String file : List.of("nsd.log", "nsd.out")) {
            Path path = dir.resolve(file);
            try {
                if (Files.exists(path)) {
                    text.append(Files.readString(path, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                text.append("(cannot read ").append(path).append(": ").append(e).append(")\n");
            }
        }
        return text.toString();
    }

    /** Stops NSD and the processes it forked; deletes the directory if this object created it. */
    @Override
    public void close() {
        if (process != null) {
            stopTree(process);
            process = null;
        }
        if (ownsDir) {
            deleteTree(dir);
        }
    }

    private String config() {
        StringBuilder conf = new StringBuilder();
        conf.append("server:\n")
                .append("  port: ").append(port).append('\n')
                .append("  ip-address: ").append(ip).append('\n')
                // no privilege drop: tests may run as root, and the files are ours
                .append("  username: \"\"\n")
                .append("  zonesdir: \"").append(dir).append("\"\n")
                .append("  database: \"\"\n")
                .append("  pidfile: \"").append(dir.resolve("nsd.pid")).append("\"\n")
                .append("  xfrdfile: \"").append(dir.resolve("xfrd.state")).append("\"\n")
                .append("  xfrdir: \"").append(dir).append("\"\n")
                .append("  zonelistfile: \"").append(dir.resolve("zone.list")).append("\"\n")
                .append("  logfile: \"").append(dir.resolve("nsd.log")).append("\"\n")
                .append("  server-count: 1\n")
                .append("  verbosity: 2\n");
        if (hasRateLimiting()) {
            // Debian builds NSD with RRL at 200 qps per source: tests querying fast would get
            // truncated answers. 0 switches it off.
            conf.append("  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n");
        }
        conf.append("remote-control:\n")
                .append("  control-enable: yes\n")
                // an absolute path makes NSD use a unix socket: no TLS keys needed
                .append("  control-interface: \"").append(controlSocket()).append("\"\n");
        for (Key key : keys) {
            conf.append("key:\n")
                    .append("  name: \"").append(key.name()).append("\"\n")
                    .append("  algorithm: ").append(key.algorithm()).append('\n')
                    .append("  secret: \"").append(key.secret()).append("\"\n");
        }
        for (Zone zone : zones) {
            conf.append("zone:\n")
                    .append("  name: \"").append(zone.name()).append("\"\n")
                    .append("  zonefile: \"").append(zone.file()).append("\"\n");
            if (zone.primaryPort() > 0) {
                conf.append("  request-xfr: 127.0.0.1@").append(zone.primaryPort()).append(" NOKEY\n")
                        .append("  allow-notify: 127.0.0.1 NOKEY\n");
            }
            for (int notifyPort : zone.notifyPorts()) {
                conf.append("  notify: 127.0.0.1@").append(notifyPort).append(' ')
                        .append(zone.tsigKeyName() == null ? "NOKEY" : zone.tsigKeyName()).append('\n');
            }
        }
        return conf.toString();
    }

    private Path controlSocket() {
        return dir.resolve("nsd.sock");
    }

    private void control(String... args) {
        List<String> command = new ArrayList<>(List.of(
                Peers.require("/usr/sbin/nsd-control").toString(), "-c", configFile().toString()));
        command.addAll(List.of(args));
        try {
            Exec.run(dir, command);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "\n" + log(), e);
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        // a secondary has nothing to serve before its first transfer: then NSD answering at all will do
        String zone = zones.stream().filter(z -> z.primaryPort() == 0).map(Zone::name).findFirst().orElse(null);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("NSD exited with " + process.exitValue() + " at start-up\n" + log());
            }
            if (zone != null ? servedSerial(zone) >= 0 : answers()) {
                return;
            }
            pause();
        }
        throw new IllegalStateException("NSD did not answer SOA " + (zone == null ? "." : zone) + " over TCP on " + address()
                + " within " + START_TIMEOUT + "\n" + log());
    }

    /** The SOA serial NSD serves for {@code zone} over TCP, or -1 if it does not answer (yet). */
    private long servedSerial(String zone) {
        try {
            SimpleResolver resolver = new SimpleResolver(address());
            resolver.setTCP(true);
            resolver.setTimeout(Duration.ofMillis(500));
            Message answer = resolver.send(
                    Message.newQuery(Record.newRecord(Name.fromString(zone, Name.root), Type.SOA, 1)));
            for (Record record : answer.getSection(Section.ANSWER)) {
                if (record instanceof SOARecord soa) {
                    return soa.getSerial();
                }
            }
        } catch (IOException notYet) {
            // not listening yet, or still loading
        }
        return -1;
    }

    private boolean answers() {
        try {
            SimpleResolver resolver = new SimpleResolver(address());
            resolver.setTCP(true);
            resolver.setTimeout(Duration.ofMillis(500));
            return resolver.send(Message.newQuery(Record.newRecord(Name.root, Type.SOA, 1))).getRcode() != Rcode.SERVFAIL;
        } catch (IOException notYet) {
            return false;
        }
    }

    private static boolean hasRateLimiting() {
        // "nsd -v" prints the configure line; Debian's has --enable-ratelimit
        try {
            Process version = new ProcessBuilder(Peers.require("/usr/sbin/nsd").toString(), "-v")
                    .redirectErrorStream(true).start();
            String out = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            version.waitFor(5, TimeUnit.SECONDS);
            return out.contains("--enable-ratelimit");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50); // polling interval, not a wait for an event
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGTERM to the process and everything it forked, then SIGKILL to whatever is left after 5 s. */
    static void stopTree(Process process) {
        // Collect the children first: once the parent is gone they are re-parented and lost.
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (ProcessHandle handle : tree) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                handle.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception stillAlive) {
                handle.destroyForcibly();
            }
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // best effort: a leftover temp directory must not fail a test
        }
    }
}
