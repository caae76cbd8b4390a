package org.dnssec2mqtt.dns;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.dnssec2mqtt.config.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;

/**
 * The NOTIFY protocol logic, without sockets: one received packet in, the reply bytes (or none)
 * and the accepted request (or none) out. Thread-safe and never throws, so a listener can call it
 * from any number of threads.
 *
 * <p>Checks run in this order, and the first that fails decides the reply:
 *
 * <ol>
 *   <li>shorter than a header, or QR set (a response): drop, never answer (no reflection loops);
 *   <li>source outside {@code notify.allow}: REFUSED, whatever the opcode, without any TSIG work;
 *   <li>not parseable: FORMERR with the header only;
 *   <li>TSIG present: unknown key BADKEY, bad MAC BADSIG, bad time BADTIME (RFC 8945 §5.2);
 *   <li>opcode other than NOTIFY: NOTIMP;
 *   <li>unsigned while {@code notify.require-tsig}: REFUSED;
 *   <li>not exactly one question, class not IN, or a type we do not act on: FORMERR;
 *   <li>otherwise accepted: NOERROR with AA, signed with the request's key when it was signed.
 * </ol>
 */
public final class NotifyHandler {
    private static final Logger log = LoggerFactory.getLogger(NotifyHandler.class);

    /** Our EDNS UDP payload size when we echo an OPT record (RFC 6891 §6.2.5; DNS flag day 2020). */
    private static final int EDNS_PAYLOAD = 1232;

    private final List<Cidr> allow;
    private final TsigKeys keys;
    private final boolean requireTsig;

    /**
     * What to do with one packet.
     *
     * @param reply the bytes to send back, or null to drop the packet silently
     * @param accepted the trigger for the bridge, or null unless the NOTIFY was accepted
     * @param reason a short stable word for DEBUG logs and counters: {@code accepted},
     *     {@code refused-acl}, {@code refused-unsigned}, {@code formerr-*}, {@code notimp-opcode},
     *     {@code notauth-badkey|badsig|badtime}, {@code dropped-*}; the part before the first
     *     {@code -} is the rcode's name (or {@code dropped})
     */
    public record Outcome(byte[] reply, NotifyRequest accepted, String reason) {}

    /**
     * @param allow sources whose packets are answered beyond REFUSED ({@code notify.allow})
     * @param keys the TSIG keys we can verify with
     * @param requireTsig refuse unsigned NOTIFYs ({@code notify.require-tsig})
     */
    public NotifyHandler(List<Cidr> allow, TsigKeys keys, boolean requireTsig) {
        this.allow = List.copyOf(allow);
        this.keys = keys;
        this.requireTsig = requireTsig;
    }

    /**
     * Decides what to do with one received packet. Never throws.
     *
     * @param packet the received bytes; only the first {@code length} count
     * @param length how many bytes of {@code packet} were received
     * @param source the sender's address
     */
    public Outcome handle(byte[] packet, int length, InetAddress source) {
        // TSIG covers the exact bytes received (RFC 8945 §4.3.1), so work on a copy of exactly those.
        byte[] bytes = Arrays.copyOf(packet, Math.max(0, Math.min(length, packet.length)));
        try {
            return decide(bytes, source);
        } catch (RuntimeException e) {
            // Catch at the packet boundary: a bug or a dnsjava surprise must not kill the listener.
            log.debug("notify source={} internal error, answering FORMERR", source.getHostAddress(), e);
            return bytes.length >= Header.LENGTH
                    ? new Outcome(headerOnlyReply(bytes, Rcode.FORMERR), null, "formerr-internal")
                    : new Outcome(null, null, "dropped-internal");
        }
    }

    private Outcome decide(byte[] bytes, InetAddress source) {
        if (bytes.length < Header.LENGTH) {
            return new Outcome(null, null, "dropped-short");
        }
        // RFC 1035 §4.1.1: QR is the top bit of byte 2. Answering a response invites reply loops.
        if ((bytes[2] & 0x80) != 0) {
            return new Outcome(null, null, "dropped-response");
        }

        Message request;
        try {
            request = new Message(bytes);
        } catch (IOException | RuntimeException e) {
            request = null;
        }

        // Contract: a source outside notify.allow gets REFUSED whatever the opcode, and no crypto
        // is spent on it. The reply is unsigned: we did not look at its TSIG.
        if (!allowed(source)) {
            byte[] reply = request == null
                    ? headerOnlyReply(bytes, Rcode.REFUSED)
                    : reply(request, Rcode.REFUSED, false).toWire(Message.MAXLENGTH);
            return new Outcome(reply, null, "refused-acl");
        }
        if (request == null) {
            // RFC 1035 §4.1.1 FORMERR; we cannot trust any section, so the reply has none.
            return new Outcome(headerOnlyReply(bytes, Rcode.FORMERR), null, "formerr-parse");
        }

        // RFC 8945 §5.2: verify before acting on anything in the message.
        TSIGRecord requestTsig = request.getTSIG();
        TSIG key = null;
        if (requestTsig != null) {
            key = keys.get(requestTsig.getName());
            if (key == null) {
                // RFC 8945 §5.2.1 BADKEY; §5.3.2: the error reply MUST NOT be signed.
                return new Outcome(unsignedTsigError(request, requestTsig, Rcode.BADKEY), null, "notauth-badkey");
            }
            int verified = key.verify(request, bytes, null);
            if (verified == Rcode.BADKEY || verified == Rcode.BADSIG || verified == Rcode.FORMERR) {
                // BADKEY here means a known name with another algorithm (RFC 8945 §5.2.1).
                int error = verified == Rcode.BADKEY ? Rcode.BADKEY : Rcode.BADSIG;
                return new Outcome(unsignedTsigError(request, requestTsig, error), null,
                        error == Rcode.BADKEY ? "notauth-badkey" : "notauth-badsig");
            }
            if (verified == Rcode.BADTIME) {
                // RFC 8945 §5.2.3: BADTIME replies are signed; dnsjava copies the request's Time
                // Signed and puts our clock in Other Data.
                Message reply = reply(request, Rcode.NOTAUTH, false);
                reply.setTSIG(key, Rcode.BADTIME, requestTsig);
                return new Outcome(reply.toWire(Message.MAXLENGTH), null, "notauth-badtime");
            }
            if (verified != Rcode.NOERROR) {
                return new Outcome(unsignedTsigError(request, requestTsig, Rcode.BADSIG), null, "notauth-badsig");
            }
        }

        int opcode = request.getHeader().getOpcode();
        if (opcode != Opcode.NOTIFY) {
            return new Outcome(signed(reply(request, Rcode.NOTIMP, false), key, requestTsig), null, "notimp-opcode");
        }
        if (key == null && requireTsig) {
            // Contract: unsigned NOTIFYs are refused when notify.require-tsig is true.
            return new Outcome(reply(request, Rcode.REFUSED, false).toWire(Message.MAXLENGTH), null, "refused-unsigned");
        }
        if (request.getHeader().getCount(Section.QUESTION) != 1) {
            // RFC 1996 §3.7: a NOTIFY carries exactly one question (QDCOUNT 1).
            return new Outcome(signed(reply(request, Rcode.FORMERR, false), key, requestTsig), null, "formerr-qdcount");
        }
        Record question = request.getQuestion();
        if (question.getDClass() != DClass.IN) {
            return new Outcome(signed(reply(request, Rcode.FORMERR, false), key, requestTsig), null, "formerr-class");
        }
        int qtype = question.getType();
        if (!(qtype == Type.SOA || qtype == Type.DNSKEY || qtype == Type.CDS || qtype == Type.CDNSKEY)) {
            // RFC 1996 §3.7 only defines SOA; RFC 9859 adds CDS/CDNSKEY (and DNSKEY is what we
            // fetch). Any other type is a request we cannot act on. NOTIMP would claim we lack
            // NOTIFY altogether and REFUSED would read as a policy decision, so FORMERR: "this
            // NOTIFY is not one we understand", and the sender stops retrying.
            return new Outcome(signed(reply(request, Rcode.FORMERR, false), key, requestTsig), null, "formerr-qtype");
        }

        var zone = question.getName().canonicalize();
        Long serial = null;
        for (Record r : request.getSection(Section.ANSWER)) {
            // RFC 1996 §3.7: the answer section MAY hold the new SOA; only trust one for this zone.
            if (r instanceof SOARecord soa && soa.getName().equals(zone)) {
                serial = soa.getSerial();
                break;
            }
        }
        var accepted = new NotifyRequest(zone, qtype, serial, source,
                requestTsig == null ? null : requestTsig.getName().canonicalize());
        // RFC 1996 §4.7: the reply echoes the question, with QR and AA set.
        return new Outcome(signed(reply(request, Rcode.NOERROR, true), key, requestTsig), accepted, "accepted");
    }

    private boolean allowed(InetAddress source) {
        for (Cidr c : allow) {
            if (c.contains(source)) {
                return true;
            }
        }
        return false;
    }

    /** A reply skeleton: same ID and opcode, QR set, RD copied (RFC 1035 §4.1.1), question echoed. */
    private static Message reply(Message request, int rcode, boolean authoritative) {
        Header rh = request.getHeader();
        Message reply = new Message(rh.getID());
        Header h = reply.getHeader();
        h.setFlag(Flags.QR);
        if (rh.getFlag(Flags.RD)) {
            h.setFlag(Flags.RD);
        }
        if (authoritative) {
            h.setFlag(Flags.AA);
        }
        h.setOpcode(rh.getOpcode());
        h.setRcode(rcode);
        // Contract: every reply that can echo the question does. With several questions we cannot
        // tell which one was meant, so echo only a single one.
        if (rh.getCount(Section.QUESTION) == 1) {
            reply.addRecord(request.getQuestion(), Section.QUESTION);
        }
        // RFC 6891 §7: a request with OPT gets a reply with OPT.
        if (request.getOPT() != null) {
            reply.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0), Section.ADDITIONAL);
        }
        return reply;
    }

    /** Serialises {@code reply}, signed with {@code key} when the request was signed (RFC 8945 §5.3). */
    private static byte[] signed(Message reply, TSIG key, TSIGRecord requestTsig) {
        if (key != null) {
            reply.setTSIG(key, Rcode.NOERROR, requestTsig);
        }
        // toWire(int) is the variant that appends the TSIG; toWire() would silently drop it.
        return reply.toWire(Message.MAXLENGTH);
    }

    /**
     * NOTAUTH with an unsigned TSIG record carrying {@code error} (RFC 8945 §5.3.2: MAC size 0, and
     * never signed). Built by hand because for BADKEY we have no key object to let dnsjava do it.
     */
    private static byte[] unsignedTsigError(Message request, TSIGRecord requestTsig, int error) {
        Message reply = reply(request, Rcode.NOTAUTH, false);
        reply.addRecord(new TSIGRecord(requestTsig.getName(), DClass.ANY, 0, requestTsig.getAlgorithm(),
                Instant.now(), requestTsig.getFudge(), new byte[0], request.getHeader().getID(), error, null),
                Section.ADDITIONAL);
        // toWire(int) moves an OPT record after everything else, which would leave our hand-made
        // TSIG before it; TSIG must be last (RFC 8945 §5.1). toWire() keeps the order we built.
        return reply.toWire();
    }

    /** A 12-byte reply from a header alone: same ID and opcode, QR set, RD copied, all counts 0. */
    private static byte[] headerOnlyReply(byte[] request, int rcode) {
        byte[] out = new byte[Header.LENGTH];
        out[0] = request[0];
        out[1] = request[1];
        // byte 2: QR(1) OPCODE(4) AA TC RD -> QR set, opcode and RD copied
        out[2] = (byte) (0x80 | (request[2] & 0x78) | (request[2] & 0x01));
        // byte 3: RA Z AD CD RCODE(4)
        out[3] = (byte) (rcode & 0x0f);
        return out;
    }
}
