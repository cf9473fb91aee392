#!/usr/bin/env bash
# The billing-cost scenario (8) alone, for more pairs than bench/run.sh takes: PAIRS times
# a fresh daemon with the ledger's group fsync every INTERVAL_MS, then one with fsync off,
# each with `hello` (min_warm 2) under `wrk -t1 -c32 -d10s`. Prints each pair's req/s and
# ratio, then the median "on" over the median "off".
#
#   bench/fsync_pairs.sh [PAIRS=6] [INTERVAL_MS=5]
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
PAIRS=${1:-6} INTERVAL_MS=${2:-5}
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

measure() { # FSYNC_INTERVAL_MS: sets RPS (not a $(...): the daemon must stay this shell's to clean up)
    start_sofaasd "{\"ledger_fsync_interval_ms\": $1}"
    deploy_hello 2
    RPS=$(wrk -t1 -c32 -d10s "$SOFAAS_ENDPOINT/fn/hello" | awk '/Requests\/sec/ {print $2}')
    stop_sofaasd
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

on=() off=()
for _ in $(seq 1 "$PAIRS"); do
    measure "$INTERVAL_MS"
    on+=("$RPS")
    measure 0
    off+=("$RPS")
    echo "on ${on[-1]} off ${off[-1]} ratio $(awk -v a="${on[-1]}" -v b="${off[-1]}" 'BEGIN {printf "%.3f", a / b}')"
done
echo "median_on $(median "${on[@]}") median_off $(median "${off[@]}") ratio $(awk -v a="$(median "${on[@]}")" -v b="$(median "${off[@]}")" 'BEGIN {printf "%.3f", a / b}')"
