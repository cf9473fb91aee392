#!/usr/bin/env bash
# The ledger at production volume (docs/BENCHMARKS.md, "The ledger at volume"): a synthetic
# ledger of real records in real segments (100 M records over 30 days and 1,000 functions by
# default), then its bytes per record, the rollups' rebuild, summary and --records latency,
# and the RSS of a sofaasd serving it, each beside its target.
#
#   bench/ledger_volume.sh [RECORDS]     (about 15 minutes and 6 GB of disk at 100 M)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
RECORDS=${1:-100000000}
"$ROOT/scripts/install-deps.sh" >/dev/null
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target sofaasd sofaas-worker sofaas ledger-volume >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/sofaas-ledger-volume.XXXXXX")
DAEMON_PID=""
cleanup() {
    [[ -n "$DAEMON_PID" ]] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/data/billing"

echo "targets: bytes/record <= 40 sealed, <= 150 open; summary <= 100 ms; daemon RSS <= 100 MB"
"$BUILD/bin/ledger-volume" "$WORK/data/billing" --records "$RECORDS"

# A sofaasd on that ledger: its memory once it has handed every segment to the rollups and
# answered summaries over random ranges.
PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/config.json" <<CONF
{"listen": "127.0.0.1:$PORT", "data_dir": "$WORK/data", "admin_token": "bench-token", "cgroups": "off"}
CONF
"$BUILD/bin/sofaasd" --config "$WORK/config.json" >"$WORK/sofaasd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
declare -a times=()
for i in $(seq 1 40); do
    days=$((RANDOM % 30 + 1))
    t=$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer bench-token" \
        "http://127.0.0.1:$PORT/v1/billing?since=${days}d&until=$((RANDOM % days))d")
    times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "sofaasd GET /v1/billing, random ranges: p50 %.1f ms, max %.1f ms (%d requests)\n", a[int(NR/2)+1]*1000, a[NR]*1000, NR}'
echo "sofaasd RSS with that ledger: $(awk '/^VmRSS:/ {printf "%.1f MB", $2/1024}' /proc/$DAEMON_PID/status)"
