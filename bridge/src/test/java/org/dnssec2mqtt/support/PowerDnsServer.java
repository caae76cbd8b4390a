package org.dnssec2mqtt.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real PowerDNS Authoritative 4.7 ({@code pdns_server}, Debian packages {@code pdns-server} and
 * {@code pdns-backend-sqlite3}) that signs its zones itself (live signing from the gsqlite3
 * backend), run in the foreground on 127.0.0.1 and a free port with its own temporary config,
 * database and control socket.
 *
 * <pre>{@code
 * try (PowerDnsServer pdns = new PowerDnsServer()
 *         .tsigKey("notify-key.", "hmac-sha256", secretBase64)
 *         .zone("example.test", notifyPort, "notify-key.")     // ALSO-NOTIFY + TSIG-ALLOW-AXFR metadata
 *         .start()) {
 *     int id = pdns.addKey("example.test", true, true);        // pdnsutil add-zone-key ... ksk active
 *     pdns.revoke("example.test", id);                         // REVOKE bit set in the database
 *     pdns.remove("example.test", id);                         // pdnsutil remove-zone-key
 * }
 * }</pre>
 *
 * <p>Key changes use {@code pdnsutil} on the same database while the server runs ({@code add-zone-key},
 * {@code activate-/deactivate-zone-key}, {@code publish-/unpublish-zone-key}, {@code remove-zone-key});
 * PowerDNS signs live, so a change is served at once (every cache is off in the generated config).
 * PowerDNS changes no serial by itself on a key change, so each operation here ends with
 * {@code pdnsutil increase-serial} and {@code pdns_control notify}, like an operator would.
 *
 * <p>Revocation: PowerDNS has no command for it (no RFC 5011 support). {@link #revoke} sets the
 * REVOKE bit in the key's {@code cryptokeys.flags} column with {@code sqlite3}; PowerDNS then serves
 * the key with flags 385 (new key tag). PowerDNS counts only flags-257 keys as KSKs: while another
 * KSK exists, the revoked key signs nothing (RFC 5011 §2.1 wants it to sign the DNSKEY set); when
 * it was the only KSK, pdnsutil lists every key as "CSK" and all of them, the revoked one included,
 * sign everything. Either way the served DNSKEY set shows a revoked key.
 *
 * <p>NOTIFY (PITFALLS.md): over UDP, from one fixed source port per process, <em>without</em> a SOA
 * in the answer section, TSIG-signed with the zone's TSIG-ALLOW-AXFR key ({@code send-signed-notify}
 * is on by default). The ALSO-NOTIFY metadata is set per zone; {@code only-notify} is empty so the
 * zone's NS (127.0.0.1:53) gets nothing. PowerDNS never notifies serial 0: zones start at serial 1.
 */
public final class PowerDnsServer extends AuthoritativeServer<PowerDnsServer> {
    /** Where Debian's pdns-backend-sqlite3 ships the schema (also under /usr/share/doc, which slim images drop). */
    private static final Path SCHEMA = Path.of("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql");

    /**
     * A key as {@code pdnsutil list-keys} shows it: {@code id} PowerDNS's key ID (the handle for all
     * operations), {@code type} KSK, ZSK or CSK, {@code tag} the key tag served now.
     */
    public record Key(int id, String type, boolean active, boolean published, int tag) {}

    /** A PowerDNS in a new temporary directory that {@link #close()} deletes. */
    public PowerDnsServer() {
        super("pdns");
    }

    /** A PowerDNS keeping its files in {@code dir} (left in place on close). */
    public PowerDnsServer(Path dir) {
        super(dir);
    }

    @Override
    public PowerDnsServer start() {
        Path server = Peers.require("/usr/sbin/pdns_server");
        Peers.require("pdnsutil");
        Peers.require("pdns_control");
        Peers.require("sqlite3");
        requireNotStarted();
        if (!Files.isRegularFile(SCHEMA)) {
            Peers.require(SCHEMA.toString()); // fails in CI, skips locally, naming the package
        }
        port = FreePorts.tcpAndUdp();
        write(configFile(), config());
        control(List.of(Peers.require("sqlite3").toString(), database().toString(), ".read " + SCHEMA));
        for (TsigKey key : keys.values()) {
            pdnsutil("import-tsig-key", key.name(), key.algorithm(), key.secret());
        }
        for (Zone zone : zones) {
            Path file = dir.resolve(zone.name() + ".zone");
            write(file, zoneText(zone.name(), 1));
            pdnsutil("load-zone", zone.name(), file.toString());
            pdnsutil("add-zone-key", zone.name(), "ksk", "active", "ecdsa256");
            pdnsutil("add-zone-key", zone.name(), "zsk", "active", "ecdsa256");
            if (zone.notifyPort() > 0) {
                pdnsutil("set-meta", zone.name(), "ALSO-NOTIFY", "127.0.0.1:" + zone.notifyPort());
            }
            if (zone.tsigKeyName() != null) {
                // the key PowerDNS signs outgoing NOTIFYs with is the zone's primary-side AXFR key
                pdnsutil("activate-tsig-key", zone.name(), zone.tsigKeyName(), "primary");
            }
        }
        launch(List.of(server.toString(), "--config-dir=" + dir));
        awaitReady();
        return this;
    }

    /** The generated pdns.conf (pdnsutil and pdns_control read it too, via --config-dir). */
    public Path configFile() {
        return dir.resolve("pdns.conf");
    }

    /** The zone's keys as {@code pdnsutil list-keys} shows them. */
    public List<Key> keys(String zone) {
        List<Key> keys = new ArrayList<>();
        // "example.test  KSK  Act  Pub  256  ECDSAP256SHA256  1  cryptokeys  31111"
        for (String line : pdnsutil("list-keys", zoneNamed(zone).name()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 9 && f[1].matches("KSK|ZSK|CSK") && f[6].matches("\\d+")) {
                keys.add(new Key(Integer.parseInt(f[6]), f[1], f[2].equals("Act"), f[3].equals("Pub"),
                        Integer.parseInt(f[8])));
            }
        }
        return keys;
    }

    /** Adds a key ({@code pdnsutil add-zone-key}, ECDSAP256SHA256, published), active or not; returns its ID. */
    public int addKey(String zone, boolean ksk, boolean active) {
        String out = pdnsutil("add-zone-key", zoneNamed(zone).name(), ksk ? "ksk" : "zsk",
                active ? "active" : "inactive", "ecdsa256");
        int id = Integer.parseInt(out.trim()); // pdnsutil prints the new key's ID on stdout
        notify(zone);
        return id;
    }

    /** {@code pdnsutil activate-zone-key}: the key signs. */
    public void activate(String zone, int id) {
        keyCommand("activate-zone-key", zone, id);
    }

    /** {@code pdnsutil deactivate-zone-key}: the key stays published but signs nothing. */
    public void deactivate(String zone, int id) {
        keyCommand("deactivate-zone-key", zone, id);
    }

    /** {@code pdnsutil publish-zone-key}. */
    public void publish(String zone, int id) {
        keyCommand("publish-zone-key", zone, id);
    }

    /** {@code pdnsutil unpublish-zone-key}: the key leaves the DNSKEY set (and may go on signing). */
    public void unpublish(String zone, int id) {
        keyCommand("unpublish-zone-key", zone, id);
    }

    /** {@code pdnsutil remove-zone-key}: the key is deleted. */
    public void remove(String zone, int id) {
        keyCommand("remove-zone-key", zone, id);
    }

    /**
     * Sets the REVOKE bit (RFC 5011 §3) on the key in the database: PowerDNS has no command for it.
     * The key is then served with flags | 128 under a new tag and keeps signing.
     */
    public void revoke(String zone, int id) {
        requireStarted();
        control(List.of(Peers.require("sqlite3").toString(), database().toString(),
                "UPDATE cryptokeys SET flags = flags | 128 WHERE id = " + id
                        + " AND domain_id = (SELECT id FROM domains WHERE name = '" + zoneNamed(zone).name() + "')"));
        notify(zone);
    }

    /** {@code pdnsutil increase-serial} then {@code pdns_control notify}: the change gets a serial and a NOTIFY. */
    public void notify(String zone) {
        pdnsutil("increase-serial", zoneNamed(zone).name());
        pdnsControl("notify", zoneNamed(zone).name());
    }

    /** Runs {@code pdnsutil --config-dir=DIR ARGS}; returns its standard output. */
    public String pdnsutil(String... args) {
        List<String> command = new ArrayList<>(List.of(Peers.require("pdnsutil").toString(), "--config-dir=" + dir));
        command.addAll(List.of(args));
        return control(command);
    }

    /** Runs {@code pdns_control --config-dir=DIR ARGS} against the running server. */
    public String pdnsControl(String... args) {
        requireStarted();
        List<String> command = new ArrayList<>(List.of(Peers.require("pdns_control").toString(), "--config-dir=" + dir));
        command.addAll(List.of(args));
        return control(command);
    }

    @Override
    protected PowerDnsServer self() {
        return this;
    }

    @Override
    protected String logFileName() {
        return "pdns.log";
    }

    private void keyCommand(String action, String zone, int id) {
        pdnsutil(action, zoneNamed(zone).name(), Integer.toString(id));
        notify(zone);
    }

    private Path database() {
        return dir.resolve("pdns.sqlite3");
    }

    private String config() {
        return String.join("\n",
                "launch=gsqlite3",
                "gsqlite3-database=" + database(),
                "gsqlite3-dnssec=yes",
                "local-address=127.0.0.1",
                "local-port=" + port,
                // 4.7 spells it primary (master is the old name); needed to send NOTIFYs at all
                "primary=yes",
                // foreground, no guardian process, log to stderr only
                "daemon=no",
                "guardian=no",
                "disable-syslog=yes",
                "loglevel=6",
                "socket-dir=" + dir,
                // no caches: a key change must be served at once (PITFALLS: up to 30 s stale otherwise)
                "cache-ttl=0",
                "query-cache-ttl=0",
                "negquery-cache-ttl=0",
                "dnssec-key-cache-ttl=0",
                "domain-metadata-cache-ttl=0",
                "zone-cache-refresh-interval=0",
                // NOTIFY only the ALSO-NOTIFY targets, not the zone's NS (127.0.0.1:53)
                "only-notify=",
                // no security status lookups: the only network here is loopback
                "security-poll-suffix=",
                // 2 CPUs in CI
                "receiver-threads=1",
                "distributor-threads=1",
                "signing-threads=1",
                "");
    }
}
