#!/usr/bin/env bash
# Warm /fn/hello through haproxy (config/haproxy.cfg as shipped) before 1, 2 and 3 sofaasd
# nodes sharing one PostgreSQL database (bench/postgres.sh), beside one sofaasd called
# directly, all on this machine. Six functions, hello-1 .. hello-6 (hello.so, min_warm 2,
# deployed once and kept warm on every node), are called in turn (bench/functions_round_robin.lua), so that hashing on the
# function's name spreads them over the nodes; one function alone stays on one node. Each
# round measures every setup once, in turn, so a busy spell of the shared machine falls on
# all of them; prints each run's req/s and p99, then the medians.
#
#   bench/cluster_pairs.sh [ROUNDS=3] [DURATION=10s] [CONNECTIONS=64]
# Uses build-release/ (this builds the programs it needs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-3} DURATION=${2:-10s} CONNECTIONS=${3:-64}
source "$ROOT/bench/daemon.sh"
source "$ROOT/bench/postgres.sh"
build_bench_programs
HAPROXY_PID=""
stop_haproxy() { [[ -z "$HAPROXY_PID" ]] || { kill "$HAPROXY_PID" 2>/dev/null; wait "$HAPROXY_PID" 2>/dev/null || true; HAPROXY_PID=""; }; }
cleanup() {
    stop_haproxy
    stop_all_sofaasd
    stop_bench_postgres
}
trap cleanup EXIT
start_bench_postgres

LB_PORT=18280 STATS_PORT=18281
ms() { awk '{ v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

# NODES nodes on a fresh database, sharing hello-1..6, deployed once through the first;
# sets ADDRESSES and PIDS.
start_nodes() {
    local database="round_${round}_${setup//-/_}" addresses=() pids=()
    bench_pg_psql -c "CREATE DATABASE $database"
    for node in $(seq 1 "$1"); do
        start_sofaasd "{\"store\": \"$(bench_pg_url "$database")\", \"events\": {\"node_id\": \"node-$node\"}}"
        addresses+=("$SOFAASD_ADDRESS") pids+=("$SOFAASD_PID")
        ((node == 1)) || continue
        for fn in $(seq 1 6); do
            curl -sf -X PUT -H "Authorization: Bearer $SOFAAS_TOKEN" --data-binary @"$BUILD/functions/hello.so" \
                "$SOFAAS_ENDPOINT/v1/functions/hello-$fn?min_warm=2" >/dev/null
        done
    done
    for address in "${addresses[@]}"; do
        for _ in $(seq 1 100); do
            curl -sf -o /dev/null -H "Authorization: Bearer $SOFAAS_TOKEN" "http://$address/v1/functions/hello-6" && break
            sleep 0.05
        done
    done
    ADDRESSES=("${addresses[@]}") PIDS=("${pids[@]}")
}

start_haproxy() {
    SOFAAS_LB_BIND=127.0.0.1:$LB_PORT SOFAAS_LB_STATS=127.0.0.1:$STATS_PORT \
        SOFAAS_NODE1=${ADDRESSES[0]} SOFAAS_NODE2=${ADDRESSES[1]:-127.0.0.1:9} SOFAAS_NODE3=${ADDRESSES[2]:-127.0.0.1:9} \
        haproxy -db -f "$ROOT/config/haproxy.cfg" >/dev/null 2>&1 &
    HAPROXY_PID=$!
    for _ in $(seq 1 100); do
        local up
        up=$(curl -sf "http://127.0.0.1:$STATS_PORT/;csv" | grep -c '^nodes,node[0-9],.*,UP,' || true)
        # And two checks more: until then haproxy still sends calls hashed to the absent
        # servers (the 1-node and 2-node setups name 127.0.0.1:9), which answers 503.
        [[ "$up" == "${#ADDRESSES[@]}" ]] && sleep 2.5 && return
        sleep 0.1
    done
    echo "haproxy: the nodes did not come up" >&2
    exit 1
}

run_wrk() { # URL [LUA]: sets RPS, P99 and FAILED (non-2xx answers, printed beside the figures)
    local out
    out=$(FUNCTIONS=6 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency ${2:+-s "$2"} "$1")
    RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    P99=$(awk '/^ +99%/ {print $2}' <<<"$out" | ms)
    FAILED=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    FAILED=${FAILED:-0}
    local total
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    # Socket errors, or more than one answer in a thousand failed: the figures would not
    # be those of served calls.
    if grep -q 'Socket errors' <<<"$out" || ((FAILED * 1000 > total)); then
        echo "$out" >&2
        echo "wrk: errors" >&2
        exit 1
    fi
}

setups=(direct haproxy-1 haproxy-2 haproxy-3 haproxy-3-one-function)
declare -A rps=() p99=()
for round in $(seq 1 "$ROUNDS"); do
    for setup in "${setups[@]}"; do
        case $setup in
            direct) start_nodes 1 ;;
            haproxy-1) start_nodes 1; start_haproxy ;;
            haproxy-2) start_nodes 2; start_haproxy ;;
            haproxy-3*) start_nodes 3; start_haproxy ;;
        esac
        target=http://127.0.0.1:$LB_PORT lua=$ROOT/bench/functions_round_robin.lua
        [[ $setup == direct ]] && target=http://${ADDRESSES[0]}
        if [[ $setup == haproxy-3-one-function ]]; then
            run_wrk "$target/fn/hello-1"
        else
            run_wrk "$target/" "$lua"
        fi
        rps[$setup]+=" $RPS" p99[$setup]+=" $P99"
        echo "setup $setup req_per_s $RPS p99_ms $P99 non_2xx $FAILED"
        stop_haproxy
        stop_sofaasd "${PIDS[@]}"
    done
done
for setup in "${setups[@]}"; do
    echo "setup $setup median_req_per_s $(median ${rps[$setup]}) median_p99_ms $(median ${p99[$setup]})"
done
