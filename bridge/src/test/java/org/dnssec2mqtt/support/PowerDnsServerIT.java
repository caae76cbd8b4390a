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

/** Self-test of {@link PowerDnsServer}: live signing, TSIG-signed NOTIFYs without SOA, key changes. */
@Timeout(60)
class PowerDnsServerIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ZONE = "example.test";
    private static final String KEY_NAME = "notify-key.";

    @Test
    void signsNotifiesAndChangesKeys() throws Exception {
        String secret = AuthoritativeServer.randomSecret();
        TSIG tsig = new TSIG(TSIG.HMAC_SHA256, KEY_NAME, secret);
        try (NotifyReceiver notifies = new NotifyReceiver(FreePorts.tcpAndUdp(), tsig);
                PowerDnsServer pdns = new PowerDnsServer()
                        .tsigKey(KEY_NAME, "hmac-sha256", secret)
                        .zone(ZONE, notifies.port(), KEY_NAME)
                        .start()) {
            try {
                List<DNSKEYRecord> initial = pdns.dnskeys(ZONE);
                assertEquals(Set.of(256, 257), flags(initial), AuthoritativeServer.describe(initial));

                // a new active KSK: served at once, NOTIFYd over UDP, signed, without SOA (PITFALLS)
                long serial = pdns.servedSerial(ZONE);
                int added = pdns.addKey(ZONE, true, true);
                pdns.awaitDnskeys(ZONE, set -> count(set, 257) == 2, WAIT);
                pdns.awaitSerialChange(ZONE, serial, WAIT);
                NotifyReceiver.Received notify = notifies.await(n -> n.zone().equals(ZONE + "."), WAIT);
                assertEquals("udp", notify.transport(), notify::toString);
                assertTrue(notify.signed(), notify::toString);
                assertEquals(-1, notify.serial(), "PowerDNS sends no SOA in its NOTIFY: " + notify);

                // revocation (database flag): flags 385 under a new tag. PowerDNS treats a key as a KSK
                // only when its flags are 257, so with another KSK in the zone the revoked key signs
                // nothing (RFC 5011 §2.1 wants it to sign DNSKEY): the set looks revoked, the RRSIGs don't.
                int before = notifies.received().size();
                pdns.revoke(ZONE, added);
                List<DNSKEYRecord> revoked = pdns.awaitDnskeys(ZONE, set -> count(set, 385) == 1, WAIT);
                int revokedTag = revoked.stream().filter(k -> k.getFlags() == 385).findFirst().orElseThrow().getFootprint();
                assertFalse(pdns.dnskeySigners(ZONE).contains(revokedTag), "signers " + pdns.dnskeySigners(ZONE));
                NotifyReceiver.Received second = notifies.await(n -> notifies.received().indexOf(n) >= before, WAIT);
                assertEquals(notify.source().getPort(), second.source().getPort(),
                        "PowerDNS NOTIFYs from one fixed source port (PITFALLS)");

                // removal
                pdns.remove(ZONE, added);
                pdns.awaitDnskeys(ZONE, set -> set.size() == 2 && count(set, 385) == 0, WAIT);
                assertEquals(2, pdns.keys(ZONE).size(), pdns.keys(ZONE)::toString);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\nNOTIFYs:\n" + notifies.dump() + "\n" + pdns.log(), e);
            }
        }
    }
}
