package org.dnssec2mqtt.dns;

import java.util.List;

/**
 * A TSIG key file that cannot be used. Each problem reads {@code <file>:<line>: what is wrong and
 * what to do}; secrets never appear in them.
 */
public class TsigKeyFileException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** @param problems at least one problem, each {@code <file>:<line>: problem} */
    public TsigKeyFileException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem, each {@code <file>:<line>: problem}, in file order. */
    public List<String> problems() {
        return problems;
    }
}
