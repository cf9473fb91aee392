#!/usr/bin/env bash
# What counting /metrics costs the warm path: two daemons side by side, one with metrics
# on (the default) and one with `"metrics": {"enabled": false}`, each with `hello`
# (min_warm 2) and a Prometheus-like reader of /metrics every second, take turns under
# `wrk -t1 -c32` (the order swapped every round), so a busy spell of the shared machine
# falls on both. Prints each run's req/s, then each round's on/off ratio and their median.
#
#   bench/metrics_pairs.sh [ROUNDS=10] [DURATION=5s]
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-10} DURATION=${2:-5s}
source "$ROOT/bench/daemon.sh"
SCRAPER=""
cleanup() {
    [[ -n "$SCRAPER" ]] && kill "$SCRAPER" 2>/dev/null && wait "$SCRAPER" 2>/dev/null
    stop_all_sofaasd
}
trap cleanup EXIT

declare -A address=()
for mode in on off; do
    config='{}'; [[ $mode == off ]] && config='{"metrics": {"enabled": false}}'
    start_sofaasd "$config"
    deploy_hello 2
    address[$mode]=$SOFAASD_ADDRESS
done
# The scrape is part of the price: once a second, as Prometheus would (404 with metrics off).
(while sleep 1; do
    for mode in on off; do curl -s -o /dev/null -H "Authorization: Bearer $SOFAAS_TOKEN" "http://${address[$mode]}/metrics"; done
done) &
SCRAPER=$!
for mode in on off; do wrk -t1 -c32 -d1s "http://${address[$mode]}/fn/hello" >/dev/null; done

run() { wrk -t1 -c32 -d"$DURATION" "http://${address[$1]}/fn/hello" | awk '/Requests\/sec/ {print $2}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

ratios=() on_all=() off_all=()
for round in $(seq 1 "$ROUNDS"); do
    order=(on off); ((round % 2 == 0)) && order=(off on)
    declare -A rps=()
    for mode in "${order[@]}"; do rps[$mode]=$(run "$mode"); done
    ratio=$(awk -v a="${rps[on]}" -v b="${rps[off]}" 'BEGIN {printf "%.4f", a / b}')
    echo "round $round on $(printf %.0f "${rps[on]}") off $(printf %.0f "${rps[off]}") ratio $ratio"
    ratios+=("$ratio") on_all+=("${rps[on]}") off_all+=("${rps[off]}")
done
echo "median req/s on $(median "${on_all[@]}") off $(median "${off_all[@]}"); median of the rounds' ratios $(median "${ratios[@]}")"
