package org.dnssec2mqtt.peers;

import java.util.List;
import java.util.Set;
import org.dnssec2mqtt.support.BindServer;
import org.xbill.DNS.DNSKEYRecord;

/**
 * {@link PeerScenario} against a real BIND 9.18: NOTIFY over UDP from {@code also-notify}, keys
 * made with {@code dnssec-keygen}, revoked with {@code dnssec-revoke}, removed with
 * {@code dnssec-settime -D now}, each applied with {@code rndc loadkeys}.
 */
class BindBridgeIT extends PeerScenario {
    private BindServer bind;

    @Override
    void startServer() {
        bind = new BindServer()
                .tsigKey(KEY, "hmac-sha256", secret)
                .tsigKey(WRONG_KEY, "hmac-sha256", wrongSecret)
                .zone(PLAIN, notifyPort, null)
                .zone(SIGNED, notifyPort, KEY)
                .zone(WRONG, notifyPort, WRONG_KEY)
                .start();
    }

    @Override
    void stopServer() {
        if (bind != null) {
            bind.close();
        }
    }

    @Override
    int port() {
        return bind.port();
    }

    @Override
    List<DNSKEYRecord> dnskeys(String zone) {
        return bind.dnskeys(zone);
    }

    @Override
    Set<Integer> dnskeySigners(String zone) {
        return bind.dnskeySigners(zone);
    }

    @Override
    void sendNotify(String zone) {
        bind.rndc("notify", zone);
    }

    @Override
    int addKsk(String zone) {
        return bind.dnskey(zone, bind.addKey(zone, true, true)).getFootprint();
    }

    @Override
    int addZsk(String zone) {
        return bind.dnskey(zone, bind.addKey(zone, false, true)).getFootprint();
    }

    @Override
    void revoke(String zone, int tag) {
        bind.revoke(zone, keyFile(zone, tag));
    }

    @Override
    void remove(String zone, int originalTag) {
        bind.remove(zone, keyFile(zone, originalTag));
    }

    /** The key file of the key whose unrevoked tag is {@code tag} (dnssec-revoke renames the files). */
    private String keyFile(String zone, int tag) {
        return bind.keyFiles(zone).stream().filter(k -> unrevokedTag(bind.dnskey(zone, k)) == tag)
                .findFirst().orElseThrow(() -> new IllegalStateException("no key file with tag " + tag));
    }

    @Override
    String log() {
        return bind == null ? "" : bind.log();
    }
}
