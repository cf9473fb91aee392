#!/usr/bin/env bash
# What a deploy costs the calls running meanwhile: `wrk -t1 -c8 -d6s --latency` on
# /fn/hello (4 warm workers) while three 48 MiB libraries (hello.so padded with zeros)
# are deployed one after another. Prints each deploy's time and wrk's latency figures.
#
#   bench/deploy_stall.sh [CONFIG_JSON]     SOFAASD=PATH runs another sofaasd binary
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
source "$ROOT/bench/daemon.sh"
LIBRARY_DIR=$(mktemp -d "${BENCH_TMP:-/tmp}/sofaas-deploy-stall.XXXXXX")
trap 'stop_all_sofaasd; rm -rf "$LIBRARY_DIR"' EXIT
cp "$BUILD/functions/hello.so" "$LIBRARY_DIR/big.so"
truncate -s 48M "$LIBRARY_DIR/big.so"

start_sofaasd "${1:-{\}}"
deploy_hello 4
wrk -t1 -c8 -d6s --latency "$SOFAAS_ENDPOINT/fn/hello" >"$LIBRARY_DIR/wrk.out" &
WRK=$!
sleep 1
for i in 1 2 3; do
    start=$(date +%s%N)
    curl -sf -X PUT -H "Authorization: Bearer $SOFAAS_TOKEN" --data-binary @"$LIBRARY_DIR/big.so" \
        "$SOFAAS_ENDPOINT/v1/functions/big$i" >/dev/null || echo "deploy $i failed"
    echo "deploy_${i}_ms $((($(date +%s%N) - start) / 1000000))"
done
wait $WRK
awk '$1 == "Latency" && $2 != "Distribution" {print "latency_mean", $2; print "latency_max", $4} $1 == "99%" {print "latency_p99", $2}
     /Requests\/sec/ {print "req_per_s", $2}' "$LIBRARY_DIR/wrk.out"
