package org.dnssec2mqtt.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dnssec2mqtt.config.Config;
import org.dnssec2mqtt.config.ConfigException;
import org.dnssec2mqtt.config.ConfigLoader;

/** Builds a {@link Config} the way users do: a properties file read by the real loader. */
public final class TestConfig {
    private TestConfig() {}

    /** Writes {@code properties} to {@code dir/dnssec2mqtt.properties} and loads it with no environment. */
    public static Config load(Path dir, String properties) {
        try {
            Path file = dir.resolve("dnssec2mqtt.properties");
            Files.writeString(file, properties);
            return ConfigLoader.load(file, Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigException e) {
            throw new AssertionError("test config rejected:\n" + e.getMessage(), e);
        }
    }
}
