package org.dnssec2mqtt;

import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * One logging setup for the process: SLF4J's simple binding (defaults in
 * {@code simplelogger.properties}), with Paho's java.util.logging routed into it.
 */
final class Logging {
    private Logging() {}

    static void setUp() {
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
    }
}
