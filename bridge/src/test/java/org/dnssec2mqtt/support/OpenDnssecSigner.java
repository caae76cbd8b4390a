package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real OpenDNSSEC 2.1 signer ({@code ods-enforcerd} + {@code ods-signerd}, Debian packages
 * {@code opendnssec} and {@code softhsm2}) run as two foreground processes with their own temporary
 * config, SoftHSM2 token and SQLite enforcer database. The signer serves the signed zones itself on
 * 127.0.0.1 and a free port (its DNS output adapter answers SOA, DNSKEY, AXFR and IXFR) and NOTIFYs
 * 127.0.0.1:notifyPort over UDP after each new serial.
 *
 * <pre>{@code
 * OpenDnssecSigner ods = new OpenDnssecSigner();              // its port is chosen now
 * try (NsdServer nsd = new NsdServer(dir).secondary("example.test", ods.port(), bridgePort).start()) {
 *     ods.zone("example.test", nsd.port(), null).start();      // signs, NOTIFYs NSD, NSD transfers
 *     ods.enforcer("key", "rollover", "--zone", "example.test", "--keytype", "ZSK");
 * } finally {
 *     ods.close();
 * }
 * }</pre>
 *
 * <p>Keys: one KSK and one ZSK, ECDSAP256SHA256, in a SoftHSM2 token ({@code SOFTHSM2_CONF} points
 * at this directory). The KASP policy ({@link #POLICY}) has second-long TTLs, safety margins and
 * propagation delays, and signatures valid 1 h but refreshed once 10 s old, so the enforcer moves
 * keys on within seconds: after {@code ods-enforcer key rollover --keytype ZSK} the new ZSK is
 * served within about a second and the old one leaves the DNSKEY set some 10-25 s later. The KSK
 * stays "ready, waiting for ds-seen" (there is no parent); it is served and signs the DNSKEY set
 * all the same. OpenDNSSEC does not implement RFC 5011 (the KASP schema's {@code <RFC5011/>} is
 * "not implemented yet"): no revocation here.
 *
 * <p>Pitfalls, seen with 2.1.12 on Debian 12:
 * <ul>
 *   <li>{@code ods-signerd} validates conf.xml against conf.rng, which has no {@code
 *       Signer/SocketFile} or {@code Signer/PidFile}, so the signer's control socket and pid file are
 *       always {@code /run/opendnssec/engine.sock} and {@code signerd.pid}, and the enforcer tells the
 *       signer about new signconfs through that socket too. One OpenDNSSEC per machine at a time:
 *       {@link #start()} refuses when another signer holds the pid file.
 *   <li>{@code ods-enforcer-db-setup} has no {@code -c} and reads only /etc/opendnssec/conf.xml,
 *       and {@code ods-enforcerd} exits at once without a database, so the database is made the way
 *       db-setup makes it: {@code /usr/share/opendnssec/schema.sqlite} plus one
 *       {@code databaseVersion} row.
 *   <li>The signer's listener is there for secondaries: it answers SOA (without its RRSIG, even
 *       with the DO bit), DNSKEY, AXFR and IXFR. A validating client such as the bridge needs a
 *       secondary in between (NSD: {@link NsdServer#secondary}), as in real deployments.
 *   <li>A NOTIFY the signer sends to a closed port is retried for some 15 s, and NOTIFYs for newer
 *       serials wait behind it: start the receiver first ({@link #port()} is known before start).
 *   <li>{@code ods-signerd} sometimes ignores SIGTERM: {@link #close()} sends SIGKILL after 2 s.
 *   <li>Without {@code <Syslog>} in conf.xml both daemons log to stderr, which goes to
 *       {@code enforcerd.log} and {@code signerd.log} here.
 * </ul>
 */
public final class OpenDnssecSigner extends AuthoritativeServer<OpenDnssecSigner> {
    /** The signer's control socket: fixed, see the class comment. */
    static final Path RUN_DIR = Path.of("/run/opendnssec");
    private static final Path SCHEMA = Path.of("/usr/share/opendnssec/schema.sqlite");
    private static final Path SOFTHSM_MODULE = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    private static final String PIN = "1234";
    private static final String TOKEN = "OpenDNSSEC";

    /**
     * The KASP policy: times in seconds so that a rollover finishes within a test. Refresh is
     * Validity minus 10 s: the signer replaces a signature once it is 10 s old, so the enforcer
     * counts the old ZSK's signatures gone after seconds, not days.
     */
    static final String POLICY = """
            <?xml version="1.0" encoding="UTF-8"?>
            <KASP>
              <Policy name="test">
                <Description>seconds-long timings for tests</Description>
                <Signatures>
                  <Resign>PT2S</Resign>
                  <Refresh>PT59M50S</Refresh>
                  <Validity><Default>PT1H</Default><Denial>PT1H</Denial></Validity>
                  <Jitter>PT0S</Jitter>
                  <InceptionOffset>PT60S</InceptionOffset>
                  <MaxZoneTTL>PT5S</MaxZoneTTL>
                </Signatures>
                <Denial><NSEC/></Denial>
                <Keys>
                  <TTL>PT1S</TTL>
                  <RetireSafety>PT1S</RetireSafety>
                  <PublishSafety>PT1S</PublishSafety>
                  <Purge>PT1H</Purge>
                  <KSK>
                    <Algorithm length="256">13</Algorithm>
                    <Lifetime>P1Y</Lifetime>
                    <Repository>SoftHSM</Repository>
                  </KSK>
                  <ZSK>
                    <Algorithm length="256">13</Algorithm>
                    <Lifetime>P1Y</Lifetime>
                    <Repository>SoftHSM</Repository>
                  </ZSK>
                </Keys>
                <Zone>
                  <PropagationDelay>PT1S</PropagationDelay>
                  <SOA><TTL>PT5S</TTL><Minimum>PT5S</Minimum><Serial>counter</Serial></SOA>
                </Zone>
                <Parent>
                  <PropagationDelay>PT1S</PropagationDelay>
                  <DS><TTL>PT1S</TTL></DS>
                  <SOA><TTL>PT1S</TTL><Minimum>PT1S</Minimum></SOA>
                </Parent>
              </Policy>
            </KASP>
            """;

    private Process enforcerd;
    private String dsCommands = "";

    /**
     * Sets the enforcer's {@code DelegationSignerSubmitCommand} and {@code DelegationSignerRetractCommand}
     * (an executable each, no arguments: the enforcer stat()s the whole string). The enforcer runs
     * them on {@code ods-enforcer key ds-submit|ds-retract --zone Z --keytag T}, one key per run.
     */
    public OpenDnssecSigner dsCommands(Path submit, Path retract) {
        requireNotStarted();
        dsCommands = "<DelegationSignerSubmitCommand>" + submit + "</DelegationSignerSubmitCommand>\n"
                + "<DelegationSignerRetractCommand>" + retract + "</DelegationSignerRetractCommand>\n";
        return this;
    }

    /** An OpenDNSSEC in a new temporary directory that {@link #close()} deletes. */
    public OpenDnssecSigner() {
        super("ods");
        port = FreePorts.tcpAndUdp();
    }

    /** An OpenDNSSEC keeping its files in {@code dir} (left in place on close). */
    public OpenDnssecSigner(Path dir) {
        super(dir);
        port = FreePorts.tcpAndUdp();
    }

    /**
     * The signer's listener port, chosen when this object is made: whoever receives its NOTIFYs
     * should be listening before {@link #start()}. A NOTIFY that finds no listener is retried for
     * some 15 s, and the signer sends no NOTIFY for a newer serial until it is done with that one.
     */
    @Override
    public int port() {
        return port;
    }

    @Override
    public OpenDnssecSigner start() {
        Path enforcerdBin = Peers.require("/usr/sbin/ods-enforcerd");
        Path signerdBin = Peers.require("/usr/sbin/ods-signerd");
        Peers.require("/usr/sbin/ods-enforcer");
        Peers.require("/usr/sbin/ods-signer");
        Path softhsmUtil = Peers.require("softhsm2-util");
        Path sqlite = Peers.require("sqlite3");
        for (Path file : List.of(SCHEMA, SOFTHSM_MODULE)) {
            if (!Files.exists(file)) {
                Peers.require(file.toString()); // fails in CI, skips locally, naming the package
            }
        }
        requireNotStarted();
        for (Zone zone : zones) {
            if (zone.tsigKeyName() != null) {
                throw new IllegalArgumentException("TSIG is not wired into this fixture's addns.xml; got "
                        + zone.tsigKeyName() + " for " + zone.name());
            }
        }
        claimRunDir();
        try {
            for (String sub : List.of("tokens", "enforcer", "signer", "signconf", "unsigned")) {
                Files.createDirectories(dir.resolve(sub));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write(dir.resolve("softhsm2.conf"), "directories.tokendir = " + dir.resolve("tokens") + "\n"
                + "objectstore.backend = file\nslots.removable = false\n");
        write(dir.resolve("conf.xml"), conf());
        write(dir.resolve("kasp.xml"), POLICY);
        write(dir.resolve("zonelist.xml"), zonelist());
        for (Zone zone : zones) {
            write(dir.resolve("unsigned").resolve(zone.name()), zoneText(zone.name()));
            write(addns(zone), addnsXml(zone));
        }
        control(withEnv(List.of(softhsmUtil.toString(), "--init-token", "--free", "--label", TOKEN,
                "--pin", PIN, "--so-pin", PIN)));
        // what ods-enforcer-db-setup does, minus its fixed /etc/opendnssec/conf.xml
        control(List.of(sqlite.toString(), database().toString(), ".read " + SCHEMA));
        control(List.of(sqlite.toString(), database().toString(), "INSERT INTO databaseVersion (version) VALUES (1)"));

        // one after the other: a signer opening the SoftHSM token while the enforcer does can miss it
        // ("hsm_get_slot_id(): could not find token with the name OpenDNSSEC") and exit
        Path conf = dir.resolve("conf.xml");
        enforcerd = daemon(List.of(enforcerdBin.toString(), "-d", "-c", conf.toString()), "enforcerd.log");
        try {
            awaitAnswer(enforcerd, "ods-enforcerd", dir.resolve("enforcer.sock"), () -> enforcer("running"));
            process = daemon(List.of(signerdBin.toString(), "-d", "-c", conf.toString()), "signerd.log");
            // the enforcer tells the signer about each new signconf once, through the signer's socket
            awaitAnswer(process, "ods-signerd", RUN_DIR.resolve("engine.sock"), () -> signer("running"));
            enforcer("policy", "import");
            enforcer("zonelist", "import");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        awaitReady(); // the enforcer makes keys and a signconf, tells the signer, the signer signs and serves
        return this;
    }

    /** Runs {@code ods-enforcer -s SOCKET ARGS} against the running enforcer; returns its output. */
    public String enforcer(String... args) {
        if (enforcerd == null) {
            throw new IllegalStateException("ods-enforcerd not started");
        }
        List<String> command = new ArrayList<>(List.of(Peers.require("/usr/sbin/ods-enforcer").toString(),
                "-s", dir.resolve("enforcer.sock").toString()));
        command.addAll(List.of(args));
        return control(command);
    }

    /** Runs {@code ods-signer -s /run/opendnssec/engine.sock ARGS}, e.g. {@code sign ZONE}; returns its output. */
    public String signer(String... args) {
        requireStarted();
        List<String> command = new ArrayList<>(List.of(Peers.require("/usr/sbin/ods-signer").toString(),
                "-s", RUN_DIR.resolve("engine.sock").toString()));
        command.addAll(List.of(args));
        return control(command);
    }

    /**
     * Re-signs {@code zone} now ({@code ods-signer sign ZONE}): a new serial, served and NOTIFYd,
     * keys unchanged. The NOTIFYs of the first signing may predate whoever listens.
     */
    public void sign(String zone) {
        signer("sign", zoneNamed(zone).name());
    }

    /** Both daemons' output, then the enforcer's key list (state and next transition per key). */
    @Override
    public String log() {
        StringBuilder text = new StringBuilder("---- OpenDnssecSigner (" + dir + ") ----\n");
        for (String file : List.of("enforcerd.log", "signerd.log")) {
            Path path = dir.resolve(file);
            text.append("-- ").append(file).append(" --\n");
            try {
                text.append(Files.exists(path) ? Files.readString(path, StandardCharsets.UTF_8) : "(none)\n");
            } catch (IOException e) {
                text.append("(cannot read: ").append(e).append(")\n");
            }
        }
        if (enforcerd != null && enforcerd.isAlive()) {
            try {
                text.append("-- ods-enforcer key list --verbose --\n")
                        .append(Exec.run(dir, List.of(Peers.require("/usr/sbin/ods-enforcer").toString(),
                                "-s", dir.resolve("enforcer.sock").toString(), "key", "list", "--verbose")));
            } catch (RuntimeException e) {
                text.append("(key list failed: ").append(e.getMessage()).append(")\n");
            }
        }
        return text.toString();
    }

    /** Stops the signer, then the enforcer; deletes the directory if this object created it. */
    @Override
    public void close() {
        Process enforcer = enforcerd;
        enforcerd = null;
        // the signer first: the enforcer would otherwise try to reach it on the way down. ods-signerd
        // sometimes ignores SIGTERM (threads waiting on each other): SIGKILL after 2 s. It then leaves
        // its pid file behind, which the next start() recognises as stale.
        if (process != null) {
            stop(process);
            process = null;
        }
        if (enforcer != null) {
            stop(enforcer);
        }
        super.close();
    }

    @Override
    protected OpenDnssecSigner self() {
        return this;
    }

    @Override
    protected String logFileName() {
        return "signerd.log";
    }

    private Path database() {
        return dir.resolve("kasp.db");
    }

    private Path addns(Zone zone) {
        return dir.resolve("addns-" + zone.name() + ".xml");
    }

    /** The zone with TTLs within the policy's MaxZoneTTL (the signer caps larger ones, with a warning each time). */
    private static String zoneText(String zone) {
        return zoneText(zone, 1).replace("$TTL 300", "$TTL 5");
    }

    private String conf() {
        // the signer's Listener serves queries and zone transfers for zones with a DNS output adapter
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <Configuration>
                  <RepositoryList>
                    <Repository name="SoftHSM">
                      <Module>%s</Module>
                      <TokenLabel>%s</TokenLabel>
                      <PIN>%s</PIN>
                    </Repository>
                  </RepositoryList>
                  <Common>
                    <Logging><Verbosity>3</Verbosity></Logging>
                    <PolicyFile>%s</PolicyFile>
                    <ZoneListFile>%s</ZoneListFile>
                  </Common>
                  <Enforcer>
                    <Datastore><SQLite>%s</SQLite></Datastore>
                    <AutomaticKeyGenerationPeriod>PT1H</AutomaticKeyGenerationPeriod>
                    %s<PidFile>%s</PidFile>
                    <SocketFile>%s</SocketFile>
                    <WorkingDirectory>%s</WorkingDirectory>
                    <WorkerThreads>1</WorkerThreads>
                  </Enforcer>
                  <Signer>
                    <WorkingDirectory>%s</WorkingDirectory>
                    <WorkerThreads>1</WorkerThreads>
                    <SignerThreads>1</SignerThreads>
                    <Listener><Interface><Address>127.0.0.1</Address><Port>%d</Port></Interface></Listener>
                  </Signer>
                </Configuration>
                """.formatted(SOFTHSM_MODULE, TOKEN, PIN, dir.resolve("kasp.xml"), dir.resolve("zonelist.xml"),
                database(), dsCommands, dir.resolve("enforcerd.pid"), dir.resolve("enforcer.sock"), dir.resolve("enforcer"),
                dir.resolve("signer"), port);
    }

    private String zonelist() {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ZoneList>\n");
        for (Zone zone : zones) {
            xml.append("""
                      <Zone name="%s">
                        <Policy>test</Policy>
                        <SignerConfiguration>%s</SignerConfiguration>
                        <Adapters>
                          <Input><Adapter type="File">%s</Adapter></Input>
                          <Output><Adapter type="DNS">%s</Adapter></Output>
                        </Adapters>
                      </Zone>
                    """.formatted(zone.name(), dir.resolve("signconf").resolve(zone.name() + ".xml"),
                    dir.resolve("unsigned").resolve(zone.name()), addns(zone)));
        }
        return xml.append("</ZoneList>\n").toString();
    }

    /** The DNS output adapter: AXFR/IXFR to loopback, NOTIFY to the bridge (none when notifyPort is 0). */
    private static String addnsXml(Zone zone) {
        String notify = zone.notifyPort() == 0 ? "" : """
                      <Notify><Remote><Address>127.0.0.1</Address><Port>%d</Port></Remote></Notify>
                """.formatted(zone.notifyPort());
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <Adapter>
                  <DNS>
                    <Outbound>
                      <ProvideTransfer><Peer><Prefix>127.0.0.1</Prefix></Peer></ProvideTransfer>
                %s    </Outbound>
                  </DNS>
                </Adapter>
                """.formatted(notify);
    }

    /**
     * Makes sure /run/opendnssec exists and no other signer runs: outside CI a machine where that
     * directory cannot be written (not root) skips the test, in CI it fails.
     */
    private static void claimRunDir() {
        try {
            Files.createDirectories(RUN_DIR);
        } catch (IOException e) {
            // checked below
        }
        if (!Files.isWritable(RUN_DIR)) {
            String message = "ods-signerd needs to write " + RUN_DIR + " (its socket path is fixed): run as root"
                    + " or as a member of the opendnssec group";
            if (Peers.isCi()) {
                throw new AssertionError(message);
            }
            Assumptions.assumeTrue(false, "skipped: " + message);
        }
        Path pidFile = RUN_DIR.resolve("signerd.pid");
        try {
            if (Files.exists(pidFile)) {
                long pid = Long.parseLong(Files.readString(pidFile).trim());
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    throw new IllegalStateException("another ods-signerd (pid " + pid + ") holds " + pidFile
                            + ": only one OpenDNSSEC signer per machine (its socket path is fixed)");
                }
                Files.delete(pidFile); // stale: a signer that did not shut down cleanly
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot check " + pidFile + ": " + e, e);
        }
    }

    /** Polls {@code probe} (a control command through {@code socket}) until it succeeds; fails when {@code daemon} exits. */
    private void awaitAnswer(Process daemon, String name, Path socket, Runnable probe) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!daemon.isAlive()) {
                throw new IllegalStateException(name + " exited with " + daemon.exitValue() + " at start-up\n" + log());
            }
            if (Files.exists(socket)) {
                try {
                    probe.run();
                    return;
                } catch (IllegalStateException notYet) {
                    // socket there (maybe a stale one), not accepting yet
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " did not answer on " + socket + " within " + START_TIMEOUT
                        + "\n" + log());
            }
            pause();
        }
    }

    private static void stop(Process daemon) {
        daemon.destroy();
        try {
            if (!daemon.waitFor(2, java.util.concurrent.TimeUnit.SECONDS)) {
                daemon.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            daemon.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Starts a daemon in {@link #dir} with SOFTHSM2_CONF set, output to {@code logName}. */
    private Process daemon(List<String> command, String logName) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(logName).toFile()));
            builder.environment().put("SOFTHSM2_CONF", dir.resolve("softhsm2.conf").toString());
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** {@code env SOFTHSM2_CONF=... COMMAND}: {@link Exec} passes no environment of its own. */
    private List<String> withEnv(List<String> command) {
        List<String> withEnv = new ArrayList<>(List.of("env", "SOFTHSM2_CONF=" + dir.resolve("softhsm2.conf")));
        withEnv.addAll(command);
        return withEnv;
    }
}
