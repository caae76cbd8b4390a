package org.dnssec2mqtt.signals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.dnssec2mqtt.mqtt.Json;
import org.dnssec2mqtt.zone.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Standard input as OpenDNSSEC 2.1's enforcer writes it to DelegationSignerSubmitCommand: the
 * fixtures {@code ods-*.txt} are ldns's presentation form of the d1.aa keys (ldns-read-zone, the
 * same ldns_rr2str the enforcer calls) put through exec_dnskey_by_id's own steps: tabs to spaces,
 * cut at ';' (so a trailing space and a newline), and with {@code --cka_id} the newline replaced
 * by {@code ; {cka_id = ...}}. {@code ods1-rrset.txt} is the whole RRset, as OpenDNSSEC 1.x sent it.
 * Expected DS values are dnssec-dsfromkey's (fixtures/d1.aa.ds).
 */
class DnskeyInputTest {
    private static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");
    private static final String DS256 = "20179 8 2 512A692D2F2EACE222D9E1E662E8933EC462F738462E60F4A9611F63651ED829";
    private static final String DS384 = "20179 8 4 E7622AFB70B9BDA9D91673E90C4D30DA5FC2CFCE7981084B2FA2A998BCA13B959BD87F0A9AAB33BC662C154B14A98170";

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = DnskeyInputTest.class.getResourceAsStream("/fixtures/" + name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @CsvSource({"ods-submit-20179.txt", "ods-submit-20179-cka.txt"})
    void oneKskFromTheEnforcerGivesItsTagAndDsDigests(String fixture) throws Exception {
        byte[] bytes = fixture(fixture);
        String tail = new String(bytes, bytes.length - 2, 2, StandardCharsets.UTF_8);
        assertEquals(fixture.contains("cka") ? "}\n" : " \n", tail, "the enforcer's line ending");
        List<DnskeyInput.Line> lines = DnskeyInput.parse(bytes);
        assertEquals(1, lines.size());
        assertEquals(300, lines.get(0).key().getTTL());
        List<Event> events = DsSubmitCommand.events(DsSubmitCommand.SUBMIT, lines, NOW);
        assertEquals(1, events.size());
        Event e = events.get(0);
        assertEquals("{\"event\":\"ksk_submission\",\"zone\":\"d1.aa\",\"keytag\":20179,\"ds_sha256\":\"" + DS256
                + "\",\"ds_sha384\":\"" + DS384 + "\",\"source\":\"opendnssec\",\"at\":\"2026-11-22T06:30:00Z\","
                + "\"title\":\"Submit DS for d1.aa\",\"message\":\"OpenDNSSEC asks to submit DS " + DS256
                + " for KSK 20179 of d1.aa at the parent\",\"priority\":1}", Json.object(e.fields()));
    }

    @Test
    void theWholeRrsetOfOpenDnssec1GivesOneEventPerUnrevokedKsk() throws Exception {
        List<DnskeyInput.Line> lines = DnskeyInput.parse(fixture("ods1-rrset.txt"));
        assertEquals(5, lines.size());
        // 954 is revoked: a submission must not carry it
        DnskeyInput.InputException revoked = assertThrows(DnskeyInput.InputException.class,
                () -> DsSubmitCommand.events(DsSubmitCommand.SUBMIT, lines, NOW));
        assertEquals("line 2: the key is revoked (flags 385); a revoked key must not get a DS at the parent",
                revoked.getMessage());
        // a retraction of a revoked key names the DS as it sits at the parent: the unrevoked tag 826
        List<Event> retract = DsSubmitCommand.events(DsSubmitCommand.RETRACT, lines, NOW);
        assertEquals(List.of(20179, 826, 64898, 41542), retract.stream().map(e -> e.get("keytag")).toList());
        assertEquals("ksk_retraction", retract.get(0).type());
        assertEquals("64898 14 2 6B0484A2C9234CE9EDA445B7A8DC94E44D05B6812D7248393ADABB0014B37A57", retract.get(2).get("ds_sha256"));
        assertEquals("41542 15 4 0DBE0970E62D304955DEA94B27347A84DF4B6DB3D2FC803142FFE2643253FF0FFB580A583269F2C98DA98FF4D8E3A3A3",
                retract.get(3).get("ds_sha384"));
    }

    @Test
    void ttlAndClassAreOptionalAndCrLfIsFine() throws Exception {
        String text = new String(fixture("ods-submit-20179.txt"), StandardCharsets.UTF_8)
                .replace("d1.aa. 300 IN DNSKEY", "d1.aa. DNSKEY").replace("\n", "\r\n");
        List<DnskeyInput.Line> lines = DnskeyInput.parse(("; a comment line\n\n" + text).getBytes(StandardCharsets.UTF_8));
        assertEquals(3, lines.get(0).number());
        assertEquals(DS256, DsSubmitCommand.events(DsSubmitCommand.SUBMIT, lines, NOW).get(0).get("ds_sha256"));
    }

    @Test
    void ldnsOwnTabSeparatedFormWithItsCommentIsFineToo() throws Exception {
        // what ldns-read-zone / ldns_rr2str print before the enforcer touches it
        String text = new String(fixture("ods-submit-20179.txt"), StandardCharsets.UTF_8).strip()
                .replace("d1.aa. 300 IN DNSKEY ", "d1.aa.\t300\tIN\tDNSKEY\t") + " ;{id = 20179 (ksk), size = 2048b}\n";
        List<DnskeyInput.Line> lines = DnskeyInput.parse(text.getBytes(StandardCharsets.UTF_8));
        assertEquals(20179, lines.get(0).key().getFootprint());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        ''                                                   | no DNSKEY record on standard input; expected lines such as 'example.com. 3600 IN DNSKEY 257 3 13 <base64>'
        '; only a comment'                                   | no DNSKEY record on standard input; expected lines such as 'example.com. 3600 IN DNSKEY 257 3 13 <base64>'
        'd1.aa. 300 IN DS 20179 8 2 512A692D2F2EACE222D9E1E662E8933EC462F738462E60F4A9611F63651ED829' | line 1: expected a DNSKEY record; got DS for d1.aa.
        'd1.aa. 300 IN DNSKEY 257 3 8 !!notbase64!!'           | line 1: not a DNS record: invalid base64 encoding (in 'd1.aa. 300 IN DNSKEY 257 3 8 !!notbase64!!')
        'd1.aa. 300 IN DNSKEY 257 2 13 AAAA'                    | line 1: DNSKEY protocol must be 3; got 2
        'hello'                                                 | line 1: expected 'owner [ttl] [IN] DNSKEY flags 3 algorithm key'; got 'hello'
        '$TTL 300'                                              | line 1: expected a DNSKEY record; got the directive '$TTL 300'
        """)
    void badInputNamesTheLine(String input, String message) {
        DnskeyInput.InputException e = assertThrows(DnskeyInput.InputException.class,
                () -> DnskeyInput.parse(input.getBytes(StandardCharsets.UTF_8)));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aZskAloneIsNotSomethingToSubmit() throws Exception {
        List<DnskeyInput.Line> zsk = DnskeyInput.parse(
                "d1.aa. 300 IN DNSKEY 256 3 13 hvyqZaw9lo+E7KFxBcI2QtMDyq9Yhr5v4uGJaQGckF/cvzgf7k3qe/Zm C3DD28AShpokFWIZ6356rh+C7wqevA==\n"
                        .getBytes(StandardCharsets.UTF_8));
        DnskeyInput.InputException e = assertThrows(DnskeyInput.InputException.class,
                () -> DsSubmitCommand.events(DsSubmitCommand.SUBMIT, zsk, NOW));
        assertEquals("no KSK on standard input (only DNSKEYs without the SEP flag, e.g. 256); expected the KSK's"
                + " DNSKEY record (flags 257)", e.getMessage());
    }

    @Test
    void binaryOrHugeInputIsRefused() {
        assertEquals("standard input is not UTF-8 text; expected DNSKEY records", assertThrows(DnskeyInput.InputException.class,
                () -> DnskeyInput.parse(new byte[] {(byte) 0xff, (byte) 0xfe, 0x00})).getMessage());
        assertEquals("more than 256 KiB on standard input; expected DNSKEY records", assertThrows(DnskeyInput.InputException.class,
                () -> DnskeyInput.parse(new byte[DnskeyInput.MAX_BYTES + 1])).getMessage());
    }
}
