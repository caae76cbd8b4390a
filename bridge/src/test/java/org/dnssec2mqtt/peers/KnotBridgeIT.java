package org.dnssec2mqtt.peers;

import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import org.dnssec2mqtt.support.KnotServer;
import org.xbill.DNS.DNSKEYRecord;

/**
 * {@link PeerScenario} against a real Knot 3.2: NOTIFY over TCP (TSIG-signed ones want a signed
 * reply), keys added, revoked and deleted with {@code keymgr} and applied with {@code knotc}.
 */
class KnotBridgeIT extends PeerScenario {
    private KnotServer knot;
    /** Keys by the tag they had when revoked: keymgr lists a key under its tag at creation. */
    private final Map<Integer, KnotServer.Key> revoked = new HashMap<>();

    @Override
    void startServer() {
        knot = new KnotServer()
                .tsigKey(KEY, "hmac-sha256", secret)
                .tsigKey(WRONG_KEY, "hmac-sha256", wrongSecret)
                .zone(PLAIN, notifyPort, null)
                .zone(SIGNED, notifyPort, KEY)
                .zone(WRONG, notifyPort, WRONG_KEY)
                .start();
    }

    @Override
    void stopServer() {
        if (knot != null) {
            knot.close();
        }
    }

    @Override
    int port() {
        return knot.port();
    }

    @Override
    List<DNSKEYRecord> dnskeys(String zone) {
        return knot.dnskeys(zone);
    }

    @Override
    Set<Integer> dnskeySigners(String zone) {
        return knot.dnskeySigners(zone);
    }

    @Override
    void sendNotify(String zone) {
        knot.knotc("zone-notify", zone);
    }

    @Override
    int addKsk(String zone) {
        return knot.addKey(zone, true, true).tag();
    }

    @Override
    int addZsk(String zone) {
        return knot.addKey(zone, false, true).tag();
    }

    @Override
    void revoke(String zone, int tag) {
        KnotServer.Key key = knot.keys(zone).stream().filter(k -> k.tag() == tag).findFirst().orElseThrow();
        revoked.put(tag, key);
        knot.revoke(zone, key);
    }

    @Override
    void remove(String zone, int originalTag) {
        knot.remove(zone, revoked.remove(originalTag));
    }

    @Override
    String log() {
        return knot == null ? "" : knot.log();
    }
}
