package org.dnssec2mqtt.signals;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.freedesktop.dbus.connections.IDisconnectCallback;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.matchrules.DBusMatchRuleBuilder;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.messages.constants.MessageTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/**
 * Listens to Knot DNS's D-Bus signals ({@code server: dbus-event: [zone-updated, ksk-submission,
 * dnssec-invalid]} in knot.conf) on interface {@value #INTERFACE}, path {@value #PATH}, and hands
 * them to a {@link KnotSignals.Listener}.
 *
 * <p>Signal arguments as Knot 3.2.6 sends them (seen with dbus-monitor):
 * {@code zone_updated(s zone, u serial)}, {@code zone_ksk_submission(s zone, q keytag, s keyid)},
 * {@code zone_dnssec_invalid(s zone)}. The subscription is a match rule on the bus for the
 * interface and path, not on knotd's connection, so a restarted knotd is heard again without
 * anything done here. When the bus itself goes away (or is not there at start), the connection is
 * retried on a timer with back-off from {@link #FIRST_RETRY} to {@link #MAX_RETRY}: one WARN line
 * per outage, the rest at DEBUG, and every change reported through
 * {@link KnotSignals.Listener#busState}. Never throws out of {@link #start()}.
 */
public final class KnotDbus implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KnotDbus.class);

    /** Knot's D-Bus interface and object path (knot/common/dbus.h: KNOT_DBUS_PATH). */
    public static final String INTERFACE = "cz.nic.knotd.events";
    public static final String PATH = "/cz/nic/knotd";
    /** Where libdbus looks for the system bus when DBUS_SYSTEM_BUS_ADDRESS is unset. */
    static final String DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket";
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofSeconds(30);

    private final String address;
    private final String description;
    private final KnotSignals.Listener listener;
    private final ScheduledExecutorService timer;
    private final Duration firstRetry;
    private final Duration maxRetry;

    // guarded by this
    private DBusConnection connection;
    private Duration retry;
    private boolean closed;
    private boolean warned;

    /**
     * @param setting {@code knot.dbus}: {@code system} or a D-Bus address ({@code unix:path=...});
     *     {@code off} is the caller's business (don't build one)
     * @param env the environment, for {@code DBUS_SYSTEM_BUS_ADDRESS}
     */
    public KnotDbus(String setting, Map<String, String> env, KnotSignals.Listener listener) {
        this(setting, env, listener, FIRST_RETRY, MAX_RETRY);
    }

    KnotDbus(String setting, Map<String, String> env, KnotSignals.Listener listener, Duration firstRetry,
             Duration maxRetry) {
        this.address = address(setting, env);
        this.description = setting.equals("system") ? "the D-Bus system bus (" + address + ")" : "D-Bus at " + address;
        this.listener = listener;
        this.firstRetry = firstRetry;
        this.maxRetry = maxRetry;
        this.retry = firstRetry;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "knot-dbus");
            t.setDaemon(true);
            return t;
        });
    }

    /** The bus address {@code setting} stands for: {@code system} follows DBUS_SYSTEM_BUS_ADDRESS like libdbus. */
    static String address(String setting, Map<String, String> env) {
        if (!setting.equals("system")) {
            return setting;
        }
        String fromEnv = env.get("DBUS_SYSTEM_BUS_ADDRESS");
        return fromEnv == null || fromEnv.isBlank() ? DEFAULT_SYSTEM_BUS : fromEnv.trim();
    }

    /** Connects in the background (first attempt at once); returns immediately. */
    public void start() {
        timer.execute(this::connect);
    }

    /** True while subscribed on a live bus connection. */
    public synchronized boolean connected() {
        return connection != null && connection.isConnected();
    }

    private void connect() {
        DBusConnection c;
        synchronized (this) {
            if (closed || connection != null) {
                return;
            }
        }
        try {
            c = DBusConnectionBuilder.forAddress(address)
                    .withShared(false)
                    .withDisconnectCallback(new Lost())
                    .build();
            c.addGenericSigHandler(DBusMatchRuleBuilder.create()
                    .withType(MessageTypes.SIGNAL)
                    .withInterface(INTERFACE)
                    .withPath(PATH)
                    .build(), this::onSignal);
        } catch (DBusException | RuntimeException e) {
            retryLater("cannot connect to " + description + ": " + reason(e), e);
            return;
        }
        synchronized (this) {
            if (closed) {
                disconnect(c);
                return;
            }
            connection = c;
            retry = firstRetry;
            warned = false;
        }
        log.info("knot.dbus: listening to Knot's signals ({} on {}) on {}", INTERFACE, PATH, description);
        listener.busState(KnotSignals.CONNECTED, null);
    }

    /** Called by the library when the bus connection ends for any reason but our own close. */
    private final class Lost implements IDisconnectCallback {
        @Override
        public void disconnectOnError(IOException e) {
            lost(lostText(e));
        }

        @Override
        public void requestedDisconnect(Integer id) {
            lost("the bus closed the connection (" + description + ")");
        }

        @Override
        public void exceptionOnTerminate(IOException e) {
            lost(lostText(e));
        }
    }

    private String lostText(IOException e) {
        // the library's EOF text is "(1) Underlying transport returned -1"
        return e instanceof java.io.EOFException
                ? "lost the connection to " + description + ": the bus closed it (dbus-daemon stopped or restarted)"
                : "lost the connection to " + description + ": " + reason(e);
    }

    private void lost(String problem) {
        DBusConnection old;
        synchronized (this) {
            if (closed || connection == null) {
                return;
            }
            old = connection;
            connection = null;
        }
        timer.execute(() -> disconnect(old));
        retryLater(problem, null);
    }

    private void retryLater(String problem, Exception cause) {
        Duration wait;
        boolean first;
        synchronized (this) {
            if (closed) {
                return;
            }
            wait = retry;
            retry = retry.multipliedBy(2).compareTo(maxRetry) > 0 ? maxRetry : retry.multipliedBy(2);
            first = !warned;
            warned = true;
        }
        String text = problem + "; retrying in " + seconds(wait);
        if (first) {
            log.warn("knot.dbus: {} (and with back-off up to {} until it works)", text, seconds(maxRetry));
        } else {
            log.debug("knot.dbus: {}", text);
        }
        if (cause != null) {
            log.debug("knot.dbus: connect failed", cause);
        }
        listener.busState(KnotSignals.DISCONNECTED, text);
        try {
            timer.schedule(this::connect, wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    private void onSignal(DBusSignal signal) {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        Object[] args;
        try {
            args = signal.getParameters();
        } catch (DBusException e) {
            log.warn("knot.dbus: ignoring signal {} with unreadable arguments: {}", signal.getName(), reason(e));
            return;
        }
        try {
            dispatch(signal.getName(), args, listener);
        } catch (RuntimeException e) {
            // the listener's fault, not Knot's: keep listening
            log.warn("knot.dbus: handling signal {} failed: {}", signal.getName(), reason(e));
            log.debug("knot.dbus: handling signal failed", e);
        }
    }

    /**
     * Turns one signal of {@value #INTERFACE} into a listener call; unknown members (Knot also
     * sends {@code started}, {@code stopped}, {@code keys_updated}, ...) and malformed arguments are
     * logged at DEBUG and dropped.
     *
     * @return true when the listener was called
     */
    static boolean dispatch(String member, Object[] args, KnotSignals.Listener listener) {
        try {
            switch (member) {
                case "zone_updated" -> {
                    need(member, args, 2);
                    listener.zoneUpdated(zone(args[0]), number(args[1]).longValue());
                    return true;
                }
                case "zone_ksk_submission" -> {
                    need(member, args, 3);
                    listener.kskSubmission(zone(args[0]), number(args[1]).intValue(), String.valueOf(args[2]));
                    return true;
                }
                case "zone_dnssec_invalid" -> {
                    need(member, args, 1);
                    String reason = args.length > 1
                            ? String.join(" ", Arrays.stream(args, 1, args.length).map(String::valueOf).toList())
                            : null;
                    listener.dnssecInvalid(zone(args[0]), reason);
                    return true;
                }
                default -> {
                    log.debug("knot.dbus: ignoring signal {} {}", member, Arrays.toString(args));
                    return false;
                }
            }
        } catch (IllegalArgumentException e) {
            log.debug("knot.dbus: ignoring signal {}: {}", member, e.getMessage());
            return false;
        }
    }

    private static void need(String member, Object[] args, int n) {
        if (args == null || args.length < n) {
            throw new IllegalArgumentException("expected " + n + " arguments; got "
                    + (args == null ? 0 : args.length) + " " + Arrays.toString(args));
        }
    }

    private static Name zone(Object arg) {
        if (!(arg instanceof String s)) {
            throw new IllegalArgumentException("expected a zone name; got " + arg);
        }
        try {
            return Name.fromString(s, Name.root).canonicalize();
        } catch (TextParseException e) {
            throw new IllegalArgumentException("bad zone name '" + s + "': " + e.getMessage());
        }
    }

    private static Number number(Object arg) {
        if (!(arg instanceof Number n)) {
            throw new IllegalArgumentException("expected a number; got " + arg);
        }
        return n;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /** A library exception's message in plain words; the class name only if it has none. */
    static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && (t.getMessage() == null || t.getMessage().isBlank())) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName().replace("Exception", "").toLowerCase(Locale.ROOT) : m;
    }

    private static void disconnect(DBusConnection c) {
        try {
            c.disconnect();
        } catch (RuntimeException e) {
            log.debug("knot.dbus: disconnect", e);
        }
    }

    /** Stops listening and closes the connection; no listener call after this returns. */
    @Override
    public void close() {
        DBusConnection c;
        synchronized (this) {
            closed = true;
            c = connection;
            connection = null;
        }
        timer.shutdownNow();
        if (c != null) {
            disconnect(c);
        }
    }
}
