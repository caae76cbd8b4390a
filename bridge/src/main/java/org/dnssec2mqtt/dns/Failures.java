package org.dnssec2mqtt.dns;

import java.io.EOFException;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.WireParseException;

/**
 * Why a query failed, in the operator's words. These texts reach a zone's {@code problem}, its
 * events and command responses, so they never carry a Java class name: dnsjava's and the JDK's
 * exceptions often say only "null" or the class (issue: errors in users' terms).
 */
final class Failures {
    /** {@code java.net.SocketException: } and the like, wherever a message quotes a cause. */
    private static final Pattern CLASS_NAME =
            Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

    private Failures() {}

    /** The failure inside the wrappers that futures and executors put around it. */
    static Throwable root(Throwable t) {
        Throwable c = t;
        while ((c instanceof ExecutionException || c instanceof CompletionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /** Worth asking again at once: an I/O failure other than a time-out (a closed pooled connection). */
    static boolean retryable(Throwable c) {
        return c instanceof IOException && !(c instanceof SocketTimeoutException);
    }

    /**
     * @param c the failure (after {@link #root})
     * @param noAnswer what to say for a time-out, e.g. {@code no answer within 5 s}
     */
    static String describe(Throwable c, String noAnswer) {
        if (c instanceof SocketTimeoutException || c instanceof TimeoutException) {
            return noAnswer;
        }
        if (c instanceof ConnectException) {
            return "connection refused: is the server running on that address and port?";
        }
        if (c instanceof PortUnreachableException) {
            return "port unreachable: nothing listens on that address and port";
        }
        if (c instanceof NoRouteToHostException) {
            return "no route to the server's address";
        }
        if (c instanceof UnknownHostException || c instanceof UnresolvedAddressException) {
            return "cannot resolve the server's host name; give an IP address or check the name";
        }
        if (c instanceof BindException) {
            return "cannot open a local socket to reach that address";
        }
        if (c instanceof EOFException || c instanceof ClosedChannelException) {
            return "the server closed the connection before answering";
        }
        if (c instanceof WireParseException) {
            return "the answer is not a well-formed DNS message";
        }
        if (c instanceof SocketException && String.valueOf(c.getMessage()).toLowerCase().contains("reset")) {
            return "the server reset the connection";
        }
        if (c instanceof IllegalStateException && String.valueOf(c.getMessage()).contains("Shutdown in progress")) {
            return "not asked: the bridge is shutting down";
        }
        String m = c.getMessage() == null ? "" : CLASS_NAME.matcher(c.getMessage()).replaceAll("").trim();
        if (m.isEmpty() || m.equals("null")) {
            return c instanceof IOException ? "network error without detail" : "the query failed without detail";
        }
        return (c instanceof IOException ? "network error: " : "the query failed: ") + m;
    }

    /** What an operator can do about an rcode, after "the server answered X to the T query". */
    static String rcodeHint(int rcode) {
        return switch (rcode) {
            case Rcode.REFUSED -> "; does it serve the zone, and allow queries from this host?";
            case Rcode.NOTAUTH -> "; it is not authoritative for the zone, or rejected the TSIG key";
            case Rcode.SERVFAIL -> "; the server could not load or sign the zone, see its log";
            case Rcode.NXDOMAIN -> "; the zone does not exist there";
            default -> "";
        };
    }

    /** {@code 5 s}, {@code 1.5 s}, {@code 300 ms}. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
