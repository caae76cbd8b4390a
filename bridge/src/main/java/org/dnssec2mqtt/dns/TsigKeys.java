package org.dnssec2mqtt.dns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TextParseException;

/** The TSIG keys the bridge knows, by key name (RFC 8945). */
public final class TsigKeys {
    /** The algorithms BIND's {@code tsig-keygen -a} offers, by the name it writes. */
    private static final Map<String, Name> ALGORITHMS = new LinkedHashMap<>();

    static {
        ALGORITHMS.put("hmac-md5", TSIG.HMAC_MD5);
        ALGORITHMS.put("hmac-sha1", TSIG.HMAC_SHA1);
        ALGORITHMS.put("hmac-sha224", TSIG.HMAC_SHA224);
        ALGORITHMS.put("hmac-sha256", TSIG.HMAC_SHA256);
        ALGORITHMS.put("hmac-sha384", TSIG.HMAC_SHA384);
        ALGORITHMS.put("hmac-sha512", TSIG.HMAC_SHA512);
    }

    private final Map<Name, TSIG> keys;

    public TsigKeys(Map<Name, TSIG> keys) {
        this.keys = Map.copyOf(keys);
    }

    public static TsigKeys none() {
        return new TsigKeys(Map.of());
    }

    /**
     * Reads a BIND key file as {@code tsig-keygen} writes it: one or more
     * {@code key "name" { algorithm hmac-sha256; secret "base64"; };} blocks, with {@code #},
     * {@code //} and C-style block comments. Key names become absolute and lower-case.
     *
     * @throws IOException when the file cannot be read
     * @throws TsigKeyFileException listing what is wrong, with line numbers
     */
    public static TsigKeys parse(Path file) throws IOException, TsigKeyFileException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses key file text; {@code source} names it in problems. */
    static TsigKeys parse(String text, String source) throws TsigKeyFileException {
        return new Parser(source, text).parse();
    }

    /** The key called {@code name}, or null. */
    public TSIG get(Name name) {
        return keys.get(name);
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    public java.util.Set<Name> names() {
        return keys.keySet();
    }

    /** A word, a quoted string or one of {@code { } ;}, with the line it starts on. */
    private record Token(String text, boolean quoted, int line) {
        /**
         * How a problem may show this token. Quoted strings and long or base64-looking words could
         * be secrets, so those are never shown verbatim.
         */
        String shown() {
            if (quoted) {
                return "a quoted string";
            }
            return text.matches("[A-Za-z{};][A-Za-z0-9_.-]{0,23}") ? "'" + text + "'" : "an unexpected word";
        }

        boolean is(String s) {
            return !quoted && text.equals(s);
        }
    }

    /** Recursive descent over the token list; syntax errors stop it, key errors are collected. */
    private static final class Parser {
        private final String source;
        private final String text;
        private final List<Token> tokens = new ArrayList<>();
        private final List<String> problems = new ArrayList<>();
        private int pos;
        private int lastLine = 1;

        Parser(String source, String text) {
            this.source = source;
            this.text = text;
        }

        TsigKeys parse() throws TsigKeyFileException {
            tokenize();
            Map<Name, TSIG> keys = new LinkedHashMap<>();
            Map<Name, Integer> firstLine = new HashMap<>();
            while (pos < tokens.size()) {
                Token start = next("'key'");
                if (!start.text().toLowerCase(Locale.ROOT).equals("key") || start.quoted()) {
                    throw syntax(start, "expected 'key \"name\" { ... };'; got " + start.shown()
                            + " (only key blocks as tsig-keygen writes them are allowed)");
                }
                Token nameToken = next("a key name");
                if (nameToken.is("{") || nameToken.is(";")) {
                    throw syntax(nameToken, "expected a key name after 'key'; got " + nameToken.shown());
                }
                expect("{");
                Token algorithm = null;
                Token secret = null;
                while (!peekIs("}")) {
                    Token statement = next("'algorithm', 'secret' or '}'");
                    if (statement.is("algorithm")) {
                        algorithm = next("an algorithm name");
                    } else if (statement.is("secret")) {
                        secret = next("a quoted base64 secret");
                        if (!secret.quoted()) {
                            throw syntax(secret, "the secret must be quoted: secret \"<base64>\";");
                        }
                    } else {
                        throw syntax(statement, "expected 'algorithm' or 'secret' in key block; got "
                                + statement.shown());
                    }
                    expect(";");
                }
                expect("}");
                expect(";");
                addKey(start, nameToken, algorithm, secret, firstLine, keys);
            }
            if (!problems.isEmpty()) {
                throw new TsigKeyFileException(problems);
            }
            return new TsigKeys(keys);
        }

        /** Adds one key to {@code keys}, or records why not. */
        private void addKey(Token start, Token nameToken, Token algorithm, Token secret,
                Map<Name, Integer> firstLine, Map<Name, TSIG> keys) {
            String label = "key \"" + nameToken.text() + "\"";
            Name name;
            try {
                name = Name.fromString(nameToken.text(), Name.root).canonicalize();
            } catch (TextParseException e) {
                problem(nameToken.line(), "bad key name " + e.getMessage());
                return;
            }
            Integer first = firstLine.putIfAbsent(name, start.line());
            if (first != null) {
                problem(start.line(), label + " is defined twice (first on line " + first
                        + "); give each key its own name");
                return;
            }
            Name alg = null;
            if (algorithm == null) {
                problem(start.line(), label + " has no algorithm; add 'algorithm hmac-sha256;'");
            } else {
                alg = ALGORITHMS.get(algorithm.text().toLowerCase(Locale.ROOT));
                if (alg == null) {
                    problem(algorithm.line(), label + ": unknown algorithm " + algorithm.shown()
                            + "; use one of " + String.join(", ", ALGORITHMS.keySet()));
                }
            }
            byte[] bytes = null;
            if (secret == null) {
                problem(start.line(), label + " has no secret; add 'secret \"<base64>\";' as tsig-keygen writes it");
            } else {
                try {
                    // BIND allows white space inside the base64 text
                    bytes = Base64.getDecoder().decode(secret.text().replaceAll("\\s", ""));
                } catch (IllegalArgumentException e) {
                    // never show the secret itself, not even a part of it
                    problem(secret.line(), label + ": the secret is not valid base64; copy it again from tsig-keygen's output");
                }
                if (bytes != null && bytes.length == 0) {
                    problem(secret.line(), label + ": the secret is empty; generate one with tsig-keygen");
                    bytes = null;
                }
            }
            if (alg != null && bytes != null) {
                // always pass the algorithm: the constructors without one default to hmac-md5
                keys.put(name, new TSIG(alg, name, bytes));
            }
        }

        private void problem(int line, String message) {
            problems.add(source + ":" + line + ": " + message);
        }

        private TsigKeyFileException syntax(Token at, String message) {
            problem(at == null ? lastLine : at.line(), message);
            return new TsigKeyFileException(problems);
        }

        private boolean peekIs(String s) throws TsigKeyFileException {
            if (pos >= tokens.size()) {
                throw syntax(null, "expected '" + s + "'; got the end of the file");
            }
            return tokens.get(pos).is(s);
        }

        private Token next(String expected) throws TsigKeyFileException {
            if (pos >= tokens.size()) {
                throw syntax(null, "expected " + expected + "; got the end of the file");
            }
            return tokens.get(pos++);
        }

        private void expect(String s) throws TsigKeyFileException {
            Token t = next("'" + s + "'");
            if (!t.is(s)) {
                throw syntax(t, "expected '" + s + "'; got " + t.shown());
            }
        }

        private void tokenize() throws TsigKeyFileException {
            int line = 1;
            int i = 0;
            int n = text.length();
            while (i < n) {
                char c = text.charAt(i);
                if (c == '\n') {
                    line++;
                    i++;
                } else if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '#' || text.startsWith("//", i)) {
                    while (i < n && text.charAt(i) != '\n') {
                        i++;
                    }
                } else if (text.startsWith("/*", i)) {
                    int end = text.indexOf("*/", i + 2);
                    if (end < 0) {
                        problem(line, "unterminated /* comment; close it with */");
                        throw new TsigKeyFileException(problems);
                    }
                    line += (int) text.substring(i, end).chars().filter(ch -> ch == '\n').count();
                    i = end + 2;
                } else if (c == '"') {
                    int startLine = line;
                    StringBuilder sb = new StringBuilder();
                    i++;
                    while (i < n && text.charAt(i) != '"') {
                        char d = text.charAt(i);
                        if (d == '\\' && i + 1 < n) { // named.conf escapes: \" and \\
                            d = text.charAt(++i);
                        }
                        if (d == '\n') {
                            line++;
                        }
                        sb.append(d);
                        i++;
                    }
                    if (i >= n) {
                        problem(startLine, "unterminated quoted string; add the closing '\"'");
                        throw new TsigKeyFileException(problems);
                    }
                    i++;
                    tokens.add(new Token(sb.toString(), true, startLine));
                } else if (c == '{' || c == '}' || c == ';') {
                    tokens.add(new Token(String.valueOf(c), false, line));
                    i++;
                } else {
                    int start = i;
                    while (i < n && !Character.isWhitespace(text.charAt(i)) && "{};\"#".indexOf(text.charAt(i)) < 0
                            && !text.startsWith("//", i) && !text.startsWith("/*", i)) {
                        i++;
                    }
                    tokens.add(new Token(text.substring(start, i), false, line));
                }
            }
            lastLine = line;
        }
    }
}
