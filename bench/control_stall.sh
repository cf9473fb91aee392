#!/usr/bin/env bash
# What the control API's heavy requests cost the calls running meanwhile. While
# `wrk -t1 -c8 -d6s --latency` calls /fn/hello (4 warm workers):
#   billing: two `GET /v1/billing` over the ledger that 8 s of `wrk -c32` left (~400k
#            records here);
#   deploy:  then three 48 MiB libraries (hello.so padded with zeros), one after another.
# Prints each request's time and wrk's mean, max and p99 latency per phase.
#
#   bench/control_stall.sh [CONFIG_JSON]     SOFAASD=PATH runs another sofaasd binary
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
source "$ROOT/bench/daemon.sh"
SCRATCH=$(mktemp -d "${BENCH_TMP:-/tmp}/sofaas-control-stall.XXXXXX")
trap 'stop_all_sofaasd; rm -rf "$SCRATCH"' EXIT
cp "$BUILD/functions/hello.so" "$SCRATCH/big.so"
truncate -s 48M "$SCRATCH/big.so"

start_sofaasd "${1:-{\}}"
deploy_hello 4

# PHASE COMMAND...: runs COMMAND three times (deploy) or twice (billing) under wrk.
under_load() {
    local phase=$1 count=$2 i start
    shift 2
    wrk -t1 -c8 -d6s --latency "$SOFAAS_ENDPOINT/fn/hello" >"$SCRATCH/wrk.out" &
    local wrk_pid=$!
    sleep 1
    for i in $(seq 1 "$count"); do
        start=$(date +%s%N)
        "$@" "$i" >/dev/null || echo "${phase}_${i} failed"
        echo "${phase}_${i}_ms $((($(date +%s%N) - start) / 1000000))"
    done
    wait $wrk_pid
    awk -v phase="$phase" '$1 == "Latency" && $2 != "Distribution" {print phase "_calls_latency_mean", $2; print phase "_calls_latency_max", $4}
        $1 == "99%" {print phase "_calls_latency_p99", $2}' "$SCRATCH/wrk.out"
}
deploy_big() {
    curl -sf -X PUT -H "Authorization: Bearer $SOFAAS_TOKEN" --data-binary @"$SCRATCH/big.so" \
        "$SOFAAS_ENDPOINT/v1/functions/big$1"
}
query_billing() { curl -sf -H "Authorization: Bearer $SOFAAS_TOKEN" "$SOFAAS_ENDPOINT/v1/billing"; }

wrk -t1 -c32 -d8s "$SOFAAS_ENDPOINT/fn/hello" | awk '/requests in/ {print "ledger_records_added", $1}'
under_load billing 2 query_billing
under_load deploy 3 deploy_big
