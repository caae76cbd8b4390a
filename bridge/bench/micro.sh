#!/usr/bin/env bash
# Micro benchmarks behind bridge/docs/performance.md, each printing its Markdown table:
#   bench/micro.sh crypto   org.dnssec2mqtt.bench.CryptoBench: DNSSEC.verify, ECDSA P-256, RSA-2048,
#                           Ed25519, DS SHA-256, HMAC-SHA256 under each crypto.provider (CPU only, ~3 min)
#   bench/micro.sh fetch    org.dnssec2mqtt.bench.FetchBench: one zone's four queries against NSD on
#                           127.0.0.1, each way of asking them (needs nsd, ~3 min)
#   bench/micro.sh notify   org.dnssec2mqtt.bench.NotifyBurstBench: a burst of BENCH_NOTIFY_BURST [20000]
#                           NOTIFYs answered by the listener while its consumer is blocked
#   bench/micro.sh store    org.dnssec2mqtt.bench.StoreBench: 10,000 and 100,000 zone states saved, loaded,
#                           compacted and migrated, one file per zone against the journal (~2 min)
#   bench/micro.sh check    org.dnssec2mqtt.bench.CheckBench: one periodic check's evaluation and the rendering
#                           and comparison of its retained topics, 2 and 5 keys (CPU only, ~1.5 min)
#   bench/micro.sh memory   org.dnssec2mqtt.bench.MemoryBench: heap kept per checked zone, BENCH_MEMORY_ZONES
#                           [20000] zones from NSD on 127.0.0.1 checked once, in the launcher's JVM options
#                           (BENCH_MEMORY_JVM_OPTS replaces them; ~1 min)
#   bench/micro.sh readback org.dnssec2mqtt.bench.ReadBackBench: the read-back of 50,000 and 200,000 retained
#                           topics from a local mosquitto after a connect, each reader (needs mosquitto, ~2 min)
#   bench/micro.sh wake     org.dnssec2mqtt.bench.WakeBench: what one thread hand-off and one loopback UDP wake-up
#                           cost after an idle spell and back to back (the floor under the NOTIFY → key path, ~1 min)
# JAVA=/path/to/java picks the JVM that runs it.
set -euo pipefail
case "${1:-}" in
    crypto) main=org.dnssec2mqtt.bench.CryptoBench ;;
    fetch) main=org.dnssec2mqtt.bench.FetchBench ;;
    notify) main=org.dnssec2mqtt.bench.NotifyBurstBench ;;
    store) main=org.dnssec2mqtt.bench.StoreBench ;;
    check) main=org.dnssec2mqtt.bench.CheckBench ;;
    memory) main=org.dnssec2mqtt.bench.MemoryBench
        opts="${BENCH_MEMORY_JVM_OPTS:--Xms16m -Xmx256m -XX:+UseSerialGC -XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40 -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.05}" ;;
    readback) main=org.dnssec2mqtt.bench.ReadBackBench ;;
    wake) main=org.dnssec2mqtt.bench.WakeBench
        opts="-XX:TieredStopAtLevel=1" ;;
    *) echo "usage: bench/micro.sh crypto|fetch|notify|store|check|memory|readback|wake" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../.."
mvn -B -q test-compile
mvn -B -q -pl bridge org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
# shellcheck disable=SC2086 # the options are words
exec "${JAVA:-java}" ${opts:-} -cp "bridge/target/test-classes:bridge/target/classes:$(cat bridge/target/bench.classpath)" "$main"
