package org.dnssec2mqtt.dns;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * Hostile and valid NOTIFY packets for the fuzz and abuse tests: seeds built with dnsjava (valid,
 * signed, with EDNS, every opcode) and hand-made malformations (truncation, counts that lie,
 * compression loops, over-long names and labels, TSIG records with garbage MACs), plus a cheap
 * mutator (bit flips, byte overwrites, cuts, splices, count changes). Deterministic per seed.
 */
final class NotifyPackets {
    static final Name ZONE = Name.fromConstantString("example.com.");

    private NotifyPackets() {}

    /** A NOTIFY for {@code zone} with the SOA (serial) in the answer section; unsigned. */
    static Message notify(Name zone, long serial, int id) {
        Message m = new Message(id);
        m.getHeader().setOpcode(Opcode.NOTIFY);
        m.getHeader().setFlag(Flags.AA);
        m.addRecord(Record.newRecord(zone, Type.SOA, DClass.IN), Section.QUESTION);
        m.addRecord(new SOARecord(zone, DClass.IN, 3600, Name.fromConstantString("ns1.example.com."),
                Name.fromConstantString("hostmaster.example.com."), serial, 7200, 3600, 1209600, 300), Section.ANSWER);
        return m;
    }

    static byte[] wire(Message m) {
        return m.toWire(Message.MAXLENGTH); // the variant that appends a TSIG when one is set
    }

    static byte[] signed(Message m, TSIG key) {
        m.setTSIG(key, 0, null);
        return wire(m);
    }

    /** Seeds: valid packets of every kind the handler distinguishes, and hand-made malformations. */
    static List<byte[]> seeds(TSIG key, TSIG wrongKey) {
        List<byte[]> out = new ArrayList<>();
        out.add(wire(notify(ZONE, 2024010101L, 0x1234)));
        out.add(signed(notify(ZONE, 2024010102L, 0x1235), key));
        out.add(signed(notify(ZONE, 2024010103L, 0x1236), wrongKey)); // BADSIG
        Message edns = notify(ZONE, 7, 0x1237);
        edns.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
        out.add(wire(edns));
        for (int opcode = 0; opcode < 16; opcode++) { // every opcode, NOTIFY included
            Message m = new Message(0x2000 + opcode);
            m.getHeader().setOpcode(opcode);
            m.addRecord(Record.newRecord(ZONE, Type.SOA, DClass.IN), Section.QUESTION);
            out.add(wire(m));
        }
        for (int type : new int[] {Type.DNSKEY, Type.CDS, Type.CDNSKEY, Type.A, Type.ANY}) {
            Message m = new Message(0x3000 + type);
            m.getHeader().setOpcode(Opcode.NOTIFY);
            m.addRecord(Record.newRecord(ZONE, type, DClass.IN), Section.QUESTION);
            out.add(wire(m));
        }
        byte[] valid = out.get(0);
        out.add(Arrays.copyOf(valid, 11));                        // shorter than a header
        out.add(Arrays.copyOf(valid, 20));                        // cut inside the question
        out.add(Arrays.copyOf(valid, valid.length - 5));          // cut inside the answer
        out.add(withCounts(valid, 0xffff, 0xffff, 0xffff, 0xffff)); // counts that lie
        out.add(withCounts(valid, 2, 0, 0, 0));
        out.add(withCounts(valid, 0, 1, 0, 0));
        out.add(compressionLoop());
        out.add(longName());
        out.add(longLabel());
        out.add(tsigGarbage(valid, new Random(1)));
        byte[] response = valid.clone();
        response[2] |= (byte) 0x80;                               // QR set: never answered
        out.add(response);
        return out;
    }

    /** A header with other counts. */
    static byte[] withCounts(byte[] packet, int qd, int an, int ns, int ar) {
        byte[] p = packet.clone();
        int[] counts = {qd, an, ns, ar};
        for (int i = 0; i < 4; i++) {
            p[4 + 2 * i] = (byte) (counts[i] >>> 8);
            p[5 + 2 * i] = (byte) counts[i];
        }
        return p;
    }

    /** A question whose name is a pointer to itself (RFC 1035 §4.1.4 pointers must point back). */
    static byte[] compressionLoop() {
        return new byte[] {
            0x00, 0x42, 0x20, 0x00,       // ID, NOTIFY
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QDCOUNT 1
            (byte) 0xc0, 0x0c,            // offset 12: pointer to offset 12
            0x00, 0x06, 0x00, 0x01        // SOA IN
        };
    }

    /** A name of 127 one-character labels: 255 bytes on the wire, plus one more label. */
    static byte[] longName() {
        byte[] p = new byte[12 + 2 * 130 + 1 + 4];
        p[0] = 0x00; p[1] = 0x43; p[2] = 0x20; p[5] = 0x01;
        int o = 12;
        for (int i = 0; i < 130; i++) {
            p[o++] = 1;
            p[o++] = 'a';
        }
        p[o++] = 0;
        p[o + 1] = 0x06;
        p[o + 3] = 0x01;
        return p;
    }

    /** A label claiming 64 bytes (the limit is 63; 0x40 is also the reserved label type). */
    static byte[] longLabel() {
        byte[] p = new byte[12 + 1 + 64 + 1 + 4];
        p[0] = 0x00; p[1] = 0x44; p[2] = 0x20; p[5] = 0x01;
        p[12] = 64;
        Arrays.fill(p, 13, 77, (byte) 'x');
        p[78] = 0x00; p[79] = 0x06; p[80] = 0x00; p[81] = 0x01;
        return p;
    }

    /** {@code packet} with a TSIG record for our key name whose MAC, times and sizes are random. */
    static byte[] tsigGarbage(byte[] packet, Random random) {
        byte[] name = {10, 'n', 'o', 't', 'i', 'f', 'y', '-', 'k', 'e', 'y', 0};
        byte[] alg = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};
        int macSize = random.nextInt(80);
        int otherSize = random.nextInt(8);
        int rdLength = alg.length + 6 + 2 + 2 + macSize + 2 + 2 + 2 + otherSize;
        byte[] rr = new byte[name.length + 10 + rdLength];
        int o = 0;
        System.arraycopy(name, 0, rr, o, name.length);
        o += name.length;
        rr[o++] = 0x00; rr[o++] = (byte) 250;  // TYPE TSIG
        rr[o++] = 0x00; rr[o++] = (byte) 255;  // CLASS ANY
        o += 4;                                // TTL 0
        rr[o++] = (byte) (rdLength >>> 8); rr[o++] = (byte) rdLength;
        System.arraycopy(alg, 0, rr, o, alg.length);
        o += alg.length;
        for (int i = 0; i < 6 + 2; i++) {
            rr[o++] = (byte) random.nextInt(256); // time signed, fudge
        }
        rr[o++] = (byte) (macSize >>> 8); rr[o++] = (byte) macSize;
        for (int i = 0; i < macSize; i++) {
            rr[o++] = (byte) random.nextInt(256);
        }
        rr[o++] = packet[0]; rr[o++] = packet[1]; // original ID
        rr[o++] = 0; rr[o++] = 0;                 // error
        rr[o++] = (byte) (otherSize >>> 8); rr[o++] = (byte) otherSize;
        for (int i = 0; i < otherSize; i++) {
            rr[o++] = (byte) random.nextInt(256);
        }
        byte[] p = Arrays.copyOf(packet, packet.length + rr.length);
        System.arraycopy(rr, 0, p, packet.length, rr.length);
        int ar = ((p[10] & 0xff) << 8 | (p[11] & 0xff)) + 1;
        p[10] = (byte) (ar >>> 8);
        p[11] = (byte) ar;
        return p;
    }

    /** One mutation of a random seed: what a careless or hostile sender might produce. */
    static byte[] mutate(List<byte[]> seeds, Random random) {
        byte[] p = seeds.get(random.nextInt(seeds.size())).clone();
        int rounds = 1 + random.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            switch (random.nextInt(8)) {
                case 0 -> { // flip a bit
                    if (p.length > 0) {
                        p[random.nextInt(p.length)] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 1 -> { // overwrite a byte
                    if (p.length > 0) {
                        p[random.nextInt(p.length)] = (byte) random.nextInt(256);
                    }
                }
                case 2 -> p = Arrays.copyOf(p, random.nextInt(p.length + 1)); // truncate
                case 3 -> { // a count that lies
                    if (p.length >= 12) {
                        int at = 4 + 2 * random.nextInt(4);
                        p[at] = (byte) random.nextInt(3);
                        p[at + 1] = (byte) random.nextInt(256);
                    }
                }
                case 4 -> { // splice another seed's tail on
                    byte[] other = seeds.get(random.nextInt(seeds.size()));
                    int from = random.nextInt(other.length + 1);
                    byte[] q = Arrays.copyOf(p, p.length + other.length - from);
                    System.arraycopy(other, from, q, p.length, other.length - from);
                    p = q;
                }
                case 5 -> { // a compression pointer somewhere
                    if (p.length > 13) {
                        int at = 12 + random.nextInt(p.length - 13);
                        p[at] = (byte) (0xc0 | random.nextInt(4));
                        p[at + 1] = (byte) random.nextInt(p.length);
                    }
                }
                case 6 -> { // set the opcode
                    if (p.length > 2) {
                        p[2] = (byte) ((p[2] & 0x87) | (random.nextInt(16) << 3));
                    }
                }
                default -> p = tsigGarbage(p.length >= 12 ? p : Arrays.copyOf(p, 12), random);
            }
        }
        if (random.nextInt(50) == 0) { // now and then pure noise, up to the UDP limit
            p = new byte[random.nextInt(random.nextBoolean() ? 600 : 65_000)];
            random.nextBytes(p);
        }
        return p;
    }
}
