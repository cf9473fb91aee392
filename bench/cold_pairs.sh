#!/usr/bin/env bash
# The cold-start scenario (3) for several daemon configurations side by side, in
# alternating rounds: each round starts, in turn, one fresh sofaasd per CONFIG_JSON and
# runs `sofaas-bench cold-start` (SAMPLES fresh deploys of hello, min_warm 0, each called
# once, PAUSE_MS apart); prints the end-to-end p50/p99 and the init_ms p50/p99 of each run.
#
#   bench/cold_pairs.sh ROUNDS SAMPLES PAUSE_MS CONFIG_JSON|SOFAASD_PATH@CONFIG_JSON ...
#   e.g. bench/cold_pairs.sh 3 200 0 '{"cgroups": "off"}' '{}'
# SOFAASD_PATH@CONFIG_JSON runs another sofaasd binary (with its sofaas-worker beside it),
# for an A/B pair of builds. Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:?rounds} SAMPLES=${2:?samples} PAUSE_MS=${3:?pause_ms}
shift 3
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

for _ in $(seq 1 "$ROUNDS"); do
    for config in "$@"; do
        SOFAASD="" && [[ $config == *@* ]] && SOFAASD=${config%%@*}
        start_sofaasd "${config#*@}"
        echo "$config $("$BUILD/bin/sofaas-bench" cold-start --samples "$SAMPLES" --pause-ms "$PAUSE_MS" \
            --library "$BUILD/functions/hello.so" | tr '\n' ' ')"
        stop_sofaasd
    done
done
