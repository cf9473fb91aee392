#!/usr/bin/env bash
# The latency scenario (2) for several daemon configurations side by side: each round
# starts, in turn, one fresh sofaasd per CONFIG_JSON (`hello`, min_warm 2, a 1 s wrk
# warm-up), and `floor` stands for bench/gateway_floor.c with its billing line, the
# reference. Each gets `wrk -t1 -c32 -d10s --latency`; prints req/s, p50 and p99 per run.
#
#   bench/latency_pairs.sh ROUNDS CONFIG_JSON|floor|SOFAASD_PATH@CONFIG_JSON ...
#   e.g. bench/latency_pairs.sh 3 floor '{}' '{"io_threads": 1}' '{"ledger_fsync_interval_ms": 0}'
# SOFAASD_PATH@CONFIG_JSON runs another sofaasd binary (with its sofaas-worker beside it),
# for an A/B pair of builds: bench/latency_pairs.sh 3 '{}' /tmp/patched/sofaasd@'{}'
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:?rounds} && shift
source "$ROOT/bench/daemon.sh"
FLOOR_PID="" FLOOR_DIR=$(mktemp -d "${BENCH_TMP:-/tmp}/sofaas-floor.XXXXXX")
cleanup() {
    [[ -n "$FLOOR_PID" ]] && kill -TERM "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null
    stop_all_sofaasd
    rm -rf "$FLOOR_DIR"
}
trap cleanup EXIT

latency() { # URL: prints req/s, p50 and p99 as wrk writes them
    wrk -t1 -c32 -d10s --latency "$1" | awk '/Requests\/sec/ {r = $2} /^ +50%/ {a = $2} /^ +99%/ {b = $2} END {print "req_per_s", r, "p50", a, "p99", b}'
}

for _ in $(seq 1 "$ROUNDS"); do
    for config in "$@"; do
        if [[ $config == floor ]]; then
            "$BUILD/bin/gateway-floor" "$(nproc)" "$FLOOR_DIR/ledger.jsonl" >"$FLOOR_DIR/out" &
            FLOOR_PID=$!
            for _ in $(seq 1 200); do [[ -s "$FLOOR_DIR/out" ]] && break; sleep 0.01; done
            echo "floor $(latency "http://127.0.0.1:$(awk '{print $2}' "$FLOOR_DIR/out")/")"
            kill -TERM "$FLOOR_PID" && wait "$FLOOR_PID" 2>/dev/null || true
            FLOOR_PID=""
            rm -f "$FLOOR_DIR/ledger.jsonl" "$FLOOR_DIR/out"
        else
            SOFAASD="" && [[ $config == *@* ]] && SOFAASD=${config%%@*}
            start_sofaasd "${config#*@}"
            deploy_hello 2
            wrk -t1 -c32 -d1s "$SOFAAS_ENDPOINT/fn/hello" >/dev/null
            echo "$config $(latency "$SOFAAS_ENDPOINT/fn/hello")"
            stop_sofaasd
        fi
    done
done
