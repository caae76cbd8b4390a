package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.xbill.DNS.DNSKEYRecord;

/**
 * A real BIND 9.18 ({@code named -g}, Debian package {@code bind9}) that signs its zones itself
 * (inline signing), run in the foreground on 127.0.0.1 and a free port with its own temporary
 * config, key directory and rndc control channel; it needs nothing from /etc/bind or /var/cache/bind.
 *
 * <pre>{@code
 * try (BindServer bind = new BindServer()
 *         .tsigKey("notify-key.", "hmac-sha256", secretBase64)
 *         .zone("example.test", notifyPort, "notify-key.")   // also-notify { 127.0.0.1 port P key "notify-key."; };
 *         .start()) {
 *     String ksk = bind.keyFiles("example.test").get(0);       // "Kexample.test.+013+12345"
 *     String revoked = bind.revoke("example.test", ksk);       // dnssec-revoke + rndc loadkeys: flags 385
 *     bind.remove("example.test", revoked);                    // dnssec-settime -I now -D now + rndc loadkeys
 * }
 * }</pre>
 *
 * <p>Why {@code auto-dnssec maintain} with key files and not {@code dnssec-policy}: BIND's
 * dnssec-policy never revokes a key (no RFC 5011), and it owns the key timing, so a test cannot make
 * a change when it wants. With {@code auto-dnssec maintain} (deprecated in 9.18, still working)
 * named signs with whatever key files the key directory holds, following their timing metadata;
 * the operator's tools change the files ({@code dnssec-keygen}, {@code dnssec-settime},
 * {@code dnssec-revoke -r}) and {@code rndc loadkeys} makes named apply them at once: re-sign,
 * new serial, NOTIFY. Verified with 9.18.49: a key revoked this way is served with flags 385 under
 * its new tag and keeps signing the DNSKEY RRset.
 *
 * <p>NOTIFY: {@code notify explicit} sends only to the {@code also-notify} list (not to the zone's
 * NS, which would be 127.0.0.1:53), over UDP, from a random port; {@code notify-delay 0} sends
 * right after each change. named NOTIFYs every zone at start-up.
 */
public final class BindServer extends AuthoritativeServer<BindServer> {
    private int controlPort;
    private final String rndcSecret = randomSecret();

    /** A BIND in a new temporary directory that {@link #close()} deletes. */
    public BindServer() {
        super("bind");
    }

    /** A BIND keeping its files in {@code dir} (left in place on close). */
    public BindServer(Path dir) {
        super(dir);
    }

    @Override
    public BindServer start() {
        Path named = Peers.require("/usr/sbin/named");
        Peers.require("/usr/sbin/rndc");
        Peers.require("dnssec-keygen");
        requireNotStarted();
        port = FreePorts.tcpAndUdp();
        controlPort = FreePorts.tcp();
        try {
            Files.createDirectories(keyDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Zone zone : zones) {
            write(dir.resolve(zone.name() + ".zone"), zoneText(zone.name(), 1));
            // one KSK and one ZSK, published and active now (dnssec-keygen's default timing)
            keygen(zone.name(), true, true);
            keygen(zone.name(), false, true);
        }
        write(configFile(), config());
        write(dir.resolve("rndc.conf"), "key \"rndc-key\" { algorithm hmac-sha256; secret \"" + rndcSecret + "\"; };\n"
                + "options { default-key \"rndc-key\"; default-server 127.0.0.1; default-port " + controlPort + "; };\n");
        // -g: foreground, log to stderr; -4: IPv4 only; -n 1: one worker thread (CI has 2 CPUs).
        // Run as whoever runs the tests (no -u): the files are ours and the ports unprivileged.
        launch(List.of(named.toString(), "-g", "-4", "-n", "1", "-c", configFile().toString()));
        awaitReady();
        return this;
    }

    /** The generated named.conf. */
    public Path configFile() {
        return dir.resolve("named.conf");
    }

    /** The directory holding the key files ({@code key-directory}). */
    public Path keyDir() {
        return dir.resolve("keys");
    }

    /** The base names ({@code K<zone>.+013+<tag>}) of {@code zone}'s key files, sorted. */
    public List<String> keyFiles(String zone) {
        String prefix = "K" + zoneNamed(zone).name().toLowerCase().replaceAll("\\.$", "") + ".+";
        try (Stream<Path> files = Files.list(keyDir())) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix) && n.endsWith(".key"))
                    .map(n -> n.substring(0, n.length() - ".key".length()))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The DNSKEY record in the key's .key file (flags include REVOKE once revoked). */
    public DNSKEYRecord dnskey(String zone, String key) {
        return SignedZone.parseKeyFile(keyDir().resolve(key + ".key"), absolute(zone));
    }

    /**
     * Adds a key ({@code dnssec-keygen}, ECDSAP256SHA256), published now; active now or never
     * ({@code -A none}: a stand-by key, published and signing nothing). Returns its base name.
     */
    public String addKey(String zone, boolean ksk, boolean active) {
        String key = keygen(zoneNamed(zone).name(), ksk, active);
        loadKeys(zone);
        return key;
    }

    /**
     * Revokes the key ({@code dnssec-revoke -r}: sets the REVOKE bit, writes files under the new tag
     * and removes the old ones) and applies it. Returns the new base name.
     */
    public String revoke(String zone, String key) {
        String out = control(List.of(Peers.require("dnssec-revoke").toString(), "-r", "-K", keyDir().toString(), key));
        // dnssec-revoke prints the new base name with the directory in front
        String revoked = Path.of(out.trim()).getFileName().toString();
        loadKeys(zone);
        return revoked;
    }

    /** Stops the key signing but keeps it published ({@code dnssec-settime -I now}). */
    public void deactivate(String zone, String key) {
        settime(key, "-I", "now");
        loadKeys(zone);
    }

    /** Removes the key from the DNSKEY set ({@code dnssec-settime -I now -D now}); its files stay. */
    public void remove(String zone, String key) {
        settime(key, "-I", "now", "-D", "now");
        loadKeys(zone);
    }

    /** {@code rndc loadkeys ZONE}: named re-reads the key directory, re-signs, bumps the serial and NOTIFYs. */
    public void loadKeys(String zone) {
        rndc("loadkeys", zoneNamed(zone).name());
    }

    /** Runs {@code rndc -c rndc.conf ARGS} against the running server; returns its output. */
    public String rndc(String... args) {
        requireStarted();
        List<String> command = new ArrayList<>(List.of(
                Peers.require("/usr/sbin/rndc").toString(), "-c", dir.resolve("rndc.conf").toString()));
        command.addAll(List.of(args));
        return control(command);
    }

    @Override
    protected BindServer self() {
        return this;
    }

    @Override
    protected String logFileName() {
        return "named.log";
    }

    private String keygen(String zone, boolean ksk, boolean active) {
        List<String> command = new ArrayList<>(List.of(Peers.require("dnssec-keygen").toString(),
                "-q", "-K", keyDir().toString(), "-a", "ECDSAP256SHA256"));
        if (ksk) {
            command.addAll(List.of("-f", "KSK"));
        }
        if (!active) {
            command.addAll(List.of("-A", "none"));
        }
        command.add(zone);
        return control(command).trim();
    }

    private void settime(String key, String... timing) {
        List<String> command = new ArrayList<>(List.of(
                Peers.require("dnssec-settime").toString(), "-K", keyDir().toString()));
        command.addAll(List.of(timing));
        command.add(key);
        control(command);
    }

    private String config() {
        StringBuilder conf = new StringBuilder();
        conf.append("key \"rndc-key\" { algorithm hmac-sha256; secret \"").append(rndcSecret).append("\"; };\n")
                .append("controls { inet 127.0.0.1 port ").append(controlPort)
                .append(" allow { 127.0.0.1; } keys { \"rndc-key\"; }; };\n");
        for (TsigKey key : keys.values()) {
            conf.append("key \"").append(key.name()).append("\" { algorithm ").append(key.algorithm())
                    .append("; secret \"").append(key.secret()).append("\"; };\n");
        }
        conf.append("options {\n")
                // everything named writes (journals, signed zones, managed keys) goes here
                .append("  directory \"").append(dir).append("\";\n")
                .append("  pid-file \"").append(dir.resolve("named.pid")).append("\";\n")
                .append("  session-keyfile \"").append(dir.resolve("session.key")).append("\";\n")
                .append("  managed-keys-directory \"").append(dir).append("\";\n")
                // not /etc/bind/bind.keys: an absent file means the built-in anchors, unused anyway
                .append("  bindkeys-file \"").append(dir.resolve("bind.keys")).append("\";\n")
                .append("  listen-on port ").append(port).append(" { 127.0.0.1; };\n")
                .append("  listen-on-v6 { none; };\n")
                .append("  recursion no;\n")
                .append("  dnssec-validation no;\n")
                // only the also-notify targets (the zone's NS would be 127.0.0.1:53), right away
                .append("  notify explicit;\n")
                .append("  notify-delay 0;\n")
                .append("};\n");
        for (Zone zone : zones) {
            conf.append("zone \"").append(zone.name()).append("\" {\n")
                    .append("  type primary;\n")
                    .append("  file \"").append(zone.name()).append(".zone\";\n")
                    .append("  key-directory \"").append(keyDir()).append("\";\n")
                    .append("  inline-signing yes;\n")
                    .append("  auto-dnssec maintain;\n");
            if (zone.notifyPort() > 0) {
                conf.append("  also-notify { 127.0.0.1 port ").append(zone.notifyPort());
                if (zone.tsigKeyName() != null) {
                    conf.append(" key \"").append(zone.tsigKeyName()).append('"');
                }
                conf.append("; };\n");
            }
            conf.append("};\n");
        }
        return conf.toString();
    }
}
