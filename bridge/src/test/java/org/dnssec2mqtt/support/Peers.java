package org.dnssec2mqtt.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds the real peer programs (nsd, mosquitto, ldns-signzone, ...) an integration test needs.
 *
 * <p>A missing program skips the test on a developer's machine but fails it in CI ({@code CI=true}):
 * a CI run that silently skips every peer test would look green while testing nothing.
 */
public final class Peers {
    /** Debian package for each program we use, so the failure says what to install. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("nsd", "nsd"),
            Map.entry("nsd-control", "nsd"),
            Map.entry("nsd-checkconf", "nsd"),
            Map.entry("mosquitto", "mosquitto"),
            Map.entry("mosquitto_passwd", "mosquitto"),
            Map.entry("openssl", "openssl"),
            Map.entry("perl", "perl"),
            Map.entry("mosquitto_pub", "mosquitto-clients"),
            Map.entry("mosquitto_sub", "mosquitto-clients"),
            Map.entry("ldns-keygen", "ldnsutils"),
            Map.entry("ldns-signzone", "ldnsutils"),
            Map.entry("ldns-key2ds", "ldnsutils"),
            Map.entry("dnssec-keygen", "bind9-utils"),
            Map.entry("dnssec-signzone", "bind9-utils"),
            Map.entry("dnssec-revoke", "bind9-utils"),
            Map.entry("dnssec-dsfromkey", "bind9-utils"),
            Map.entry("named", "bind9"),
            Map.entry("rndc", "bind9"),
            Map.entry("dig", "bind9-dnsutils"),
            Map.entry("kdig", "knot-dnsutils"),
            Map.entry("knotd", "knot"),
            Map.entry("dbus-daemon", "dbus"),
            Map.entry("knotc", "knot"),
            Map.entry("keymgr", "knot"),
            Map.entry("dnssec-settime", "bind9-utils"),
            Map.entry("pdns_server", "pdns-server"),
            Map.entry("pdnsutil", "pdns-server"),
            Map.entry("pdns_control", "pdns-server"),
            Map.entry("sqlite3", "sqlite3"),
            Map.entry("schema.sqlite3.sql", "pdns-backend-sqlite3"),
            // opendnssec pulls in the enforcer (sqlite3 backend), signer and common; softhsm2 is only
            // recommended by it, and CI installs without recommends
            Map.entry("ods-enforcerd", "opendnssec"),
            Map.entry("ods-enforcer", "opendnssec"),
            Map.entry("ods-signerd", "opendnssec"),
            Map.entry("ods-signer", "opendnssec"),
            Map.entry("schema.sqlite", "opendnssec"),
            Map.entry("softhsm2-util", "softhsm2"),
            Map.entry("libsofthsm2.so", "softhsm2"),
            Map.entry("promtool", "prometheus"));

    /** Where Debian puts programs; a non-root PATH often lacks the sbin directories. */
    private static final List<String> EXTRA_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

    private Peers() {}

    /**
     * The executable {@code binary} (an absolute path, or a name looked up on PATH and the sbin
     * directories). When it is missing: fails with "install &lt;package&gt;" if {@code CI=true},
     * else aborts the calling test (JUnit assumption, reported as skipped).
     */
    public static Path require(String binary) {
        Path found = find(binary);
        if (found != null) {
            return found;
        }
        String pkg = debianPackage(Path.of(binary).getFileName().toString());
        String message = binary + " not found; install " + pkg + " (apt-get install " + pkg + ")";
        if (isCi()) {
            throw new AssertionError(message);
        }
        Assumptions.assumeTrue(false, "skipped: " + message);
        throw new IllegalStateException("unreachable");
    }

    /** The Debian package that ships {@code name}; a guess from the name's prefix for tools not listed. */
    static String debianPackage(String name) {
        if (PACKAGES.containsKey(name)) {
            return PACKAGES.get(name);
        }
        if (name.startsWith("ldns-")) {
            return "ldnsutils";
        }
        if (name.startsWith("dnssec-")) {
            return "bind9-utils";
        }
        return name;
    }

    /** The executable, or null when it is not installed. */
    public static Path find(String binary) {
        Path path = Path.of(binary);
        if (path.isAbsolute()) {
            return Files.isExecutable(path) ? path : null;
        }
        List<String> dirs = new ArrayList<>();
        String pathEnv = System.getenv("PATH");
        if (pathEnv != null) {
            dirs.addAll(List.of(pathEnv.split(java.io.File.pathSeparator)));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, binary);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** True in CI, where a missing peer is a broken set-up, not a reason to skip. */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }
}
