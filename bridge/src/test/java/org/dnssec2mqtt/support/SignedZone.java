package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A DNSSEC-signed test zone made with the real ldnsutils tools in a directory of its own.
 *
 * <p>Keys are ECDSAP256SHA256 made by {@code ldns-keygen}; {@link #sign()} runs
 * {@code ldns-signzone} with explicit inception/expiration so signatures are valid now. Key changes
 * are plain method calls followed by {@code sign()} (and {@link NsdServer#reload(String)}):
 *
 * <pre>{@code
 * SignedZone zone = new SignedZone("example.test", tempDir);
 * SignedZone.Key ksk = zone.addKsk();
 * zone.addZsk();
 * Path file = zone.sign();
 * zone.revoke(ksk);          // flags 257 -> 385, new key tag, still signs the DNSKEY RRset
 * zone.bumpSerial();
 * zone.sign();
 * }</pre>
 *
 * <p>Why ldns and not BIND's dnssec-* tools: revoking is just setting bit 8 in the .key file
 * (ldns-signzone reads the flags from there and signs the DNSKEY RRset with the revoked key under
 * its new tag, as RFC 5011 §2.1 requires), and ldns-signzone takes the key list on the command
 * line, so "which keys sign" is explicit instead of being derived from key timing metadata.
 */
public final class SignedZone {
    /** Default TTL of every record in the zone ({@link #ttl(long)} changes it). */
    public static final long TTL = 300;

    /** One key pair: its file base name ({@code K<zone>+013+<tag at creation>}) in the zone directory. */
    public record Key(String baseName, boolean ksk) {
        @Override
        public String toString() {
            return baseName + (ksk ? " (KSK)" : " (ZSK)");
        }
    }

    private final Name origin;
    private final Path dir;
    /** Keys in the zone; the value says whether the key signs (false: published only, "standby"). */
    private final Map<Key, Boolean> keys = new LinkedHashMap<>();
    private final List<String> extraRecords = new ArrayList<>();
    private long serial = 1;
    private long ttl = TTL;
    private FileTime lastWritten = FileTime.fromMillis(0);

    /** A zone {@code zone} (e.g. "example.test") with no keys yet, kept in {@code dir}. */
    public SignedZone(String zone, Path dir) {
        try {
            this.origin = Name.fromString(zone, Name.root);
            this.dir = Files.createDirectories(dir);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("bad zone name: " + zone, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sets the TTL of every record the next {@link #sign()} writes (SOA minimum, DNSKEY RRset and
     * the records without their own), e.g. a few seconds for timing tests.
     */
    public SignedZone ttl(long seconds) {
        this.ttl = seconds;
        return this;
    }

    /** The TTL the next {@link #sign()} writes. */
    public long ttl() {
        return ttl;
    }

    /** The zone's name, absolute. */
    public Name name() {
        return origin;
    }

    /** The directory holding keys, the unsigned and the signed zone file. */
    public Path dir() {
        return dir;
    }

    /** Where {@link #sign()} writes the signed zone; stable, so a server can be configured once. */
    public Path signedFile() {
        return dir.resolve(origin.toString(true) + ".signed");
    }

    /** The SOA serial the next {@link #sign()} writes. */
    public long serial() {
        return serial;
    }

    /** Increments the SOA serial and returns the new value. */
    public long bumpSerial() {
        return ++serial;
    }

    /** Adds a record in presentation format, relative names are relative to the zone. */
    public void addRecord(String presentationLine) {
        extraRecords.add(presentationLine);
    }

    /** Creates a new KSK (flags 257) that signs the DNSKEY RRset. */
    public Key addKsk() {
        return addKey(true);
    }

    /** Creates a new ZSK (flags 256) that signs everything else. */
    public Key addZsk() {
        return addKey(false);
    }

    private Key addKey(boolean ksk) {
        List<String> command = new ArrayList<>(List.of(
                Peers.require("ldns-keygen").toString(), "-a", "ECDSAP256SHA256"));
        if (ksk) {
            command.add("-k");
        }
        command.add(origin.toString(true));
        // ldns-keygen prints the base name of the files it wrote (also the .ds for a KSK)
        String baseName = Exec.run(dir, command).trim();
        Key key = new Key(baseName, ksk);
        keys.put(key, true);
        return key;
    }

    /**
     * Sets the REVOKE bit (RFC 5011 §3: flags 257 -> 385), which changes the key tag. The key goes on
     * signing the DNSKEY RRset, with its new tag.
     */
    public void revoke(Key key) {
        DNSKEYRecord old = dnskey(key);
        DNSKEYRecord revoked = new DNSKEYRecord(old.getName(), DClass.IN, ttl,
                old.getFlags() | DNSKEYRecord.Flags.REVOKE, old.getProtocol(), old.getAlgorithm(), old.getKey());
        write(keyFile(key), revoked + "\n");
    }

    /** Publishes the key without signing with it (a pre-published or stand-by key), or signs again. */
    public void setSigning(Key key, boolean signing) {
        requireKnown(key);
        keys.put(key, signing);
    }

    /** Drops the key from the zone: neither published nor signing (its files stay). */
    public void remove(Key key) {
        requireKnown(key);
        keys.remove(key);
    }

    /** The keys in the zone, in order of creation. */
    public List<Key> keys() {
        return List.copyOf(keys.keySet());
    }

    /** The key's current tag (RFC 4034 Appendix B); changes when the key is revoked. */
    public int keyTag(Key key) {
        return dnskey(key).getFootprint();
    }

    /** The key's DNSKEY record as it is now (from its .key file). */
    public DNSKEYRecord dnskey(Key key) {
        requireKnown(key);
        return parseKeyFile(keyFile(key), origin, ttl);
    }

    /** The DS record of the key, as its parent would serve it. */
    public DSRecord ds(Key key, long ttl, int digest) {
        return new DSRecord(origin, DClass.IN, ttl, digest, dnskey(key));
    }

    /**
     * The parent of {@code child} (its name minus the first label) in {@code dir}, with its own KSK
     * and ZSK, delegating the child to {@code ns1.<child label>} at 127.0.0.1, plus {@code records}
     * (the child's DS, say); signed.
     */
    public static SignedZone parentOf(SignedZone child, Path dir, String... records) {
        String label = child.name().getLabelString(0);
        SignedZone parent = new SignedZone(new Name(child.name(), 1).toString(true), dir);
        parent.addKsk();
        parent.addZsk();
        parent.addRecord(label + " IN NS ns1." + label);
        parent.addRecord("ns1." + label + " IN A 127.0.0.1");
        for (String r : records) {
            parent.addRecord(r);
        }
        parent.sign();
        return parent;
    }

    /** The key's DNSKEY record in presentation format, e.g. {@code example.test. 300 IN DNSKEY 257 3 13 ...}. */
    public String dnskeyLine(Key key) {
        return dnskey(key).toString();
    }

    /** The unsigned zone text that {@link #sign()} feeds to ldns-signzone. */
    public String zoneText() {
        StringBuilder text = new StringBuilder();
        text.append("$ORIGIN ").append(origin).append('\n');
        text.append("$TTL ").append(ttl).append('\n');
        text.append("@ IN SOA ns1 hostmaster ").append(serial).append(" 3600 600 86400 ").append(ttl).append('\n');
        text.append("@ IN NS ns1\n");
        text.append("ns1 IN A 127.0.0.1\n");
        extraRecords.forEach(line -> text.append(line).append('\n'));
        // Signing keys are added by ldns-signzone from their .key files; stand-by keys only get
        // published if they are in the zone text.
        keys.forEach((key, signing) -> {
            if (!signing) {
                text.append(dnskeyLine(key)).append('\n');
            }
        });
        return text.toString();
    }

    /** Writes the unsigned zone, signs it and returns the signed zone file ({@link #signedFile()}). */
    public Path sign() {
        if (!keys.containsValue(true)) {
            throw new IllegalStateException("expected at least one signing key in " + origin + "; got none");
        }
        Path unsigned = dir.resolve(origin.toString(true) + ".zone");
        write(unsigned, zoneText());
        Instant now = Instant.now();
        List<String> command = new ArrayList<>(List.of(Peers.require("ldns-signzone").toString(),
                // an hour of slack either side of "now" for clock skew between tools and tests
                "-i", Long.toString(now.minus(Duration.ofHours(1)).getEpochSecond()),
                "-e", Long.toString(now.plus(Duration.ofDays(30)).getEpochSecond()),
                "-o", origin.toString(),
                "-f", signedFile().toString(),
                unsigned.toString()));
        keys.forEach((key, signing) -> {
            if (signing) {
                command.add(key.baseName());
            }
        });
        Exec.run(dir, command);
        // NSD re-reads a zone file on reload only when its mtime changed: two signings in the same
        // second must still look different.
        try {
            FileTime written = Files.getLastModifiedTime(signedFile());
            // whole seconds, in case the server compares mtimes at second granularity
            if (written.to(TimeUnit.SECONDS) <= lastWritten.to(TimeUnit.SECONDS)) {
                written = FileTime.from(lastWritten.to(TimeUnit.SECONDS) + 1, TimeUnit.SECONDS);
                Files.setLastModifiedTime(signedFile(), written);
            }
            lastWritten = written;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return signedFile();
    }

    private Path keyFile(Key key) {
        return dir.resolve(key.baseName() + ".key");
    }

    private void requireKnown(Key key) {
        if (!keys.containsKey(key)) {
            throw new IllegalArgumentException("expected a key of " + origin + "; got " + key);
        }
    }

    /** Reads the DNSKEY line of a .key file (ldns or BIND format; ';' starts a comment). */
    static DNSKEYRecord parseKeyFile(Path file, Name origin) {
        return parseKeyFile(file, origin, TTL);
    }

    /** The same with the record's TTL set to {@code ttl}. */
    static DNSKEYRecord parseKeyFile(Path file, Name origin, long ttl) {
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String line : content.split("\n")) {
            int comment = line.indexOf(';');
            String[] tokens = (comment >= 0 ? line.substring(0, comment) : line).trim().split("\\s+");
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i].equalsIgnoreCase("DNSKEY")) {
                    String rdata = String.join(" ", List.of(tokens).subList(i + 1, tokens.length));
                    try {
                        return (DNSKEYRecord) Record.fromString(
                                Name.fromString(tokens[0], origin), Type.DNSKEY, DClass.IN, ttl, rdata, origin);
                    } catch (IOException e) {
                        throw new IllegalStateException("bad DNSKEY in " + file + ": " + line, e);
                    }
                }
            }
        }
        throw new IllegalStateException("expected a DNSKEY line in " + file + "; got:\n" + content);
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
