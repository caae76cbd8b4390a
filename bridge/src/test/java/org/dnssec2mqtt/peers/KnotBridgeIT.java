package org.dnssec2mqtt.peers;

import java.util.HashMap;
import java.util.Map;
import org.dnssec2mqtt.support.KnotServer;

/**
 * {@link PeerScenario} against a real Knot 3.2: NOTIFY over TCP (TSIG-signed ones want a signed
 * reply), keys added, revoked and deleted with {@code keymgr} and applied with {@code knotc}.
 */
class KnotBridgeIT extends ManagedServerScenario<KnotServer> {
    /** Keys by the tag they had when revoked: keymgr lists a key under its tag at creation. */
    private final Map<Integer, KnotServer.Key> revoked = new HashMap<>();

    @Override
    KnotServer create() {
        return new KnotServer();
    }

    @Override
    void sendNotify(String zone) {
        server.knotc("zone-notify", zone);
    }

    @Override
    int addKsk(String zone) {
        return server.addKey(zone, true, true).tag();
    }

    @Override
    int addZsk(String zone) {
        return server.addKey(zone, false, true).tag();
    }

    @Override
    void revoke(String zone, int tag) {
        KnotServer.Key key = server.keys(zone).stream().filter(k -> k.tag() == tag).findFirst().orElseThrow();
        revoked.put(tag, key);
        server.revoke(zone, key);
    }

    @Override
    void remove(String zone, int originalTag) {
        server.remove(zone, revoked.remove(originalTag));
    }
}
