package org.dnssec2mqtt.zone;

import org.dnssec2mqtt.crypto.CryptoProvider;
import org.junit.jupiter.api.AfterAll;

/** Every {@link ValidatorTest} case again with the native provider (crypto.provider = auto). */
class ValidatorAccpTest extends ValidatorTest {
    @Override
    CryptoProvider.Mode provider() {
        return CryptoProvider.Mode.AUTO;
    }

    @AfterAll
    static void backToTheJdk() {
        CryptoProvider.install(CryptoProvider.Mode.JDK);
    }
}
