package org.dnssec2mqtt.peers;

import org.dnssec2mqtt.support.BindServer;

/**
 * {@link PeerScenario} against a real BIND 9.18: NOTIFY over UDP from {@code also-notify}, keys
 * made with {@code dnssec-keygen}, revoked with {@code dnssec-revoke}, removed with
 * {@code dnssec-settime -D now}, each applied with {@code rndc loadkeys}.
 */
class BindBridgeIT extends ManagedServerScenario<BindServer> {

    @Override
    BindServer create() {
        return new BindServer();
    }

    @Override
    void sendNotify(String zone) {
        server.rndc("notify", zone);
    }

    @Override
    int addKsk(String zone) {
        return server.dnskey(zone, server.addKey(zone, true, true)).getFootprint();
    }

    @Override
    int addZsk(String zone) {
        return server.dnskey(zone, server.addKey(zone, false, true)).getFootprint();
    }

    @Override
    void revoke(String zone, int tag) {
        server.revoke(zone, keyFile(zone, tag));
    }

    @Override
    void remove(String zone, int originalTag) {
        server.remove(zone, keyFile(zone, originalTag));
    }

    /** The key file of the key whose unrevoked tag is {@code tag} (dnssec-revoke renames the files). */
    private String keyFile(String zone, int tag) {
        return server.keyFiles(zone).stream().filter(k -> unrevokedTag(server.dnskey(zone, k)) == tag)
                .findFirst().orElseThrow(() -> new IllegalStateException("no key file with tag " + tag));
    }
}
