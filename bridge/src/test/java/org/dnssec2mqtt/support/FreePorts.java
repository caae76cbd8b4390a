package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Free loopback ports for peers started as separate processes.
 *
 * <p>A DNS server listens on TCP and UDP with the same number, so a port is only handed out when
 * both are free. There is a small race (another process can take the port before the peer binds
 * it); peers fail loudly at start-up if that happens.
 */
public final class FreePorts {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private FreePorts() {}

    /** A port number free for both TCP and UDP on 127.0.0.1. */
    public static int tcpAndUdp() {
        for (int attempt = 0; attempt < 50; attempt++) {
            // Let the kernel pick a TCP port, then check that UDP is free on the same number.
            int port = tcp();
            try (DatagramSocket udp = new DatagramSocket(null)) {
                udp.bind(new InetSocketAddress(LOOPBACK, port));
                return port;
            } catch (IOException taken) {
                // UDP side busy: try another number
            }
        }
        throw new IllegalStateException("no port free for both TCP and UDP on " + LOOPBACK);
    }

    /** A port number free for TCP on 127.0.0.1. */
    public static int tcp() {
        try (ServerSocket socket = new ServerSocket(0, 1, LOOPBACK)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
