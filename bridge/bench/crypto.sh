#!/usr/bin/env bash
# The cryptography micro benchmark (bridge/docs/performance.md): org.dnssec2mqtt.bench.CryptoBench
# times DNSSEC.verify, ECDSA P-256, RSA-2048, Ed25519, DS SHA-256 and HMAC-SHA256 under each
# crypto.provider and prints the Markdown table. CPU only, about 40 s. JAVA=/path/to/java picks the JVM.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q test-compile
mvn -B -q -pl bridge org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
exec "${JAVA:-java}" -cp "bridge/target/test-classes:bridge/target/classes:$(cat bridge/target/bench.classpath)" \
    org.dnssec2mqtt.bench.CryptoBench
