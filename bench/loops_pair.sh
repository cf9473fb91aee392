#!/usr/bin/env bash
# What one daemon's io threads cost compared with separate daemons: two `wrk -t1 -c16`
# against one sofaasd with io_threads 2 ("one"), then each against its own sofaasd with
# io_threads 1 ("two"), `hello` warm in every daemon, RUNS alternations. Prints the total
# req/s of each. This is the experiment behind one io_context per io thread
# (docs/decisions): at 960ab15, where io threads shared one io_context, "one" got
# 14.6-16.4k and "two" 22.5-25.7k; since then "one" runs one io_context per thread as well.
#
#   bench/loops_pair.sh [RUNS=3] [DURATION=5s]
# Uses build-release/ (bench/run.sh builds it); SOFAASD=PATH for another binary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
RUNS=${1:-3} DURATION=${2:-5s}
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

# Total req/s of two concurrent `wrk -t1 -c16`, one against each address, after a 1 s warm-up.
two_wrk() {
    local out="${BENCH_TMP:-/tmp}/loops-pair.$$" first
    wrk -t1 -c16 -d1s "http://$1/fn/hello" >/dev/null &
    first=$!
    wrk -t1 -c16 -d1s "http://$2/fn/hello" >/dev/null
    wait "$first"
    wrk -t1 -c16 -d"$DURATION" "http://$1/fn/hello" >"$out.a" &
    first=$!
    wrk -t1 -c16 -d"$DURATION" "http://$2/fn/hello" >"$out.b"
    wait "$first"
    awk '/Requests\/sec/ {total += $2} END {printf "%.0f\n", total}' "$out.a" "$out.b"
    rm -f "$out.a" "$out.b"
}

for _ in $(seq 1 "$RUNS"); do
    start_sofaasd '{"io_threads": 2}'
    deploy_hello 32
    echo "one $(two_wrk "$SOFAASD_ADDRESS" "$SOFAASD_ADDRESS")"
    stop_sofaasd

    start_sofaasd '{"io_threads": 1}'
    deploy_hello 16
    first_pid=$SOFAASD_PID first=$SOFAASD_ADDRESS
    start_sofaasd '{"io_threads": 1}'
    deploy_hello 16
    echo "two $(two_wrk "$first" "$SOFAASD_ADDRESS")"
    stop_sofaasd "$first_pid" "$SOFAASD_PID"
done
