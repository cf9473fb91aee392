#!/usr/bin/env bash
# The warm path's cost per request, the measure bench/NOTES.md quotes for each change:
# a fresh Release sofaasd, `hello` with 32 warm workers, a 1 s wrk warm-up, then
# `wrk -t1 -c32 --latency` for DURATION. Prints req/s, p50/p99, and CPU microseconds per
# request of sofaasd and of its workers (schedstat) and of the whole machine (/proc/stat),
# and sofaasd's
# context switches per request. Compare runs made back to back, alternating: the machine
# is shared.
#
#   bench/warm_cost.sh [DURATION=5s] [CONFIG_JSON_FIELDS]     e.g. '"io_threads": 1'
# SOFAASD=PATH runs another sofaasd binary (an A/B pair); WARM_COST_BUILD=DIR another
# build; WARM_COST_TMP=DIR puts the data directory elsewhere (e.g. /dev/shm);
# WARM_COST_PATH=/healthz measures another path; WARM_COST_LAMBDA=1 measures the Lambda
# API's Invoke of hello instead, SigV4-signed (bench/lambda_invoke.lua, body {});
# WARM_COST_PERF=FILE also records a perf profile of sofaasd into FILE (perf record
# options in WARM_COST_PERF_ARGS, default -g -e cpu-clock); WARM_COST_SYSCALLS=1 also
# prints sofaasd's system calls per request (perf stat; it slows the run, so its req/s is
# not comparable); WARM_COST_MALLOCS=1 also prints sofaasd's malloc calls per request
# (perf stat on a uprobe on glibc's malloc, which it adds once; slower still).
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="${WARM_COST_BUILD:-$ROOT/build-release}"
DURATION=${1:-5s}
BENCH_TMP=${WARM_COST_TMP:-/tmp}
source "$ROOT/bench/daemon.sh"
trap stop_all_sofaasd EXIT
start_sofaasd "{${2:-}}"
DAEMON=$SOFAASD_PID address=$SOFAASD_ADDRESS
deploy_hello 32
wrk -t1 -c32 -d1s "http://$address/fn/hello" >/dev/null
[[ -n "${WARM_COST_LAMBDA:-}" ]] && sign_lambda_invoke hello '{}' >"$SOFAASD_WORK/lambda-headers"
sleep 0.3

# Time on CPU in ns, from schedstat (exact; the tick-sampled utime/stime miss workers that
# run a few microseconds at a time). sofaasd: every thread. A worker is one thread, and its
# task directory is not listable once it runs as a user of its own: its /proc/PID/schedstat.
cpu_ns() {
    local file ns rest total=0
    for file in "$@"; do
        [[ -r $file ]] && read -r ns rest <"$file" 2>/dev/null && total=$((total + ns))
    done
    echo $total
}
switches() {
    local file total=0
    for file in /proc/"$DAEMON"/task/*/status; do
        total=$((total + $(awk '/ctxt_switches/ {n += $2} END {print n + 0}' "$file" 2>/dev/null || echo 0)))
    done
    echo $total
}
machine() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# Workers are sofaasd's children; one started during the run counts from 0.
declare -A worker_start
for pid in $(pgrep -P "$DAEMON"); do worker_start[$pid]=$(cpu_ns /proc/"$pid"/schedstat); done
d0=$(cpu_ns /proc/"$DAEMON"/task/*/schedstat); s0=$(switches); m0=$(machine)
if [[ -n "${WARM_COST_PERF:-}" ]]; then
    # Profile sofaasd during the run: WARM_COST_PERF=perf.data bench/warm_cost.sh
    perf record -q ${WARM_COST_PERF_ARGS:--g -e cpu-clock} -p "$DAEMON" -o "$WARM_COST_PERF" 2>/dev/null &
    PERF=$!
    sleep 0.2
fi
if [[ -n "${WARM_COST_SYSCALLS:-}" ]]; then
    perf stat -e 'raw_syscalls:sys_enter' -e 'syscalls:sys_enter_*' -p "$DAEMON" -o "$SOFAASD_WORK/syscalls" 2>/dev/null &
    STAT=$!
    sleep 0.2
fi
if [[ -n "${WARM_COST_MALLOCS:-}" ]]; then
    libc=$(ldd "${SOFAASD:-$BUILD/bin/sofaasd}" | awk '/libc\.so/ {print $3}')
    perf probe -l 2>/dev/null | grep -q 'probe_libc:malloc ' || perf probe -q -x "$libc" malloc
    perf stat -x, -e probe_libc:malloc -p "$DAEMON" -o "$SOFAASD_WORK/mallocs" 2>/dev/null &
    MALLOCS=$!
    sleep 0.2
fi
if [[ -n "${WARM_COST_LAMBDA:-}" ]]; then
    out=$(LAMBDA_INVOKE_HEADERS="$SOFAASD_WORK/lambda-headers" LAMBDA_INVOKE_BODY='{}' wrk -t1 -c32 -d"$DURATION" \
        --latency -s "$ROOT/bench/lambda_invoke.lua" "http://$address/2015-03-31/functions/hello/invocations")
    grep -qE 'Non-2|Socket errors' <<<"$out" && { echo "$out" >&2; exit 1; }
else
    out=$(wrk -t1 -c32 -d"$DURATION" --latency "http://$address${WARM_COST_PATH:-/fn/hello}")
fi
if [[ -n "${WARM_COST_SYSCALLS:-}" ]]; then kill -INT $STAT; wait $STAT || true; fi
if [[ -n "${WARM_COST_MALLOCS:-}" ]]; then kill -INT $MALLOCS; wait $MALLOCS || true; fi
if [[ -n "${WARM_COST_PERF:-}" ]]; then kill -INT $PERF; wait $PERF || true; fi
d1=$(cpu_ns /proc/"$DAEMON"/task/*/schedstat); s1=$(switches); m1=$(machine)
workers_ns=0
for pid in $(pgrep -P "$DAEMON"); do
    workers_ns=$((workers_ns + $(cpu_ns /proc/"$pid"/schedstat) - ${worker_start[$pid]:-0}))
done

requests=$(awk '/requests in/ {print $1}' <<<"$out")
us_per_request() { echo $(( ($1) / 1000 / requests )); }
ticks_us_per_request() { echo $(( ($1) * 1000000 / $(getconf CLK_TCK) / requests )); }
echo "req_per_s $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
echo "latency_p50 $(awk '$1 == "50%" {print $2}' <<<"$out")"
echo "latency_p99 $(awk '$1 == "99%" {print $2}' <<<"$out")"
echo "sofaasd_us_per_request $(us_per_request "d1 - d0")"
echo "workers_us_per_request $(us_per_request "workers_ns")"
echo "machine_us_per_request $(ticks_us_per_request "m1 - m0")"
echo "sofaasd_switches_per_request $(awk -v n=$((s1 - s0)) -v r="$requests" 'BEGIN {printf "%.2f", n / r}')"
if [[ -n "${WARM_COST_SYSCALLS:-}" ]]; then
    # Every system call sofaasd made at least once per 20 requests, per request.
    awk -v n="$requests" '$1 ~ /^[0-9,]+$/ { gsub(",", "", $1); if ($1 > n / 20) printf "syscalls_%s %.2f\n", $2, $1 / n }' \
        "$SOFAASD_WORK/syscalls" | sed 's/syscalls:sys_enter_//; s/raw_syscalls:sys_enter/all/' | sort -k2 -rn
fi
if [[ -n "${WARM_COST_MALLOCS:-}" ]]; then
    awk -F, -v n="$requests" '/probe_libc:malloc/ {printf "sofaasd_mallocs_per_request %.2f\n", $1 / n}' "$SOFAASD_WORK/mallocs"
fi
