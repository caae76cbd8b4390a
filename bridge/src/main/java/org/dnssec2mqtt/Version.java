package org.dnssec2mqtt;

/** The bridge's version: in {@code --version}, the start line, the online payload and Home Assistant's device. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {}
}
