package org.dnssec2mqtt.crypto;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the JCA provider that checks signatures ({@code crypto.provider}). dnsjava verifies
 * RRSIGs through {@link Signature}, and TSIG through {@code Mac}, so a provider put first in the
 * JVM's list is used without any other change.
 *
 * <p>{@code auto} installs Amazon Corretto Crypto Provider (ACCP, native AWS-LC): ECDSA P-256
 * verification measured ≈ 15× faster than the JDK's SunEC on Java 17 (bridge/docs/performance.md).
 * ACCP has no Ed448: for that algorithm the JDK's providers, still in the list behind it, answer.
 * When ACCP cannot load (another CPU or C library than the jar's native library was built for),
 * the JDK's providers stay, with one WARN saying why. {@code jdk} keeps the JDK's providers only.
 */
public final class CryptoProvider {
    private static final Logger log = LoggerFactory.getLogger(CryptoProvider.class);

    /** {@code crypto.provider}. */
    public enum Mode {
        /** The native provider when it loads, else the JDK's. */
        AUTO,
        /** The JDK's providers only. */
        JDK;

        /** {@code auto} or {@code jdk}, any case. */
        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "jdk" -> JDK;
                default -> throw new IllegalArgumentException("expected auto or jdk; got '" + s + "'");
            };
        }
    }

    /** The platform of the native library in the jar (the build's accp.classifier). */
    private static final String BUILT_FOR = builtFor();

    private CryptoProvider() {}

    private static String builtFor() {
        String so = "/com/amazon/corretto/crypto/provider/libamazonCorrettoCryptoProvider.so";
        if (CryptoProvider.class.getResource(so) == null) {
            return "no platform (the native library is missing)";
        }
        try (java.io.InputStream in = CryptoProvider.class.getResourceAsStream(so)) {
            byte[] elf = in.readNBytes(20);
            // ELF header e_machine (little-endian at offset 18): 62 = x86-64, 183 = aarch64
            int machine = elf.length == 20 ? (elf[18] & 0xFF) | (elf[19] & 0xFF) << 8 : -1;
            return machine == 62 ? "linux x86-64" : machine == 183 ? "linux aarch64" : "an unknown platform";
        } catch (java.io.IOException | RuntimeException e) {
            return "an unknown platform";
        }
    }

    /**
     * Puts the provider {@code mode} asks for in place, for the whole JVM; calling it again with
     * the other mode switches back (the tests run validation under both).
     *
     * @return the provider now in use for signatures, for the start line: {@code ACCP 2.5.0} or
     *     {@code JDK SunEC}
     */
    public static synchronized String install(Mode mode) {
        if (mode == Mode.AUTO) {
            String why = installNative();
            if (why == null) {
                return inUse();
            }
            log.warn("crypto: the native provider (ACCP) is not available here ({}); checking signatures with the"
                    + " JDK's, which is slower. Set crypto.provider = jdk to silence this.", why);
        } else {
            Security.removeProvider(AmazonCorrettoCryptoProvider.PROVIDER_NAME);
        }
        return inUse();
    }

    /** @return null when ACCP is installed and healthy, else why not */
    private static String installNative() {
        try {
            AmazonCorrettoCryptoProvider.install();
            Throwable error = AmazonCorrettoCryptoProvider.INSTANCE.getLoadingError();
            if (error == null) {
                AmazonCorrettoCryptoProvider.INSTANCE.assertHealthy();
                return null;
            }
            Security.removeProvider(AmazonCorrettoCryptoProvider.PROVIDER_NAME);
            log.debug("crypto: ACCP loading error", error);
            return why();
        } catch (LinkageError | RuntimeException e) {
            // a jar built for another platform: no native library, or one that does not link
            Security.removeProvider(AmazonCorrettoCryptoProvider.PROVIDER_NAME);
            log.debug("crypto: ACCP cannot be installed", e);
            return why();
        }
    }

    /**
     * Why, in the operator's terms; ACCP's own exceptions speak of class internals (a missing
     * resource shows as a NullPointerException), so their text goes to DEBUG only.
     */
    private static String why() {
        return "its native library does not load on " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + "; this jar was built for " + BUILT_FOR;
    }

    /** A short name of the provider that checks ECDSA P-256 signatures, the common DNSSEC case. */
    static String inUse() {
        try {
            Provider p = Signature.getInstance("SHA256withECDSA").getProvider();
            if (AmazonCorrettoCryptoProvider.PROVIDER_NAME.equals(p.getName())) {
                return "ACCP " + p.getVersionStr();
            }
            return "JDK " + p.getName();
        } catch (NoSuchAlgorithmException e) {
            return "JDK (no ECDSA)";
        }
    }
}
