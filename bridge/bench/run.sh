#!/usr/bin/env bash
# The benchmark (see README "## Performance"): builds the jar, then runs
# org.dnssec2mqtt.bench.Bench (bridge/src/test/java/org/dnssec2mqtt/bench) with the test classpath.
# Needs nsd, mosquitto, mosquitto-clients and bind9-dnsutils (dig), as .ci/run installs them.
# Everything runs on 127.0.0.1 and stops by itself; about 5 minutes on 2 cores.
#
# Sizes (environment, defaults in brackets): BENCH_LATENCY_ZONES [200], BENCH_BURSTS [1000,10000],
# BENCH_STORM [10000], BENCH_EMBEDDED [true], BENCH_NAIVE [true], BENCH_NAIVE_LATENCY_ZONES [200],
# BENCH_NAIVE_BURST [1000], BENCH_NAIVE_STORM_SECONDS [15], BENCH_BURST_SECONDS [120],
# BENCH_RESTART [true], BENCH_SHUTDOWN_RUNS [5] (SIGTERM → exit, median), BENCH_100K [0]: that many
# more zones NOTIFYed at once on mosquitto, then `recheck *` (100000 adds about 8 minutes on 2 cores
# and wants BENCH_BRIDGE_JVM_OPTS=-Xmx768m: the launcher's 256 MiB heap holds 100,000 zones only at its edge). Profiling only: BENCH_BRIDGE_JVM_OPTS (e.g. -XX:StartFlightRecording=...);
# BENCH_DNS_TRANSPORT=udp|tcp sets the bridge's dns.transport (default: the bridge's default).
# BENCH_KEEP=1 keeps the bridge logs and data in the temporary directory it prints.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q package -DskipTests
mvn -B -q -pl bridge org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
exec java -cp "bridge/target/test-classes:bridge/target/classes:$(cat bridge/target/bench.classpath)" \
    org.dnssec2mqtt.bench.Bench
