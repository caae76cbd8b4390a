package org.dnssec2mqtt.peers;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.dnssec2mqtt.support.AuthoritativeServer;
import org.dnssec2mqtt.support.NsdServer;
import org.dnssec2mqtt.support.SignedZone;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * {@link PeerScenario} against a real NSD 4.6: NSD does not sign, so the zones are signed with
 * ldns ({@link SignedZone}); each key change is a new signed file, a serial bump and
 * {@code nsd-control reload}, after which NSD NOTIFYs over UDP.
 */
class NsdBridgeIT extends PeerScenario {
    private NsdServer nsd;
    private final Map<String, SignedZone> zones = new HashMap<>();

    @Override
    void startServer() {
        nsd = new NsdServer(dir.resolve("nsd"))
                .tsigKey(KEY, "hmac-sha256", secret)
                .tsigKey(WRONG_KEY, "hmac-sha256", wrongSecret);
        for (String name : List.of(PLAIN, SIGNED, WRONG)) {
            SignedZone zone = new SignedZone(name, dir.resolve(name));
            zone.addKsk();
            zone.addZsk();
            zone.sign();
            zones.put(name, zone);
            nsd.zone(name, zone.signedFile(), notifyPort, name.equals(PLAIN) ? null : name.equals(SIGNED) ? KEY : WRONG_KEY);
        }
        nsd.start();
    }

    @Override
    void stopServer() {
        if (nsd != null) {
            nsd.close();
        }
    }

    @Override
    int port() {
        return nsd.port();
    }

    @Override
    List<DNSKEYRecord> dnskeys(String zone) {
        return AuthoritativeServer.dnskeysIn(nsd.query(zone, Type.DNSKEY));
    }

    @Override
    Set<Integer> dnskeySigners(String zone) {
        return nsd.query(zone, Type.DNSKEY).getSectionRRsets(Section.ANSWER).stream()
                .flatMap(set -> set.sigs().stream()).map(RRSIGRecord::getFootprint).collect(Collectors.toSet());
    }

    @Override
    void sendNotify(String zone) {
        nsd.notify(zone);
    }

    @Override
    int addKsk(String zone) {
        SignedZone z = zones.get(zone);
        int tag = z.keyTag(z.addKsk());
        publish(zone);
        return tag;
    }

    @Override
    int addZsk(String zone) {
        SignedZone z = zones.get(zone);
        int tag = z.keyTag(z.addZsk());
        publish(zone);
        return tag;
    }

    @Override
    void revoke(String zone, int tag) {
        SignedZone z = zones.get(zone);
        z.revoke(key(z, tag));
        publish(zone);
    }

    @Override
    void remove(String zone, int originalTag) {
        SignedZone z = zones.get(zone);
        z.remove(key(z, originalTag));
        publish(zone);
    }

    private static SignedZone.Key key(SignedZone zone, int unrevokedTag) {
        return zone.keys().stream().filter(k -> unrevokedTag(zone.dnskey(k)) == unrevokedTag).findFirst().orElseThrow();
    }

    /** New serial, signed again, reloaded: NSD NOTIFYs. */
    private void publish(String zone) {
        SignedZone z = zones.get(zone);
        z.bumpSerial();
        z.sign();
        nsd.reload(zone);
    }

    @Override
    String log() {
        return nsd == null ? "" : nsd.log();
    }
}
