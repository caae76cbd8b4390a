package org.dnssec2mqtt.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Knot DNS ({@code knotd}, Debian package {@code knot}) that signs its zones itself, run in
 * the foreground on 127.0.0.1 and a free port with its own temporary config, KASP database and
 * control socket.
 *
 * <pre>{@code
 * try (KnotServer knot = new KnotServer()
 *         .tsigKey("notify-key.", "hmac-sha256", secretBase64)
 *         .zone("example.test", notifyPort, "notify-key.")
 *         .start()) {
 *     knot.rollKsk("example.test");                      // knotc zone-key-rollover: new KSK published
 *     KnotServer.Key ksk = knot.keys("example.test").get(0);
 *     knot.revoke("example.test", ksk);                  // RFC 5011: flags 257 -> 385, still signs DNSKEY
 *     knot.remove("example.test", ksk);                  // keymgr delete: gone from the DNSKEY set
 * }
 * }</pre>
 *
 * <p>Signing: automatic DNSSEC with a {@code policy} (ECDSAP256SHA256, separate KSK and ZSK, key
 * lifetimes infinite, so Knot changes nothing by itself during a test). At first load Knot
 * generates one KSK and one ZSK. Key changes use Knot's own tools: {@code knotc zone-key-rollover}
 * starts a rollover (the new key is published at once; the rest follows DNSKEY TTL timing, far
 * beyond a test), and {@code keymgr} sets key timers or adds and deletes keys in the KASP database
 * while knotd runs, after which {@code knotc zone-keys-load} makes Knot re-read the keys, re-sign
 * with a new serial and NOTIFY.
 *
 * <p>NOTIFY: Knot 3.2 sends NOTIFY over TCP only (a UDP-only listener never hears it), and when
 * the NOTIFY is TSIG-signed it verifies the TSIG on the reply. It NOTIFYs every zone at start-up.
 * A zone NOTIFYd with a TSIG key also lets that key query it ({@code acl: action: query}): without
 * such an ACL Knot answers TSIG-signed queries with BADKEY.
 */
public final class KnotServer extends AuthoritativeServer<KnotServer> {
    /**
     * A key in Knot's KASP database: {@code id} is Knot's 40-hex key ID (stable), {@code tag} the key
     * tag when created (after {@link #revoke} the served tag differs, RFC 5011 §3), {@code ksk}
     * whether it signs the DNSKEY set; {@code timers} as {@code keymgr list} prints them.
     */
    public record Key(String id, int tag, boolean ksk, String timers) {}

    private String dbusAddress;
    private int fixedPort;

    /** A Knot in a new temporary directory that {@link #close()} deletes. */
    public KnotServer() {
        super("knot");
    }

    /** A Knot keeping its files in {@code dir} (left in place on close). */
    public KnotServer(Path dir) {
        super(dir);
    }

    /**
     * Emits Knot's D-Bus signals ({@code dbus-event: [zone-updated, ksk-submission, dnssec-invalid]})
     * on the bus at {@code address} (knotd reads it from DBUS_SYSTEM_BUS_ADDRESS), and gives the
     * policy a {@code ksk-submission} whose parent (a loopback port nothing answers on) never shows
     * the DS: so each new KSK stays "ready" and Knot signals {@code zone_ksk_submission} for it.
     */
    public KnotServer dbus(String address) {
        requireNotStarted();
        dbusAddress = address;
        return this;
    }

    /** Listens on {@code port} instead of a free one (for a bridge configured before knotd starts). */
    public KnotServer port(int fixed) {
        requireNotStarted();
        fixedPort = fixed;
        return this;
    }

    /** Stops knotd (SIGTERM) and starts it again on the same port, config and KASP database. */
    public KnotServer restart() {
        requireStarted();
        NsdServer.stopTree(process);
        process = null;
        launchKnotd();
        awaitReady();
        return this;
    }

    @Override
    public KnotServer start() {
        Path knotd = Peers.require("/usr/sbin/knotd");
        Peers.require("/usr/sbin/knotc");
        Peers.require("/usr/sbin/keymgr");
        requireNotStarted();
        port = fixedPort > 0 ? fixedPort : FreePorts.tcpAndUdp();
        for (Zone zone : zones) {
            write(dir.resolve(zone.name() + ".zone"), zoneText(zone.name(), 1));
        }
        write(configFile(), config());
        launchKnotd();
        awaitReady();
        return this;
    }

    private void launchKnotd() {
        List<String> command = List.of(Peers.require("/usr/sbin/knotd").toString(), "-c", configFile().toString());
        launch(command, dbusAddress == null ? java.util.Map.of() : java.util.Map.of("DBUS_SYSTEM_BUS_ADDRESS", dbusAddress));
    }

    /** The generated knot.conf (knotc and keymgr read it too). */
    public Path configFile() {
        return dir.resolve("knot.conf");
    }

    /** The keys of {@code zone} in Knot's KASP database, in the order keymgr lists them. */
    public List<Key> keys(String zone) {
        List<Key> keys = new ArrayList<>();
        // "<id> <tag> KSK|ZSK <algorithm> publish=... active=..." (keymgr(8), action list)
        for (String line : keymgr(zone, "list").split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 3 && fields[0].matches("[0-9a-f]{40}")) {
                String timers = String.join(" ", List.of(fields).subList(Math.min(4, fields.length), fields.length));
                keys.add(new Key(fields[0], Integer.parseInt(fields[1]), fields[2].equals("KSK"), timers));
            }
        }
        return keys;
    }

    /** Starts a KSK rollover ({@code knotc zone-key-rollover ZONE ksk}): a new KSK is published at once. */
    public void rollKsk(String zone) {
        knotc("zone-key-rollover", zoneNamed(zone).name(), "ksk");
    }

    /** Starts a ZSK rollover ({@code knotc zone-key-rollover ZONE zsk}): a new ZSK is published at once. */
    public void rollZsk(String zone) {
        knotc("zone-key-rollover", zoneNamed(zone).name(), "zsk");
    }

    /**
     * Generates a key with {@code keymgr generate}, published now and active now ({@code active}) or
     * never (a stand-by key: published, signing nothing); Knot re-signs and NOTIFYs.
     */
    public Key addKey(String zone, boolean ksk, boolean active) {
        String id = keymgr(zone, "generate", "algorithm=ECDSAP256SHA256", "ksk=" + (ksk ? "yes" : "no"),
                "zsk=" + (ksk ? "no" : "yes"), "publish=+0", active ? "active=+0" : "active=0").trim();
        loadKeys(zone);
        return keys(zone).stream().filter(k -> k.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalStateException("keymgr generated " + id + " but does not list it"));
    }

    /**
     * Revokes the key the RFC 5011 way ({@code keymgr set ID revoke=+0}): Knot serves it with the
     * REVOKE bit (flags 385 for a KSK, a new key tag) and keeps signing the DNSKEY set with it.
     */
    public void revoke(String zone, Key key) {
        keymgr(zone, "set", key.id(), "revoke=+0");
        loadKeys(zone);
    }

    /** Deletes the key from the zone and the keystore ({@code keymgr delete}); it leaves the DNSKEY set. */
    public void remove(String zone, Key key) {
        keymgr(zone, "delete", key.id());
        loadKeys(zone);
    }

    /** Makes Knot re-read the zone's keys, re-sign under a new serial and NOTIFY ({@code knotc zone-keys-load}). */
    public void loadKeys(String zone) {
        knotc("zone-keys-load", zoneNamed(zone).name());
    }

    /** Runs {@code knotc -c knot.conf ARGS} against the running server; returns its output. */
    public String knotc(String... args) {
        requireStarted();
        List<String> command = new ArrayList<>(List.of(
                Peers.require("/usr/sbin/knotc").toString(), "-c", configFile().toString()));
        command.addAll(List.of(args));
        return control(command);
    }

    /** Runs {@code keymgr -c knot.conf ZONE ARGS} (safe while knotd runs: the KASP database is shared). */
    public String keymgr(String zone, String... args) {
        requireStarted();
        List<String> command = new ArrayList<>(List.of(
                Peers.require("/usr/sbin/keymgr").toString(), "-c", configFile().toString(), zoneNamed(zone).name()));
        command.addAll(List.of(args));
        return control(command);
    }

    @Override
    protected KnotServer self() {
        return this;
    }

    @Override
    protected String logFileName() {
        return "knotd.log";
    }

    private String config() {
        StringBuilder conf = new StringBuilder();
        conf.append("server:\n")
                .append("  rundir: \"").append(dir).append("\"\n")
                .append("  listen: 127.0.0.1@").append(port).append('\n')
                // 2 CPUs in CI: a few threads are plenty for tests
                .append("  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n");
        if (dbusAddress != null) {
            conf.append("  dbus-event: [zone-updated, ksk-submission, dnssec-invalid]\n");
        }
        conf
                .append("log:\n")
                .append("  - target: stderr\n    any: info\n")
                .append("database:\n")
                // journal, timers and the KASP (key) database all live in the temp dir
                .append("  storage: \"").append(dir).append("\"\n")
                .append("control:\n")
                // a unix socket in our dir: knotc needs no key, nothing listens on the network
                .append("  listen: \"").append(dir.resolve("knot.sock")).append("\"\n");
        if (!keys.isEmpty()) {
            conf.append("key:\n");
            for (TsigKey key : keys.values()) {
                conf.append("  - id: ").append(key.name()).append('\n')
                        .append("    algorithm: ").append(key.algorithm()).append('\n')
                        .append("    secret: ").append(key.secret()).append('\n');
            }
        }
        StringBuilder remotes = new StringBuilder();
        for (Zone zone : zones) {
            if (zone.notifyPort() > 0) {
                remotes.append("  - id: notify-").append(zone.name()).append('\n')
                        .append("    address: 127.0.0.1@").append(zone.notifyPort()).append('\n');
                if (zone.tsigKeyName() != null) {
                    remotes.append("    key: ").append(zone.tsigKeyName()).append('\n');
                }
            }
        }
        if (dbusAddress != null) {
            // the parent Knot checks for the DS: nothing listens there, so the KSK stays "ready"
            remotes.append("  - id: parent\n    address: 127.0.0.1@").append(FreePorts.tcp()).append('\n');
        }
        if (remotes.length() > 0) {
            conf.append("remote:\n").append(remotes);
        }
        if (!keys.isEmpty()) {
            // Knot answers a TSIG-signed query with BADKEY unless an ACL allows that key to query
            // (the bridge signs its queries with zones.<zone>.tsig-key): one "query" ACL per key
            conf.append("acl:\n");
            for (TsigKey key : keys.values()) {
                conf.append("  - id: query-").append(key.name()).append('\n')
                        .append("    key: ").append(key.name()).append('\n')
                        .append("    action: query\n");
            }
        }
        if (dbusAddress != null) {
            conf.append("submission:\n  - id: parent\n    parent: parent\n    check-interval: 1h\n");
        }
        conf.append("policy:\n")
                .append("  - id: test\n")
                .append("    algorithm: ecdsap256sha256\n")
                // no automatic rollovers during a test: only the ones a test asks for
                .append("    ksk-lifetime: 0\n    zsk-lifetime: 0\n")
                .append("    propagation-delay: 0\n")
                .append("    dnskey-ttl: 300\n    zone-max-ttl: 300\n");
        if (dbusAddress != null) {
            conf.append("    ksk-submission: parent\n");
        }
        conf.append("zone:\n");
        for (Zone zone : zones) {
            conf.append("  - domain: ").append(zone.name()).append('\n')
                    .append("    storage: \"").append(dir).append("\"\n")
                    .append("    file: ").append(zone.name()).append(".zone\n")
                    // never write the signed zone back over our unsigned file
                    .append("    zonefile-sync: -1\n")
                    .append("    journal-content: all\n")
                    .append("    dnssec-signing: on\n")
                    .append("    dnssec-policy: test\n");
            if (zone.notifyPort() > 0) {
                conf.append("    notify: notify-").append(zone.name()).append('\n');
            }
            if (zone.tsigKeyName() != null) {
                conf.append("    acl: query-").append(zone.tsigKeyName()).append('\n');
            }
        }
        return conf.toString();
    }
}
