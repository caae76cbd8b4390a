package org.dnssec2mqtt.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

class TsigKeysTest {

    /**
     * Verbatim output of BIND 9.18.49 {@code tsig-keygen -a <alg> <name>}, one run per algorithm,
     * concatenated (tabs and all).
     */
    static final String TSIG_KEYGEN_OUTPUT = """
            key "notify-key" {
            \talgorithm hmac-sha256;
            \tsecret "FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=";
            };
            key "xfr.example." {
            \talgorithm hmac-sha512;
            \tsecret "T/HG3LvO98zMnJNmUfKrJeMYLhL6xRxPOWRFAFvwNMd0ta0gnZXMiIB0CEgXu1z+BcToOe6VqSIhtgsMl9B8SA==";
            };
            key "legacy" {
            \talgorithm hmac-md5;
            \tsecret "xMh0KFUUxaOpFeUj7T6Axw==";
            };
            key "k1" {
            \talgorithm hmac-sha1;
            \tsecret "MFcwo+k8AYLcmI+xXsDkxrIaTDw=";
            };
            key "k224" {
            \talgorithm hmac-sha224;
            \tsecret "/WSOX5hKQW5pX//bpI+vp74nMEcF0CZ34V+MMA==";
            };
            key "k384" {
            \talgorithm hmac-sha384;
            \tsecret "MlN/cUMhD8OQOAFPmDx1MSwkKwzYE0YMrFcVUjOxFJWfEYPT0PQXJjHbm+2kpzqK";
            };
            """;

    @TempDir
    Path dir;

    /**
     * Each parsed key must sign exactly as a key built by hand with the expected algorithm and
     * secret: a wrong algorithm gives BADKEY, a wrong secret BADSIG.
     */
    @ParameterizedTest
    @CsvSource({
        "notify-key.,   hmac-sha256, FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=",
        "xfr.example.,  hmac-sha512, T/HG3LvO98zMnJNmUfKrJeMYLhL6xRxPOWRFAFvwNMd0ta0gnZXMiIB0CEgXu1z+BcToOe6VqSIhtgsMl9B8SA==",
        "legacy.,       hmac-md5,    xMh0KFUUxaOpFeUj7T6Axw==",
        "k1.,           hmac-sha1,   MFcwo+k8AYLcmI+xXsDkxrIaTDw=",
        "k224.,         hmac-sha224, /WSOX5hKQW5pX//bpI+vp74nMEcF0CZ34V+MMA==",
        "k384.,         hmac-sha384, MlN/cUMhD8OQOAFPmDx1MSwkKwzYE0YMrFcVUjOxFJWfEYPT0PQXJjHbm+2kpzqK",
    })
    void parsesTsigKeygenOutput(String name, String algorithm, String secret) throws Exception {
        Path file = dir.resolve("tsig.key");
        Files.writeString(file, TSIG_KEYGEN_OUTPUT);
        TsigKeys keys = TsigKeys.parse(file);

        TSIG parsed = keys.get(Name.fromString(name));
        assertNotNull(parsed, name);
        Message query = Message.newQuery(Record.newRecord(Name.fromString("example.org."), Type.SOA, DClass.IN));
        query.setTSIG(parsed);
        byte[] wire = query.toWire(Message.MAXLENGTH);
        Message received = new Message(wire);

        assertEquals(TSIG.algorithmToName(algorithm), received.getTSIG().getAlgorithm());
        TSIG byHand = new TSIG(TSIG.algorithmToName(algorithm), Name.fromString(name), secret);
        assertEquals(Rcode.NOERROR, byHand.verify(received, wire, null));
    }

    @Test
    void keyNamesAreAbsoluteAndCaseInsensitive() throws Exception {
        TsigKeys keys = TsigKeys.parse(TSIG_KEYGEN_OUTPUT, "tsig.key");
        assertEquals(6, keys.names().size());
        assertNotNull(keys.get(Name.fromString("NOTIFY-KEY.")));
        assertTrue(keys.names().contains(Name.fromString("notify-key.")));
    }

    @Test
    void skipsAllThreeCommentStylesAndKeepsLineNumbers() throws Exception {
        String text = """
                # written by tsig-keygen
                // for the primary
                /* several
                   lines */ key "a" { algorithm hmac-sha256; # trailing
                  secret "FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs="; // trailing
                };
                /* a second block */
                key b {
                  algorithm HMAC-SHA256;
                  secret "Fma O5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=";
                };
                """;
        TsigKeys keys = TsigKeys.parse(text, "tsig.key");
        assertEquals(Set.of(Name.fromString("a."), Name.fromString("b.")), keys.names());

        // the line count survives the multi-line comment: 'oops' is on line 5
        TsigKeyFileException e = assertThrows(TsigKeyFileException.class,
                () -> TsigKeys.parse("#\n//\n/*\n*/\noops", "tsig.key"));
        assertEquals(List.of("tsig.key:5: expected 'key \"name\" { ... };'; got 'oops'"
                + " (only key blocks as tsig-keygen writes them are allowed)"), e.problems());
    }

    @Test
    void emptyFileHasNoKeys() throws Exception {
        assertTrue(TsigKeys.parse("# nothing yet\n", "tsig.key").isEmpty());
    }

    @Test
    void missingFileIsAnIoException() {
        assertThrows(NoSuchFileException.class, () -> TsigKeys.parse(dir.resolve("absent.key")));
    }

    static Stream<Arguments> badFiles() {
        String ok = "\"FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=\"";
        String all = "hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512";
        return Stream.of(
                Arguments.of("key \"k\" {\n algorithm hmac-sha3;\n secret " + ok + ";\n};\n",
                        List.of("tsig.key:2: key \"k\": unknown algorithm 'hmac-sha3'; use one of " + all)),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n secret \"hunter2!!\";\n};\n",
                        List.of("tsig.key:3: key \"k\": the secret is not valid base64;"
                                + " copy it again from tsig-keygen's output")),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n secret \"\";\n};\n",
                        List.of("tsig.key:3: key \"k\": the secret is empty; generate one with tsig-keygen")),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n};\n",
                        List.of("tsig.key:1: key \"k\" has no secret; add 'secret \"<base64>\";'"
                                + " as tsig-keygen writes it")),
                Arguments.of("key \"k\" {\n secret " + ok + ";\n};\n",
                        List.of("tsig.key:1: key \"k\" has no algorithm; add 'algorithm hmac-sha256;'")),
                Arguments.of("key \"k\" { algorithm hmac-sha256; secret " + ok + "; };\n\n"
                                + "key \"K.\" { algorithm hmac-sha256; secret " + ok + "; };\n",
                        List.of("tsig.key:3: key \"K.\" is defined twice (first on line 1);"
                                + " give each key its own name")),
                // semantic problems in several blocks are all reported
                Arguments.of("key \"a\" { algorithm sha256; secret " + ok + "; };\n"
                                + "key \"b\" { algorithm hmac-sha256; };\n",
                        List.of("tsig.key:1: key \"a\": unknown algorithm 'sha256'; use one of " + all,
                                "tsig.key:2: key \"b\" has no secret; add 'secret \"<base64>\";'"
                                        + " as tsig-keygen writes it")),
                Arguments.of("key \"k\" { algorithm hmac-sha256; secret " + ok + "; }",
                        List.of("tsig.key:1: expected ';'; got the end of the file")),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256\n secret " + ok + ";\n};\n",
                        List.of("tsig.key:3: expected ';'; got 'secret'")),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n secret \"FmaO5v0G;\n};\n",
                        List.of("tsig.key:3: unterminated quoted string; add the closing '\"'")),
                Arguments.of("key \"k\" { /* secret " + ok + "; };\n",
                        List.of("tsig.key:1: unterminated /* comment; close it with */")),
                Arguments.of("options { directory \"/var/cache/bind\"; };\n",
                        List.of("tsig.key:1: expected 'key \"name\" { ... };'; got 'options'"
                                + " (only key blocks as tsig-keygen writes them are allowed)")),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n secret " + ok + ";\n foo bar;\n};\n",
                        List.of("tsig.key:4: expected 'algorithm' or 'secret' in key block; got 'foo'")),
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n secret FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=;\n};\n",
                        List.of("tsig.key:3: the secret must be quoted: secret \"<base64>\";")),
                // a stray secret (its keyword lost) is not echoed
                Arguments.of("key \"k\" {\n algorithm hmac-sha256;\n FmaO5v0G85CF4K7YWNNlXhTYPsdDnoaGc28JougPjYs=;\n};\n",
                        List.of("tsig.key:3: expected 'algorithm' or 'secret' in key block; got an unexpected word")),
                Arguments.of("key { algorithm hmac-sha256; };\n",
                        List.of("tsig.key:1: expected a key name after 'key'; got '{'")),
                Arguments.of("key \"a..b\" { algorithm hmac-sha256; secret " + ok + "; };\n",
                        List.of("tsig.key:1: bad key name 'a..b': invalid empty label")));
    }

    @ParameterizedTest
    @MethodSource("badFiles")
    void reportsBadFilesWithLineAndRemedy(String text, List<String> problems) {
        TsigKeyFileException e = assertThrows(TsigKeyFileException.class, () -> TsigKeys.parse(text, "tsig.key"));
        assertEquals(problems, e.problems());
        assertEquals(String.join("\n", problems), e.getMessage());
        assertFalse(e.getMessage().contains("FmaO5v0G"), "a secret leaked into: " + e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), "a secret leaked into: " + e.getMessage());
    }

    @Test
    void parseFromFileNamesThePath() throws Exception {
        Path file = dir.resolve("bad.key");
        Files.writeString(file, "key \"k\" {\n algorithm hmac-sha3;\n};\n");
        TsigKeyFileException e = assertThrows(TsigKeyFileException.class, () -> TsigKeys.parse(file));
        assertTrue(e.problems().get(0).startsWith(file + ":2: "), e.getMessage());
    }
}
