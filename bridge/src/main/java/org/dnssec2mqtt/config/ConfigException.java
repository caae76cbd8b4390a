package org.dnssec2mqtt.config;

import java.util.List;

/**
 * A configuration that cannot be used. Holds every problem found, each as {@code key: problem}
 * (for example {@code dns.query-port: port must be 1-65535 (is '70000')}), so the operator can
 * fix them all in one go. Messages never contain secrets.
 */
public class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** @param problems at least one problem, each {@code key: problem} */
    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem, each {@code key: problem}, in the order found. */
    public List<String> problems() {
        return problems;
    }
}
