package org.dnssec2mqtt.peers;

import java.util.HashMap;
import java.util.Map;
import org.dnssec2mqtt.support.PowerDnsServer;

/**
 * {@link PeerScenario} against a real PowerDNS 4.7: NOTIFY over UDP from one fixed port, without
 * a SOA (the bridge asks for the serial first), keys added and removed with {@code pdnsutil}.
 *
 * <p>PowerDNS has no RFC 5011 revocation: the fixture sets the REVOKE bit in its database. It then
 * serves the key with flags 385 but, with the new KSK in the zone, signs nothing with it (RFC 5011
 * §2.1 wants the revoked key to sign the DNSKEY RRset). The bridge reports what it is served: the
 * key is revoked (REVOKE bit), linked to its old tag; the same assertions as for Knot and BIND hold.
 */
class PowerDnsBridgeIT extends ManagedServerScenario<PowerDnsServer> {
    /** PowerDNS key IDs by the tag the key had when revoked. */
    private final Map<Integer, Integer> revoked = new HashMap<>();

    @Override
    PowerDnsServer create() {
        return new PowerDnsServer();
    }

    @Override
    void sendNotify(String zone) {
        server.pdnsControl("notify", zone);
    }

    @Override
    int addKsk(String zone) {
        return tagOf(zone, server.addKey(zone, true, true));
    }

    @Override
    int addZsk(String zone) {
        return tagOf(zone, server.addKey(zone, false, true));
    }

    @Override
    void revoke(String zone, int tag) {
        int id = server.keys(zone).stream().filter(k -> k.tag() == tag).findFirst().orElseThrow().id();
        revoked.put(tag, id);
        server.revoke(zone, id);
    }

    @Override
    void remove(String zone, int originalTag) {
        server.remove(zone, revoked.remove(originalTag));
    }

    /** PowerDNS signs with flags-257 keys only: the revoked KSK signs nothing while another KSK exists. */
    @Override
    boolean revokedKeySigns() {
        return false;
    }

    private int tagOf(String zone, int id) {
        return server.keys(zone).stream().filter(k -> k.id() == id).findFirst().orElseThrow().tag();
    }
}
