#!/usr/bin/env bash
# The deadline scenario (7) for several daemon configurations side by side: each round
# starts, in turn, one fresh sofaasd per CONFIG_JSON and runs
# `sofaas-bench deadline --workers warm --count 50` (10 spinning at once, timeout 1 s);
# prints how late the 504s came, p50 and p99.
#
#   bench/deadline_pairs.sh ROUNDS CONFIG_JSON|SOFAASD_PATH@CONFIG_JSON ...
#   e.g. bench/deadline_pairs.sh 3 '{"io_threads": 1}' '{"io_threads": 2}'
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:?rounds} && shift
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

for _ in $(seq 1 "$ROUNDS"); do
    for config in "$@"; do
        SOFAASD="" && [[ $config == *@* ]] && SOFAASD=${config%%@*}
        start_sofaasd "${config#*@}"
        echo "$config $("$BUILD/bin/sofaas-bench" deadline --workers warm --count 50 --library "$BUILD/fixtures/spin.so" |
            awk '/late_p50|late_p99|failures/ {printf "%s %s ", $1, $2}')"
        stop_sofaasd
    done
done
