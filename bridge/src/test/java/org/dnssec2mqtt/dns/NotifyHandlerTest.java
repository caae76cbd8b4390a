package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;
import org.dnssec2mqtt.config.Cidr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;

class NotifyHandlerTest {

    static final InetAddress LOCAL = addr("127.0.0.1");
    static final InetAddress STRANGER = addr("192.0.2.7");
    static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));

    static final Name KEY_NAME = name("notify-key.");
    static final String SECRET = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
    static final TSIG KEY = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, SECRET);
    static final TsigKeys KEYS = new TsigKeys(Map.of(KEY_NAME, KEY));

    // NOTIFY for example.com. SOA, as BIND/NSD send it: with the new SOA in the answer section.
    static final byte[] NOTIFY_SOA = bytes(
            0x12, 0x34,             // ID 0x1234
            0x24,                   // QR=0 (query), OPCODE=4 (NOTIFY), AA=1, TC=0, RD=0
            0x00,                   // RA=0, Z=0, AD=0, CD=0, RCODE=0
            0x00, 0x01,             // QDCOUNT 1
            0x00, 0x01,             // ANCOUNT 1
            0x00, 0x00,             // NSCOUNT 0
            0x00, 0x00,             // ARCOUNT 0
            // question (offset 12)
            0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', // label "example"
            0x03, 'c', 'o', 'm',    // label "com"
            0x00,                   // root
            0x00, 0x06,             // QTYPE SOA
            0x00, 0x01,             // QCLASS IN
            // answer: the SOA
            0xc0, 0x0c,             // owner: pointer to offset 12 (example.com.)
            0x00, 0x06,             // TYPE SOA
            0x00, 0x01,             // CLASS IN
            0x00, 0x00, 0x0e, 0x10, // TTL 3600
            0x00, 0x27,             // RDLENGTH 39
            0x03, 'n', 's', '1', 0xc0, 0x0c,               // MNAME ns1.example.com.
            0x0a, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 0xc0, 0x0c, // RNAME hostmaster.example.com.
            0x78, 0xa3, 0xf1, 0x75, // SERIAL 2024010101
            0x00, 0x00, 0x1c, 0x20, // REFRESH 7200
            0x00, 0x00, 0x0e, 0x10, // RETRY 3600
            0x00, 0x12, 0x75, 0x00, // EXPIRE 1209600
            0x00, 0x00, 0x01, 0x2c  // MINIMUM 300
    );

    // The reply RFC 1996 §4.7 asks for: same ID, QR and AA set, question echoed, nothing else.
    static final byte[] NOTIFY_SOA_REPLY = bytes(
            0x12, 0x34,             // ID 0x1234
            0xa4,                   // QR=1, OPCODE=4 (NOTIFY), AA=1
            0x00,                   // RCODE=0 (NOERROR)
            0x00, 0x01,             // QDCOUNT 1
            0x00, 0x00,             // ANCOUNT 0
            0x00, 0x00,             // NSCOUNT 0
            0x00, 0x00,             // ARCOUNT 0
            0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, // example.com.
            0x00, 0x06,             // QTYPE SOA
            0x00, 0x01              // QCLASS IN
    );

    // NOTIFY as PowerDNS sends it: no answer section, so no serial.
    static final byte[] NOTIFY_NO_SOA = bytes(
            0xbe, 0xef,             // ID 0xbeef
            0x20,                   // OPCODE=4 (NOTIFY), AA=0
            0x00,                   // RCODE=0
            0x00, 0x01,             // QDCOUNT 1
            0x00, 0x00,             // ANCOUNT 0
            0x00, 0x00,             // NSCOUNT 0
            0x00, 0x00,             // ARCOUNT 0
            0x07, 'E', 'x', 'A', 'm', 'P', 'l', 'E', // label "ExAmPlE": names are case-insensitive
            0x03, 'C', 'O', 'M',    // label "COM"
            0x00,                   // root
            0x00, 0x06,             // QTYPE SOA
            0x00, 0x01              // QCLASS IN
    );

    // An ordinary QUERY (opcode 0) for example.com. SOA.
    static final byte[] QUERY_SOA = bytes(
            0x00, 0x07,             // ID 7
            0x01,                   // OPCODE=0 (QUERY), RD=1
            0x00,                   // RCODE=0
            0x00, 0x01,             // QDCOUNT 1
            0x00, 0x00,             // ANCOUNT 0
            0x00, 0x00,             // NSCOUNT 0
            0x00, 0x00,             // ARCOUNT 0
            0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, // example.com.
            0x00, 0x06,             // QTYPE SOA
            0x00, 0x01              // QCLASS IN
    );

    // NOTIFY without a question.
    static final byte[] NOTIFY_QDCOUNT_0 = bytes(
            0x00, 0x09,             // ID 9
            0x20,                   // OPCODE=4 (NOTIFY)
            0x00,                   // RCODE=0
            0x00, 0x00,             // QDCOUNT 0
            0x00, 0x00,             // ANCOUNT 0
            0x00, 0x00,             // NSCOUNT 0
            0x00, 0x00              // ARCOUNT 0
    );

    // A header that promises a question which never comes: unparseable.
    static final byte[] HEADER_ONLY_GARBAGE = bytes(
            0xab, 0xcd,             // ID 0xabcd
            0x21,                   // OPCODE=4 (NOTIFY), RD=1
            0x00,                   // RCODE=0
            0x00, 0x01,             // QDCOUNT 1 (a lie)
            0x00, 0x00,             // ANCOUNT 0
            0x00, 0x00,             // NSCOUNT 0
            0x00, 0x00,             // ARCOUNT 0
            0x07, 'e', 'x'          // a label cut short
    );

    // The FORMERR a server can give for it: header only, QR set, opcode and RD copied.
    static final byte[] HEADER_ONLY_GARBAGE_REPLY = bytes(
            0xab, 0xcd,             // ID 0xabcd
            0xa1,                   // QR=1, OPCODE=4, RD=1
            0x01,                   // RCODE=1 (FORMERR)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 // all counts 0
    );

    // A response to a NOTIFY (QR set): answering it could start a reply loop.
    static final byte[] NOTIFY_RESPONSE = bytes(
            0x12, 0x34,             // ID 0x1234
            0xa4,                   // QR=1, OPCODE=4 (NOTIFY), AA=1
            0x00,                   // RCODE=0
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QDCOUNT 1, others 0
            0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, // example.com.
            0x00, 0x06, 0x00, 0x01  // SOA IN
    );

    final NotifyHandler handler = new NotifyHandler(LOOPBACK, KEYS, false);

    @Test
    void acceptsNotifyWithSoaAndRepliesAsRfc1996Asks() {
        NotifyHandler.Outcome out = handler.handle(NOTIFY_SOA, NOTIFY_SOA.length, LOCAL);

        assertEquals("accepted", out.reason());
        assertArrayEquals(NOTIFY_SOA_REPLY, out.reply());
        assertEquals(new NotifyRequest(name("example.com."), Type.SOA, 2024010101L, LOCAL, null), out.accepted());
    }

    @Test
    void acceptsNotifyWithoutSoaAndLowerCasesTheZone() {
        NotifyHandler.Outcome out = handler.handle(NOTIFY_NO_SOA, NOTIFY_NO_SOA.length, LOCAL);

        assertEquals("accepted", out.reason());
        assertNull(out.accepted().serial());
        assertEquals("example.com.", out.accepted().zone().toString(), "zone is lower case and absolute");
    }

    @Test
    void onlyTheFirstLengthBytesCount() {
        byte[] bigger = java.util.Arrays.copyOf(NOTIFY_SOA, 4096);
        NotifyHandler.Outcome out = handler.handle(bigger, NOTIFY_SOA.length, LOCAL);
        assertEquals("accepted", out.reason());
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, 5, 11})
    void dropsPacketsShorterThanAHeader(int length) {
        NotifyHandler.Outcome out = handler.handle(NOTIFY_SOA, length, LOCAL);
        assertNull(out.reply());
        assertNull(out.accepted());
        assertEquals("dropped-short", out.reason());
    }

    @Test
    void answersUnparseablePacketsWithHeaderOnlyFormerr() {
        NotifyHandler.Outcome out = handler.handle(HEADER_ONLY_GARBAGE, HEADER_ONLY_GARBAGE.length, LOCAL);
        assertEquals("formerr-parse", out.reason());
        assertArrayEquals(HEADER_ONLY_GARBAGE_REPLY, out.reply());
        assertNull(out.accepted());
    }

    @Test
    void dropsResponses() {
        NotifyHandler.Outcome out = handler.handle(NOTIFY_RESPONSE, NOTIFY_RESPONSE.length, LOCAL);
        assertNull(out.reply());
        assertEquals("dropped-response", out.reason());
    }

    @Test
    void answersOtherOpcodesWithNotimpAndEchoesTheQuestion() throws Exception {
        NotifyHandler.Outcome out = handler.handle(QUERY_SOA, QUERY_SOA.length, LOCAL);
        assertEquals("notimp-opcode", out.reason());
        Message reply = new Message(out.reply());
        assertHeader(reply, 7, Opcode.QUERY, Rcode.NOTIMP);
        assertTrue(reply.getHeader().getFlag(Flags.RD), "RD copied");
        assertEquals(name("example.com."), reply.getQuestion().getName());
        assertNull(out.accepted());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"notify", "query", "garbage"})
    void refusesStrangersWhateverTheyAsk(String what) throws Exception {
        byte[] packet = switch (what) {
            case "notify" -> NOTIFY_SOA;
            case "query" -> QUERY_SOA;
            default -> HEADER_ONLY_GARBAGE;
        };
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, STRANGER);

        assertEquals("refused-acl", out.reason());
        assertNull(out.accepted());
        Message reply = new Message(out.reply());
        assertEquals(Rcode.REFUSED, reply.getRcode());
        assertEquals(what.equals("garbage") ? null : name("example.com."),
                reply.getQuestion() == null ? null : reply.getQuestion().getName(),
                "question echoed when parseable");
    }

    @Test
    void acceptsIpv6LoopbackByDefaultAllow() {
        NotifyHandler.Outcome out = handler.handle(NOTIFY_SOA, NOTIFY_SOA.length, addr("::1"));
        assertEquals("accepted", out.reason());
    }

    @Test
    void answersNotifyWithoutQuestionWithFormerr() throws Exception {
        NotifyHandler.Outcome out = handler.handle(NOTIFY_QDCOUNT_0, NOTIFY_QDCOUNT_0.length, LOCAL);
        assertEquals("formerr-qdcount", out.reason());
        assertHeader(new Message(out.reply()), 9, Opcode.NOTIFY, Rcode.FORMERR);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "SOA,     accepted",
        "DNSKEY,  accepted",   // what we fetch anyway
        "CDS,     accepted",   // RFC 9859 generalized NOTIFY
        "CDNSKEY, accepted",   // RFC 9859 generalized NOTIFY
        "A,       formerr-qtype",
        "AXFR,    formerr-qtype",
        "CSYNC,   formerr-qtype",
    })
    void decidesByQuestionType(String type, String reason) throws Exception {
        byte[] packet = notify("example.com.", Type.value(type)).toWire(Message.MAXLENGTH);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        assertEquals(reason, out.reason());
        Message reply = new Message(out.reply());
        assertEquals(reason.equals("accepted") ? Rcode.NOERROR : Rcode.FORMERR, reply.getRcode());
        assertEquals(Type.value(type), reply.getQuestion().getType(), "question echoed");
        if (reason.equals("accepted")) {
            assertEquals(Type.value(type), out.accepted().qtype());
        }
    }

    @Test
    void answersNonInClassWithFormerr() {
        Message m = new Message(5);
        m.getHeader().setOpcode(Opcode.NOTIFY);
        m.addRecord(Record.newRecord(name("example.com."), Type.SOA, DClass.CH), Section.QUESTION);
        byte[] packet = m.toWire(Message.MAXLENGTH);
        assertEquals("formerr-class", handler.handle(packet, packet.length, LOCAL).reason());
    }

    // ---- TSIG (RFC 8945) ----

    @Test
    void acceptsSignedNotifyAndSignsTheReplyWithTheSameKey() throws Exception {
        byte[] packet = signed(notify("example.com.", Type.SOA), KEY);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        assertEquals("accepted", out.reason());
        assertEquals(KEY_NAME, out.accepted().tsigKey());
        Message reply = new Message(out.reply());
        assertEquals(Rcode.NOERROR, reply.getRcode());
        assertTrue(reply.getHeader().getFlag(Flags.AA));
        // What Knot does with our reply: verify it against its own request's MAC.
        assertNotNull(reply.getTSIG(), "reply is signed");
        assertEquals(Rcode.NOERROR, KEY.verify(reply, out.reply(), new Message(packet).getTSIG()));
    }

    @Test
    void signedReplyKeepsTsigLastWhenTheRequestHadEdns() throws Exception {
        Message request = notify("example.com.", Type.SOA);
        request.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
        byte[] packet = signed(request, KEY);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        Message reply = new Message(out.reply()); // throws if TSIG is not last
        assertNotNull(reply.getOPT(), "OPT echoed (RFC 6891 §7)");
        assertEquals(Rcode.NOERROR, KEY.verify(reply, out.reply(), new Message(packet).getTSIG()));
    }

    @Test
    void answersWrongSecretWithUnsignedBadsig() throws Exception {
        TSIG wrong = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, Base64.getEncoder().encodeToString(new byte[32]));
        byte[] packet = signed(notify("example.com.", Type.SOA), wrong);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        assertTsigError(out, "notauth-badsig", Rcode.BADSIG);
        assertEquals(0, new Message(out.reply()).getTSIG().getSignature().length, "RFC 8945 §5.3.2: unsigned");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"unknown name", "known name, other algorithm"})
    void answersUnknownKeyWithUnsignedBadkey(String which) throws Exception {
        TSIG other = which.equals("unknown name")
                ? new TSIG(TSIG.HMAC_SHA256, name("other-key."), SECRET)
                : new TSIG(TSIG.HMAC_SHA512, KEY_NAME, SECRET);
        byte[] packet = signed(notify("example.com.", Type.SOA), other);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        assertTsigError(out, "notauth-badkey", Rcode.BADKEY);
        assertEquals(0, new Message(out.reply()).getTSIG().getSignature().length, "RFC 8945 §5.3.2: unsigned");
    }

    @Test
    void answersStaleSignatureWithSignedBadtime() throws Exception {
        // The sender's clock is an hour behind: far outside the 300 s fudge.
        Clock behind = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
        TSIG sender = new TSIG(TSIG.HMAC_SHA256, KEY_NAME,
                new SecretKeySpec(Base64.getDecoder().decode(SECRET), "HmacSHA256"), behind);
        byte[] packet = signed(notify("example.com.", Type.SOA), sender);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        assertTsigError(out, "notauth-badtime", Rcode.BADTIME);
        // RFC 8945 §5.2.3: signed, Time Signed copied from the request, so the sender can verify it.
        Message reply = new Message(out.reply());
        assertEquals(Rcode.NOERROR, sender.verify(reply, out.reply(), new Message(packet).getTSIG()));
    }

    @Test
    void refusesUnsignedNotifyWhenTsigIsRequired() throws Exception {
        NotifyHandler strict = new NotifyHandler(LOOPBACK, KEYS, true);
        NotifyHandler.Outcome out = strict.handle(NOTIFY_SOA, NOTIFY_SOA.length, LOCAL);

        assertEquals("refused-unsigned", out.reason());
        assertNull(out.accepted());
        Message reply = new Message(out.reply());
        assertHeader(reply, 0x1234, Opcode.NOTIFY, Rcode.REFUSED);
        assertEquals(name("example.com."), reply.getQuestion().getName());
    }

    @Test
    void acceptsSignedNotifyWhenTsigIsRequired() {
        NotifyHandler strict = new NotifyHandler(LOOPBACK, KEYS, true);
        byte[] packet = signed(notify("example.com.", Type.SOA), KEY);
        assertEquals("accepted", strict.handle(packet, packet.length, LOCAL).reason());
    }

    @Test
    void signsErrorRepliesToVerifiedRequests() throws Exception {
        Message query = notify("example.com.", Type.SOA);
        query.getHeader().setOpcode(Opcode.QUERY);
        byte[] packet = signed(query, KEY);
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);

        assertEquals("notimp-opcode", out.reason());
        assertEquals(Rcode.NOERROR, KEY.verify(new Message(out.reply()), out.reply(), new Message(packet).getTSIG()));
    }

    @Test
    void tsigThatIsNotTheLastRecordIsFormerr() {
        // RFC 8945 §5.1: a TSIG anywhere but last is FORMERR; dnsjava refuses to parse it.
        Message m = notify("example.com.", Type.SOA);
        byte[] signedBytes = signed(m, KEY);
        Message parsed;
        try {
            parsed = new Message(signedBytes);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        TSIGRecord tsig = parsed.getTSIG();
        Message moved = notify("example.com.", Type.SOA);
        moved.addRecord(tsig, Section.ADDITIONAL);
        moved.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
        byte[] packet = moved.toWire(); // keeps TSIG before OPT
        NotifyHandler.Outcome out = handler.handle(packet, packet.length, LOCAL);
        assertEquals("formerr-parse", out.reason());
    }

    // ---- helpers ----

    static Message notify(String zone, int type) {
        Message m = new Message(0x4242);
        m.getHeader().setOpcode(Opcode.NOTIFY);
        m.getHeader().setFlag(Flags.AA);
        m.addRecord(Record.newRecord(name(zone), type, DClass.IN), Section.QUESTION);
        return m;
    }

    static byte[] signed(Message m, TSIG key) {
        m.setTSIG(key, Rcode.NOERROR, null);
        return m.toWire(Message.MAXLENGTH);
    }

    static void assertTsigError(NotifyHandler.Outcome out, String reason, int tsigError) throws Exception {
        assertEquals(reason, out.reason());
        assertNull(out.accepted());
        Message reply = new Message(out.reply());
        assertEquals(Rcode.NOTAUTH, reply.getRcode());
        assertEquals(tsigError, reply.getTSIG().getError());
        assertEquals(0x4242, reply.getTSIG().getOriginalID());
        assertEquals(name("example.com."), reply.getQuestion().getName(), "question echoed");
    }

    static void assertHeader(Message reply, int id, int opcode, int rcode) {
        assertEquals(id, reply.getHeader().getID());
        assertTrue(reply.getHeader().getFlag(Flags.QR), "QR set");
        assertEquals(opcode, reply.getHeader().getOpcode());
        assertEquals(rcode, reply.getRcode());
    }

    /** Writes a byte array as ints and chars, so the fixtures can be commented byte by byte. */
    static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    static Name name(String s) {
        try {
            return Name.fromString(s);
        } catch (org.xbill.DNS.TextParseException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
