package org.dnssec2mqtt.peers;

import java.util.List;
import java.util.Set;
import org.dnssec2mqtt.support.AuthoritativeServer;
import org.xbill.DNS.DNSKEYRecord;

/**
 * {@link PeerScenario} for the servers that share the {@link AuthoritativeServer} fixture (BIND,
 * Knot, PowerDNS): starting, stopping, querying and logs are the same; a subclass says how to
 * build its server and how that server changes keys.
 */
abstract class ManagedServerScenario<S extends AuthoritativeServer<S>> extends PeerScenario {
    S server;

    /** The server with {@link #PLAIN}, {@link #SIGNED} (NOTIFY signed with {@link #KEY}) and
     * {@link #WRONG} (signed with {@link #WRONG_KEY}), all NOTIFYing {@link #notifyPort}; not started. */
    abstract S create();

    @Override
    final void startServer() {
        server = create()
                .tsigKey(KEY, "hmac-sha256", secret)
                .tsigKey(WRONG_KEY, "hmac-sha256", wrongSecret)
                .zone(PLAIN, notifyPort, null)
                .zone(SIGNED, notifyPort, KEY)
                .zone(WRONG, notifyPort, WRONG_KEY)
                .start();
    }

    @Override
    final void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    final int port() {
        return server.port();
    }

    @Override
    final List<DNSKEYRecord> dnskeys(String zone) {
        return server.dnskeys(zone);
    }

    @Override
    final Set<Integer> dnskeySigners(String zone) {
        return server.dnskeySigners(zone);
    }

    @Override
    final String log() {
        return server == null ? "" : server.log();
    }
}
