package org.dnssec2mqtt.signals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * The DNSKEY records OpenDNSSEC's enforcer writes to {@code DelegationSignerSubmitCommand} and
 * {@code DelegationSignerRetractCommand} on standard input.
 *
 * <p>OpenDNSSEC 2.1 (enforcer/src/keystate/keystate_ds.c, exec_dnskey_by_id) runs the command once
 * per key and writes one line: ldns's presentation form of the DNSKEY with tabs turned into spaces
 * and ldns's {@code ;{id = ...}} comment cut off, e.g.
 * {@code example.com. 3600 IN DNSKEY 257 3 8 AwEAAc...= } (a trailing space, then a newline). When
 * the command ends in {@code --cka_id} the enforcer drops that word and appends
 * {@code ; {cka_id = <locator>}}. OpenDNSSEC 1.x wrote the whole DNSKEY RRset, ZSKs included. So
 * this reads any number of lines, ignores blank lines and everything from {@code ;} on, accepts
 * TTL and class as optional, and keeps the SEP keys.
 */
public final class DnskeyInput {
    /** More than any DNSKEY RRset; protects against being fed something else. */
    static final int MAX_BYTES = 256 * 1024;

    private DnskeyInput() {}

    /** One DNSKEY with the line it came from (1-based). */
    public record Line(int number, DNSKEYRecord key) {}

    /** What is wrong with the input, naming the line when there is one (0 = the input as a whole). */
    public static final class InputException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int line;

        InputException(int line, String message) {
            super(line > 0 ? "line " + line + ": " + message : message);
            this.line = line;
        }

        public int line() {
            return line;
        }
    }

    /**
     * Every DNSKEY in {@code bytes}, in input order.
     *
     * @throws InputException on a line that is not a DNSKEY record, on no DNSKEY at all, on input
     *     that is not UTF-8 or larger than {@link #MAX_BYTES}
     */
    public static List<Line> parse(byte[] bytes) throws InputException {
        if (bytes.length > MAX_BYTES) {
            throw new InputException(0, "more than " + MAX_BYTES / 1024 + " KiB on standard input; expected DNSKEY records");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InputException(0, "standard input is not UTF-8 text; expected DNSKEY records");
        }
        List<Line> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int comment = line.indexOf(';'); // Base64 and names in this form hold no ';'
            String rr = (comment >= 0 ? line.substring(0, comment) : line).strip();
            if (!rr.isEmpty()) {
                out.add(new Line(i + 1, record(i + 1, rr)));
            }
        }
        if (out.isEmpty()) {
            throw new InputException(0, "no DNSKEY record on standard input; expected lines such as"
                    + " 'example.com. 3600 IN DNSKEY 257 3 13 <base64>'");
        }
        return out;
    }

    private static DNSKEYRecord record(int number, String rr) throws InputException {
        if (rr.startsWith("$")) {
            throw new InputException(number, "expected a DNSKEY record; got the directive '" + rr + "'");
        }
        if (!rr.matches("\\S+\\s.*")) {
            throw new InputException(number, "expected 'owner [ttl] [IN] DNSKEY flags 3 algorithm key'; got '" + shorten(rr) + "'");
        }
        Record r;
        try (Master m = new Master(new ByteArrayInputStream((rr + "\n").getBytes(StandardCharsets.UTF_8)), Name.root, 3600)) {
            r = m.nextRecord();
        } catch (IOException | RuntimeException e) {
            throw new InputException(number, "not a DNS record: " + plain(e.getMessage()) + " (in '" + shorten(rr) + "')");
        }
        if (r == null) {
            throw new InputException(number, "not a DNS record: '" + shorten(rr) + "'");
        }
        if (!(r instanceof DNSKEYRecord key)) {
            throw new InputException(number, "expected a DNSKEY record; got " + Type.string(r.getType()) + " for " + r.getName());
        }
        if (key.getProtocol() != 3) { // RFC 4034 §2.1.2
            throw new InputException(number, "DNSKEY protocol must be 3; got " + key.getProtocol());
        }
        return key;
    }

    /** dnsjava's parse messages start with "<input>:1: "; the line number is ours. */
    private static String plain(String message) {
        return message == null ? "unreadable" : message.replaceFirst("^[^:]*:\\d+: ", "");
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
