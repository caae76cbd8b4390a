package org.dnssec2mqtt.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/** Self-test of the peer fixtures: real NSD, ldns-signed zones, NOTIFYs, and a real mosquitto. */
@Timeout(60)
class PeersIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String KEY_NAME = "notify-key.";

    @TempDir
    Path tmp;

    @Test
    void nsdServesSignedZoneAndNotifiesOnKeyChanges() throws Exception {
        SignedZone zone = new SignedZone("example.test", tmp.resolve("example"));
        SignedZone.Key ksk = zone.addKsk();
        SignedZone.Key zsk = zone.addZsk();
        zone.sign();
        SignedZone tsigZone = new SignedZone("tsig.test", tmp.resolve("tsig"));
        tsigZone.addKsk();
        tsigZone.sign();

        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String secretBase64 = Base64.getEncoder().encodeToString(secret);
        TSIG tsig = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, secretBase64);

        int notifyPort = FreePorts.tcpAndUdp();
        try (NotifyListener notifies = new NotifyListener(notifyPort, tsig);
                NsdServer nsd = new NsdServer(tmp.resolve("nsd"))
                        .tsigKey(KEY_NAME, "hmac-sha256", secretBase64)
                        .zone("example.test", zone.signedFile(), notifyPort, null)
                        .zone("tsig.test", tsigZone.signedFile(), notifyPort, KEY_NAME)
                        .start()) {
            try {
                // DNSKEY over TCP with DO: both keys, signed by the KSK
                Message answer = nsd.query("example.test", Type.DNSKEY);
                assertEquals(Set.of(zone.keyTag(ksk), zone.keyTag(zsk)), keyTags(answer));
                assertSignedBy(answer, zone.dnskey(ksk));

                // start-up NOTIFYs: unsigned for example.test, TSIG-signed for tsig.test
                Message first = notifies.await(notifyFor("example.test.", 1), WAIT);
                assertNull(first.getTSIG(), "NOKEY notify must carry no TSIG");
                Message signed = notifies.await(notifyFor("tsig.test.", 1), WAIT);
                assertNotNull(signed.getTSIG(), "notify with a key must carry a TSIG record");
                assertEquals(Name.fromString(KEY_NAME), signed.getTSIG().getName());

                // RFC 5011 revocation: flags 257 -> 385, new tag, the revoked key still signs DNSKEY
                int oldTag = zone.keyTag(ksk);
                zone.revoke(ksk);
                int revokedTag = zone.keyTag(ksk);
                assertNotEquals(oldTag, revokedTag);
                assertEquals(385, zone.dnskey(ksk).getFlags());
                zone.bumpSerial();
                zone.sign();
                nsd.reload("example.test");

                notifies.await(notifyFor("example.test.", 2), WAIT);
                nsd.awaitSerial("example.test", 2, WAIT);
                Message revoked = nsd.query("example.test", Type.DNSKEY);
                assertEquals(Set.of(revokedTag, zone.keyTag(zsk)), keyTags(revoked));
                assertTrue(dnskeys(revoked).stream().anyMatch(k -> k.getFlags() == 385), revoked::toString);
                assertSignedBy(revoked, zone.dnskey(ksk));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\nNOTIFYs:\n" + notifies.dump() + "\n" + nsd.log(), e);
            }
        }
    }

    @Test
    void mosquittoDeliversRetainedMessages() {
        try (MosquittoBroker broker = MosquittoBroker.start();
                MqttRecorder publisher = new MqttRecorder(broker.url(), "unrelated/#")) {
            publisher.publish("dnssec/example.test/state", "{\"serial\":1}", true);
            try (MqttRecorder mqtt = new MqttRecorder(broker.url(), "dnssec/#")) {
                MqttRecorder.Received replayed = mqtt.await("dnssec/example.test/state", WAIT);
                assertTrue(replayed.retained(), "replayed at subscribe time, so RETAIN is set");
                assertEquals("{\"serial\":1}", replayed.payload());

                publisher.publish("dnssec/example.test/state", "{\"serial\":2}", true);
                MqttRecorder.Received live = mqtt.await(m -> m.payload().equals("{\"serial\":2}"), WAIT);
                assertEquals("dnssec/example.test/state", live.topic());
                assertEquals("{\"serial\":2}", mqtt.retained("dnssec/example.test/state").orElseThrow());
                mqtt.expectNone(m -> m.topic().startsWith("unrelated/"), Duration.ofMillis(100));
            }
        }
    }

    private static Predicate<Message> notifyFor(String zone, long serial) {
        return message -> message.getQuestion() != null
                && message.getQuestion().getName().toString().equals(zone)
                && message.getSection(Section.ANSWER).stream()
                        .anyMatch(r -> r instanceof SOARecord soa && soa.getSerial() == serial);
    }

    private static List<DNSKEYRecord> dnskeys(Message answer) {
        return answer.getSection(Section.ANSWER).stream()
                .filter(DNSKEYRecord.class::isInstance).map(DNSKEYRecord.class::cast).toList();
    }

    private static Set<Integer> keyTags(Message answer) {
        return dnskeys(answer).stream().map(DNSKEYRecord::getFootprint).collect(Collectors.toSet());
    }

    /** The DNSKEY RRset carries an RRSIG by {@code key} that verifies now. */
    private static void assertSignedBy(Message answer, DNSKEYRecord key) throws Exception {
        RRset rrset = answer.getSectionRRsets(Section.ANSWER).stream()
                .filter(set -> set.getType() == Type.DNSKEY).findFirst()
                .orElseThrow(() -> new AssertionError("expected a DNSKEY RRset; got " + answer));
        RRSIGRecord sig = rrset.sigs().stream().filter(s -> s.getFootprint() == key.getFootprint()).findFirst()
                .orElseThrow(() -> new AssertionError("expected an RRSIG by key " + key.getFootprint() + "; got " + answer));
        DNSSEC.verify(rrset, sig, key, Instant.now()); // throws DNSSECException when it does not verify
    }

    /**
     * A bare NOTIFY receiver on a UDP socket: records each NOTIFY and answers it (RFC 1996 §4.7:
     * same ID, QR and AA set, question echoed), signed with the TSIG key when the NOTIFY was, so
     * NSD stops retrying.
     */
    private static final class NotifyListener implements AutoCloseable {
        private final DatagramSocket socket;
        private final TSIG tsig;
        private final List<Message> received = new ArrayList<>();
        private final Thread thread;

        NotifyListener(int port, TSIG tsig) throws IOException {
            this.tsig = tsig;
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            thread = new Thread(this::serve, "notify-listener");
            thread.setDaemon(true);
            thread.start();
        }

        private void serve() {
            byte[] buffer = new byte[65535];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    socket.receive(packet);
                    byte[] bytes = Arrays.copyOf(packet.getData(), packet.getLength());
                    Message notify = new Message(bytes);
                    if (notify.getHeader().getOpcode() != Opcode.NOTIFY) {
                        continue;
                    }
                    Message reply = new Message(notify.getHeader().getID());
                    reply.getHeader().setOpcode(Opcode.NOTIFY);
                    reply.getHeader().setFlag(Flags.QR);
                    reply.getHeader().setFlag(Flags.AA);
                    reply.addRecord(notify.getQuestion(), Section.QUESTION);
                    if (notify.getTSIG() != null) {
                        // the exact received bytes are what the MAC covers (RFC 8945 §5.3)
                        if (tsig.verify(notify, bytes, null) != Rcode.NOERROR) {
                            throw new IOException("TSIG on NOTIFY does not verify");
                        }
                        reply.setTSIG(tsig, Rcode.NOERROR, notify.getTSIG());
                    }
                    // toWire(MAXLENGTH): the no-argument toWire() would drop the TSIG
                    byte[] out = reply.toWire(Message.MAXLENGTH);
                    socket.send(new DatagramPacket(out, out.length, packet.getSocketAddress()));
                    synchronized (received) {
                        received.add(notify);
                        received.notifyAll();
                    }
                } catch (IOException e) {
                    if (!socket.isClosed()) {
                        synchronized (received) {
                            received.add(null); // marks a bad packet in dump()
                        }
                    }
                }
            }
        }

        Message await(Predicate<Message> match, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (received) {
                while (true) {
                    for (Message message : received) {
                        if (message != null && match.test(message)) {
                            return message;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("no matching NOTIFY within " + timeout);
                    }
                    received.wait(Math.max(1, left / 1_000_000));
                }
            }
        }

        String dump() {
            synchronized (received) {
                StringBuilder text = new StringBuilder();
                for (Message message : received) {
                    text.append(message == null ? "(bad packet)" : summary(message)).append('\n');
                }
                return text.toString();
            }
        }

        private static String summary(Message message) {
            Record soa = message.getSection(Section.ANSWER).stream().findFirst().orElse(null);
            return "NOTIFY " + message.getQuestion().getName() + " id=" + message.getHeader().getID()
                    + " soa=" + soa + " tsig=" + (message.getTSIG() != null);
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(2_000);
        }
    }
}
