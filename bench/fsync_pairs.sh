#!/usr/bin/env bash
# The billing-cost scenario (8) alone, for more rounds than bench/run.sh takes, and for
# several fsync intervals: the price of each durability window. Each round starts, in
# turn, a fresh daemon per interval in INTERVALS_MS and one with fsync off (0), each with
# `hello` (min_warm 2) under `wrk -t1 -c32 -d10s`, so a busy spell of the shared machine
# falls on every mode. Prints each run's req/s and, from the daemon's shutdown line, how
# long its billing records waited to reach the disk (p99 over its group fsyncs); then per
# interval the median req/s over the median with fsync off, and the median of those p99s.
#
#   bench/fsync_pairs.sh [ROUNDS=6] [INTERVALS_MS="5 10 20"]
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-6} INTERVALS=(${2:-5 10 20})
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

measure() { # FSYNC_INTERVAL_MS: sets RPS and DURABLE_P99 (not $(...): the daemon must stay this shell's to clean up)
    start_sofaasd "{\"ledger_fsync_interval_ms\": $1}"
    deploy_hello 2
    RPS=$(wrk -t1 -c32 -d10s "$SOFAAS_ENDPOINT/fn/hello" | awk '/Requests\/sec/ {print $2}')
    stop_sofaasd
    DURABLE_P99=$(ledger_durable_p99_ms "$SOFAASD_WORK/sofaasd.log")
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

declare -A rps=() p99=()
for _ in $(seq 1 "$ROUNDS"); do
    for interval in "${INTERVALS[@]}" 0; do
        measure "$interval"
        rps[$interval]+=" $RPS"
        p99[$interval]+=" ${DURABLE_P99:-0}"
        echo "interval_ms $interval req_per_s $RPS durable_p99_ms ${DURABLE_P99:--}"
    done
done
off=$(median ${rps[0]})
for interval in "${INTERVALS[@]}"; do
    on=$(median ${rps[$interval]})
    echo "interval_ms $interval median_req_per_s $on off $off ratio $(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}') durable_p99_ms $(median ${p99[$interval]})"
done
