#!/usr/bin/env bash
# Two builds of sofaas, the warm path of each: `wrk -t1 -c32` against `/fn/hello` (min_warm
# 2, shipped defaults) on a fresh daemon and data directory per run, the builds taking
# turns (A B A B ...) so that a busy spell of the shared machine falls on both. Prints each
# run's req/s and the bytes it left per call in the billing ledger and in the function logs
# (apparent size of DATA/billing and DATA/logs after the daemon stopped, less what the
# deploy left, divided by the calls wrk counted), then the median req/s of each build, the
# B/A ratio of the medians and the median bytes per call of each.
#
#   bench/build_pairs.sh [BEFORE=491ed70] [AFTER=HEAD] [ROUNDS=4] [DURATION=10s]
#
# BEFORE and AFTER are each a commit (its `git archive` unpacked into build-pairs/COMMIT and
# built Release in build-pairs/COMMIT/build-release, the layout of every tree, so that ccache
# hits; kept for the next run) or a build directory holding bin/sofaasd, bin/sofaas-worker
# and functions/hello.so. AFTER=HEAD builds the working tree into
# build-release/ (as bench/run.sh does). The default BEFORE, 491ed70, is the last commit whose
# function log stored each call's START / END / REPORT beside its billing record.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${1:-491ed70} AFTER=${2:-HEAD} ROUNDS=${3:-4} DURATION=${4:-10s}
PAIRS="$ROOT/build-pairs"
TARGETS=(sofaasd sofaas-worker sofaas_functions)

# build_of REF: prints the build directory of REF, building it first when needed.
build_of() {
    local ref=$1
    if [[ -x "$ref/bin/sofaasd" ]]; then (cd "$ref" && pwd); return; fi
    if [[ "$ref" == HEAD ]]; then
        cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
        cmake --build "$ROOT/build-release" -j2 --target "${TARGETS[@]}" >/dev/null
        echo "$ROOT/build-release"
        return
    fi
    local commit
    commit=$(git -C "$ROOT" rev-parse --short=7 "$ref^{commit}") || { echo "no build directory or commit: $ref" >&2; exit 2; }
    local source="$PAIRS/$commit" build="$PAIRS/$commit/build-release"
    if [[ ! -x "$build/bin/sofaasd" ]]; then
        rm -rf "$source" && mkdir -p "$source"  # a build of an unfinished archive starts over
        git -C "$ROOT" archive "$commit" | tar -x -C "$source"
        cmake -S "$source" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
        cmake --build "$build" -j2 --target "${TARGETS[@]}" >/dev/null
    fi
    echo "$build"
}

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
declare -A build=([A]=$(build_of "$BEFORE") [B]=$(build_of "$AFTER"))
echo "A: $BEFORE (${build[A]})" >&2
echo "B: $AFTER (${build[B]})" >&2

BUILD=${build[A]}  # bench/daemon.sh reads it; each run names its sofaasd
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT

bytes_of() { du -sb --apparent-size "$1" 2>/dev/null | cut -f1 || echo 0; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

declare -A rps=([A]="" [B]="") ledger_per_call=([A]="" [B]="") logs_per_call=([A]="" [B]="")
run() { # SIDE
    local side=$1 data out calls ledger_before logs_before ledger_after logs_after
    SOFAASD="${build[$side]}/bin/sofaasd" start_sofaasd '{}'
    data="$SOFAASD_WORK/data"
    curl -sf -X PUT -H "Authorization: Bearer $SOFAAS_TOKEN" --data-binary @"${build[$side]}/functions/hello.so" \
        "$SOFAAS_ENDPOINT/v1/functions/hello?min_warm=2" >/dev/null
    curl -sf "$SOFAAS_ENDPOINT/fn/hello" >/dev/null
    ledger_before=$(bytes_of "$data/billing") logs_before=$(bytes_of "$data/logs")
    out=$(wrk -t1 -c32 -d"$DURATION" "$SOFAAS_ENDPOINT/fn/hello")
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then echo "$out" >&2; echo "wrk: errors" >&2; exit 1; fi
    stop_sofaasd  # everything queued is written
    calls=$(awk '/requests in/ {print $1}' <<<"$out")
    ledger_after=$(bytes_of "$data/billing") logs_after=$(bytes_of "$data/logs")
    read -r r lb gb < <(awk -v r="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" -v n="$calls" \
        -v l=$((ledger_after - ledger_before)) -v g=$((logs_after - logs_before)) \
        'BEGIN { printf "%.0f %.1f %.1f\n", r, l / n, g / n }')
    echo "$side req/s $r  calls $calls  bytes per call: ledger $lb, logs $gb"
    rps[$side]+=" $r" ledger_per_call[$side]+=" $lb" logs_per_call[$side]+=" $gb"
    rm -rf "$SOFAASD_WORK"
}

for round in $(seq 1 "$ROUNDS"); do
    run A
    run B
done
for side in A B; do
    echo "$side median req/s $(median ${rps[$side]}), bytes per call: ledger $(median ${ledger_per_call[$side]}), logs $(median ${logs_per_call[$side]})"
done
awk -v a="$(median ${rps[A]})" -v b="$(median ${rps[B]})" 'BEGIN { printf "B/A req/s %.3f\n", b / a }'
