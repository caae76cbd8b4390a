package org.dnssec2mqtt.support;

import static org.dnssec2mqtt.support.AuthoritativeServer.count;
import static org.dnssec2mqtt.support.AuthoritativeServer.flags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.TSIG;

/** Self-test of {@link BindServer}: inline signing, TSIG-signed UDP NOTIFYs, add, revoke and remove keys. */
@Timeout(60)
class BindServerIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ZONE = "example.test";
    private static final String KEY_NAME = "notify-key.";

    @Test
    void signsNotifiesAndChangesKeys() throws Exception {
        String secret = AuthoritativeServer.randomSecret();
        TSIG tsig = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, secret);
        try (NotifyReceiver notifies = new NotifyReceiver(FreePorts.tcpAndUdp(), tsig);
                BindServer bind = new BindServer()
                        .tsigKey(KEY_NAME, "hmac-sha256", secret)
                        .zone(ZONE, notifies.port(), KEY_NAME)
                        .start()) {
            try {
                List<DNSKEYRecord> initial = bind.awaitDnskeys(ZONE, set -> set.size() == 2, WAIT);
                assertEquals(Set.of(256, 257), flags(initial), AuthoritativeServer.describe(initial));
                String ksk = bind.keyFiles(ZONE).stream()
                        .filter(k -> bind.dnskey(ZONE, k).getFlags() == 257).findFirst().orElseThrow();

                // start-up NOTIFY: UDP, signed, with the SOA
                NotifyReceiver.Received first = notifies.await(n -> n.zone().equals(ZONE + "."), WAIT);
                assertEquals("udp", first.transport(), first::toString);
                assertTrue(first.signed(), first::toString);
                assertTrue(first.serial() > 0, first::toString);

                // a second KSK, active at once: served, and NOTIFYd with the new serial
                long serial = bind.servedSerial(ZONE);
                String second = bind.addKey(ZONE, true, true);
                int secondTag = bind.dnskey(ZONE, second).getFootprint();
                bind.awaitDnskeys(ZONE, set -> count(set, 257) == 2, WAIT);
                long addedSerial = bind.awaitSerialChange(ZONE, serial, WAIT);
                notifies.await(n -> n.serial() >= addedSerial, WAIT);

                // RFC 5011 revocation of the first KSK: flags 385, new tag, still signing DNSKEY
                String revoked = bind.revoke(ZONE, ksk);
                int revokedTag = bind.dnskey(ZONE, revoked).getFootprint();
                bind.awaitDnskeys(ZONE, set -> count(set, 385) == 1 && count(set, 257) == 1, WAIT);
                assertTrue(bind.dnskeySigners(ZONE).containsAll(Set.of(revokedTag, secondTag)),
                        "the revoked key must still sign the DNSKEY RRset (RFC 5011 §2.1); signers "
                                + bind.dnskeySigners(ZONE));

                // removal: the revoked key leaves the set, NOTIFYd
                long beforeRemove = bind.servedSerial(ZONE);
                bind.remove(ZONE, revoked);
                bind.awaitDnskeys(ZONE, set -> count(set, 385) == 0 && set.size() == 2, WAIT);
                long removedSerial = bind.awaitSerialChange(ZONE, beforeRemove, WAIT);
                notifies.await(n -> n.serial() >= removedSerial, WAIT);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\nNOTIFYs:\n" + notifies.dump() + "\n" + bind.log(), e);
            }
        }
    }
}
