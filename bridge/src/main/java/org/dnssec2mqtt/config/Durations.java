package org.dnssec2mqtt.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as written in the config: {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d} or a bare number of seconds. */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})([smhd]?)");

    private Durations() {}

    /**
     * Parses {@code text}; {@code 0} is allowed (callers decide whether zero makes sense).
     *
     * @throws IllegalArgumentException with a message that says what is expected
     */
    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            // at most 9 digits: 999999999d still fits a Duration, so no overflow checks are needed
            throw new IllegalArgumentException(
                    "expected a duration such as 30s, 5m, 1h, 2d or a number of seconds; got '" + text.trim() + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
