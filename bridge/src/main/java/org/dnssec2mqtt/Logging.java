package org.dnssec2mqtt;

import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * One logging setup for the process: SLF4J's simple binding to stderr with timestamps; Paho's
 * java.util.logging routed into it; Moquette's per-packet INFO lines turned down. Any of these
 * can be overridden with {@code -Dorg.slf4j.simpleLogger.*} system properties.
 */
final class Logging {
    private Logging() {}

    static void setUp() {
        defaults("org.slf4j.simpleLogger.defaultLogLevel", "info");
        defaults("org.slf4j.simpleLogger.showDateTime", "true");
        defaults("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        defaults("org.slf4j.simpleLogger.showThreadName", "false");
        defaults("org.slf4j.simpleLogger.showShortLogName", "true");
        defaults("org.slf4j.simpleLogger.log.io.moquette", "warn");
        defaults("org.slf4j.simpleLogger.log.io.netty", "warn");
        defaults("org.slf4j.simpleLogger.log.org.eclipse.paho", "warn");
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
    }

    private static void defaults(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
