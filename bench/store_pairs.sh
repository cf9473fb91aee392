#!/usr/bin/env bash
# Queued events with each store: the embedded SQLite file (the default) and a PostgreSQL
# database on the same machine, a server this script starts in a temp directory with
# PostgreSQL's own durability defaults (fsync, synchronous_commit on: a commit is on disk
# before its 202, as with SQLite). Each round starts, in turn, a fresh daemon per store
# with `hello` (min_warm 2), so a busy spell of the shared machine falls on both: wrk
# enqueues for 10 s at 32 connections (every answer a 202, bench/async_invoke.lua), then
# the queue drains. Prints each run's 202s/s, its p99 and how fast the events left in the
# queue then ran, and per store the medians.
#
#   bench/store_pairs.sh [ROUNDS=3]
# Uses build-release/ (bench/run.sh builds it; this builds the programs it needs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-3}
source "$ROOT/bench/daemon.sh"
source "$ROOT/bench/postgres.sh"
build_bench_programs
cleanup() {
    stop_all_sofaasd
    stop_bench_postgres
}
trap cleanup EXIT
start_bench_postgres
pg_url() { bench_pg_url "$1"; }

queue_depth() {
    curl -sf -H "Authorization: Bearer $SOFAAS_TOKEN" "$SOFAAS_ENDPOINT/v1/functions/hello/queue" |
        grep -o '"events":[0-9]*' | cut -d: -f2
}
ms() { awk '{ v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }'; }

measure() { # STORE_JSON: sets RPS, P99 and DRAIN (events run per second after wrk stopped)
    start_sofaasd "{\"store\": $1}"
    deploy_hello 2
    local out
    out=$(wrk -t1 -c32 -d10s --latency -s "$ROOT/bench/async_invoke.lua" "$SOFAAS_ENDPOINT/v1/functions/hello/invoke")
    if grep -qE 'Non-202|Socket errors' <<<"$out"; then echo "$out" >&2; echo "wrk: errors" >&2; exit 1; fi
    RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    P99=$(awk '/^ +99%/ {print $2}' <<<"$out" | ms)
    local left start
    left=$(queue_depth) start=$(date +%s%N)
    while [[ "$(queue_depth)" != 0 ]]; do sleep 0.05; done
    DRAIN=$(awk -v n="$left" -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
    stop_sofaasd
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

declare -A rps=() p99=() drain=()
for round in $(seq 1 "$ROUNDS"); do
    bench_pg_psql -c "CREATE DATABASE round_$round"
    for store in sqlite postgresql; do
        if [[ $store == sqlite ]]; then measure '"sqlite"'; else measure "\"$(pg_url "round_$round")\""; fi
        rps[$store]+=" $RPS" p99[$store]+=" $P99" drain[$store]+=" $DRAIN"
        echo "store $store enqueue_per_s $RPS p99_ms $P99 drain_per_s $DRAIN"
    done
done
for store in sqlite postgresql; do
    echo "store $store median_enqueue_per_s $(median ${rps[$store]}) median_p99_ms $(median ${p99[$store]})" \
        "median_drain_per_s $(median ${drain[$store]})"
done
