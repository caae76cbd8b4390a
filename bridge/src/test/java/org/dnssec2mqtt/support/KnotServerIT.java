package org.dnssec2mqtt.support;

import static org.dnssec2mqtt.support.AuthoritativeServer.count;
import static org.dnssec2mqtt.support.AuthoritativeServer.flags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.TSIG;

/** Self-test of {@link KnotServer}: signs itself, NOTIFYs over TCP with TSIG, rolls, revokes and removes keys. */
@Timeout(60)
class KnotServerIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ZONE = "example.test";
    private static final String KEY_NAME = "notify-key.";

    @Test
    void signsNotifiesOverTcpAndChangesKeys() throws Exception {
        String secret = AuthoritativeServer.randomSecret();
        TSIG tsig = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, secret);
        try (NotifyReceiver notifies = new NotifyReceiver(FreePorts.tcpAndUdp(), tsig);
                KnotServer knot = new KnotServer()
                        .tsigKey(KEY_NAME, "hmac-sha256", secret)
                        .zone(ZONE, notifies.port(), KEY_NAME)
                        .start()) {
            try {
                // Knot made one KSK and one ZSK at first load
                List<DNSKEYRecord> initial = knot.dnskeys(ZONE);
                assertEquals(Set.of(256, 257), flags(initial), AuthoritativeServer.describe(initial));

                // start-up NOTIFY: over TCP (PITFALLS: Knot never uses UDP), signed, with the SOA
                long serial = knot.servedSerial(ZONE);
                NotifyReceiver.Received first = notifies.await(n -> n.zone().equals(ZONE + "."), WAIT);
                assertEquals("tcp", first.transport(), first::toString);
                assertTrue(first.signed(), first::toString);

                // KSK rollover: a second KSK is published, and NOTIFYd with the new serial
                knot.rollKsk(ZONE);
                List<DNSKEYRecord> rolled = knot.awaitDnskeys(ZONE, set -> count(set, 257) == 2, WAIT);
                long rolledSerial = knot.awaitSerialChange(ZONE, serial, WAIT);
                notifies.await(n -> n.serial() == rolledSerial, WAIT);

                // RFC 5011 revocation of the original KSK: flags 385, new tag, still signing DNSKEY
                KnotServer.Key original = knot.keys(ZONE).stream().filter(KnotServer.Key::ksk)
                        .filter(k -> initial.stream().anyMatch(d -> d.getFootprint() == k.tag()))
                        .findFirst().orElseThrow();
                knot.revoke(ZONE, original);
                List<DNSKEYRecord> revoked = knot.awaitDnskeys(ZONE, set -> count(set, 385) == 1, WAIT);
                assertEquals(rolled.size(), revoked.size(), AuthoritativeServer.describe(revoked));
                int revokedTag = revoked.stream().filter(k -> k.getFlags() == 385).findFirst().orElseThrow().getFootprint();
                assertTrue(knot.dnskeySigners(ZONE).contains(revokedTag),
                        "the revoked key must still sign the DNSKEY RRset (RFC 5011 §2.1)");

                // removal: the revoked key leaves the set
                long beforeRemove = knot.servedSerial(ZONE);
                knot.remove(ZONE, original);
                knot.awaitDnskeys(ZONE, set -> count(set, 385) == 0 && set.size() == rolled.size() - 1, WAIT);
                long removedSerial = knot.awaitSerialChange(ZONE, beforeRemove, WAIT);
                notifies.await(n -> n.serial() == removedSerial, WAIT);

                // a stand-by ZSK: published, signing nothing
                KnotServer.Key standby = knot.addKey(ZONE, false, false);
                knot.awaitDnskeys(ZONE, set -> set.stream().anyMatch(k -> k.getFootprint() == standby.tag()), WAIT);

                // Knot checks the TSIG on our replies and logs any NOTIFY it considers failed
                assertFalse(knot.log().contains("'notify' failed"), "Knot rejected a NOTIFY reply");
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\nNOTIFYs:\n" + notifies.dump() + "\n" + knot.log(), e);
            }
        }
    }
}
