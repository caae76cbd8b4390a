package org.dnssec2mqtt.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;

/**
 * A key's DS digests follow its record: the same record, the same digests; whatever changes the
 * record (here the SEP bit, which keeps the key's identity) changes them.
 */
class KeyAnalyzerDsReuseTest {
    static final Instant NOW = Instant.parse("2026-11-22T06:30:00Z");

    static KeyInfo only(DNSKEYRecord key, List<KeyInfo> previous) {
        return KeyAnalyzer.analyze(Fixtures.snapshot(List.of(key), List.of(key), List.of()), previous, NOW).get(0);
    }

    @Test
    void aKeyThatBecomesSepGetsItsDigests() throws Exception {
        DNSKEYRecord ksk = Fixtures.key(Fixtures.keys("d1.aa.dnskey"), 20179);
        DNSKEYRecord asZsk = new DNSKEYRecord(ksk.getName(), ksk.getDClass(), ksk.getTTL(),
                ksk.getFlags() & ~DNSKEYRecord.Flags.SEP_KEY, ksk.getProtocol(), ksk.getAlgorithm(), ksk.getKey());
        KeyInfo zsk = only(asZsk, List.of());
        assertNull(zsk.dsSha256());
        KeyInfo now = only(ksk, List.of(zsk));
        assertEquals(KeyAnalyzer.ds(ksk, DNSSEC.Digest.SHA256), now.dsSha256());
        assertEquals(KeyAnalyzer.ds(ksk, DNSSEC.Digest.SHA384), now.dsSha384());
        KeyInfo again = only(ksk, List.of(now));
        assertEquals(now, again, "an unchanged key: the same digests");
        KeyInfo back = only(asZsk, List.of(again));
        assertNull(back.dsSha256());
    }
}
