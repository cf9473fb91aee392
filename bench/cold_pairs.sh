#!/usr/bin/env bash
# The cold-start scenario (3) for several sofaasd builds side by side, in alternating
# rounds: each round starts, in turn, one fresh sofaasd per SOFAASD_PATH (the shipped
# defaults; its sofaas-worker beside it) and runs `sofaas-bench cold-start` against it
# (SAMPLES fresh deploys of hello, min_warm 0, one call each). Prints the p50 and p99 of
# each run, end to end and as init_ms.
#
#   bench/cold_pairs.sh ROUNDS SAMPLES SOFAASD_PATH...
#   e.g. bench/cold_pairs.sh 4 200 /tmp/base/build-release/bin/sofaasd build-release/bin/sofaasd
# Uses build-release/ for sofaas-bench and hello.so (bench/run.sh builds it). A root
# sofaasd gives each environment its namespaces and uid: run it as root to measure those.
# COLD_PAIRS_CONFIG (default {}) is every daemon's config, e.g. a worker_uids range of
# its own when other daemons on the host use the default one. COLD_PAIRS_PAUSE_MS (default
# 0) spaces the calls out, as cold starts come on a quiet daemon.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:?rounds} SAMPLES=${2:?samples} && shift 2
CONFIG=${COLD_PAIRS_CONFIG:-"{}"}
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

for round in $(seq 1 "$ROUNDS"); do
    for sofaasd in "$@"; do
        SOFAASD=$sofaasd start_sofaasd "$CONFIG"
        result=$("$BUILD/bin/sofaas-bench" cold-start --samples "$SAMPLES" --pause-ms "${COLD_PAIRS_PAUSE_MS:-0}" \
            --library "$BUILD/functions/hello.so" |
            awk '{v[$1] = $2} END {printf "cold p50 %s p99 %s ms, init p50 %s p99 %s ms", v["cold_p50_ms"], v["cold_p99_ms"], v["init_p50_ms"], v["init_p99_ms"]}')
        echo "round $round $sofaasd: $result"
        stop_sofaasd
    done
done
