#!/usr/bin/env bash
# The benchmark suite: builds a Release sofaas, starts it and nginx on loopback with temp
# directories, runs every scenario, prints one table with sofaas beside its reference (same
# run, same machine), writes bench/RESULTS.md, and stops everything it started.
#
#   bench/run.sh            full sizes (6-11 minutes on 2 cores)
#   bench/run.sh --quick    smaller sizes and 1 run per point, to check the suite itself
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
RUNS=3 DURATION=10s CONNECTIONS=32
COLD_SAMPLES=200 BURST=1000 DEADLINE_SAMPLES=50 WARM_WORKERS=1000 MANY=10000
if [[ "${1:-}" == "--quick" ]]; then
    RUNS=1 DURATION=3s COLD_SAMPLES=50 BURST=200 DEADLINE_SAMPLES=10 WARM_WORKERS=100 MANY=500
fi

"$ROOT/scripts/install-deps.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then apt-get install -y "${missing[@]}"; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target sofaasd sofaas-worker sofaas_functions sofaas_fixtures sofaas-bench handoff-floor gateway-floor fork-floor >/dev/null
BENCH="$BUILD/bin/sofaas-bench"

WORK=$(mktemp -d /tmp/sofaas-bench.XXXXXX)
source "$ROOT/bench/daemon.sh"
NGINX_PID="" FLOOR_PID=""
cleanup() {
    [[ -n "$FLOOR_PID" ]] && kill -TERM "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null
    stop_all_sofaasd
    [[ -n "$NGINX_PID" ]] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- sofaasd (bench/daemon.sh) ---------------------------------------------------------
deploy() { # NAME LIBRARY [QUERY]
    curl -sf -X PUT -H "Authorization: Bearer $SOFAAS_TOKEN" --data-binary @"$2" \
        "$SOFAAS_ENDPOINT/v1/functions/$1?${3:-}" >/dev/null
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# --- nginx, the reference ------------------------------------------------------------
NGINX_PORT=$((20000 + RANDOM % 20000)) PROXY_PORT=$((NGINX_PORT + 1))
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    upstream direct { server 127.0.0.1:$NGINX_PORT; keepalive 64; }
    server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 "Hello, world!"; } }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        location / { proxy_pass http://direct; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
sleep 0.5

# --- wrk -----------------------------------------------------------------------------
# wrk_point URL [LUA]: median over $RUNS runs of requests/s, p50 ms, p99 ms; fails on any
# non-2xx answer or socket error.
wrk_point() {
    local rps=() p50=() p99=()
    for _ in $(seq 1 $RUNS); do
        local out
        out=$(wrk -t1 -c$CONNECTIONS -d$DURATION --latency ${2:+-s "$2"} "$1")
        if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then echo "$out" >&2; echo "wrk: errors on $1" >&2; exit 1; fi
        read -r r a b < <(awk '
            function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
            /Requests\/sec/ { r = $2 } /^ +50%/ { a = ms($2) } /^ +99%/ { b = ms($2) }
            END { print r, a, b }' <<<"$out")
        rps+=("$r") p50+=("$a") p99+=("$b")
    done
    echo "$(median "${rps[@]}") $(median "${p50[@]}") $(median "${p99[@]}")"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
cat >"$WORK/invoke.lua" <<EOF
wrk.method = "POST"
wrk.body = "bench"
wrk.headers["Authorization"] = "Bearer $SOFAAS_TOKEN"
EOF
ledger_lines() { cat "$1"/billing/*.jsonl 2>/dev/null | wc -l; }

declare -A R
put() { R[$1]=$2; }
collect() { while read -r key value; do R[$key]=$value; done; }

echo "== 1, 2: warm throughput and latency (wrk -t1 -c$CONNECTIONS -d$DURATION, median of $RUNS)" >&2
start_sofaasd '{}' "$WORK/data"  # the shipped defaults, ledger fsync window included
deploy hello "$BUILD/functions/hello.so" "min_warm=2"
read -r R[fn_rps] R[fn_p50] R[fn_p99] < <(wrk_point "$SOFAAS_ENDPOINT/fn/hello")
read -r R[invoke_rps] R[invoke_p50] R[invoke_p99] < <(wrk_point "$SOFAAS_ENDPOINT/v1/functions/hello/invoke" "$WORK/invoke.lua")
read -r R[nginx_rps] R[nginx_p50] R[nginx_p99] < <(wrk_point "http://127.0.0.1:$NGINX_PORT/")
read -r R[proxy_rps] R[proxy_p50] R[proxy_p99] < <(wrk_point "http://127.0.0.1:$PROXY_PORT/")
# Where the warm path's time goes: sofaasd's HTTP path alone (no function), and one
# process hand-off per request alone (no HTTP), each at the same concurrency.
read -r R[healthz_rps] R[healthz_p50] R[healthz_p99] < <(wrk_point "$SOFAAS_ENDPOINT/healthz")
collect < <("$BUILD/bin/handoff-floor" $CONNECTIONS "${DURATION%s}")
# The floor of the whole warm path: HTTP plus one process hand-off per request, in C with
# epoll and nothing else (bench/gateway_floor.c); then the same with a billing line written
# before each response. Run while sofaasd idles.
gateway_floor() { # KEY [LEDGER_FILE]
    "$BUILD/bin/gateway-floor" "$(nproc)" ${2:+"$2"} >"$WORK/gateway-floor.out" &
    FLOOR_PID=$!
    for _ in $(seq 1 200); do [[ -s "$WORK/gateway-floor.out" ]] && break; sleep 0.01; done
    read -r R[$1_rps] R[$1_p50] R[$1_p99] < <(wrk_point "http://127.0.0.1:$(awk '{print $2}' "$WORK/gateway-floor.out")/")
    kill -TERM "$FLOOR_PID" && wait "$FLOOR_PID" 2>/dev/null || true
    FLOOR_PID=""
    : >"$WORK/gateway-floor.out"
}
gateway_floor gwfloor
gateway_floor gwledger "$WORK/gateway-floor.jsonl"
rm -f "$WORK/gateway-floor.jsonl"
collect < <("$BENCH" call-latency --target /fn/hello --count 500 | sed 's/^call_/hello_call_/')

echo "== 3: cold start ($COLD_SAMPLES fresh deploys, min_warm 0)" >&2
collect < <("$BUILD/bin/fork-floor" $COLD_SAMPLES | sed 's/^fork_/fork_before_/')
collect < <("$BENCH" cold-start --samples $COLD_SAMPLES --library "$BUILD/functions/hello.so")
collect < <("$BUILD/bin/fork-floor" $COLD_SAMPLES | sed 's/^fork_/fork_after_/')

echo "== 5: burst ($BURST concurrent sleep 1000 ms)" >&2
collect < <("$BENCH" burst --count $BURST --sleep-ms 1000 --library "$BUILD/functions/sleep.so")

echo "== 7: deadline precision ($DEADLINE_SAMPLES x spin, timeout 1 s; warm workers, then cold starts)" >&2
collect < <("$BENCH" deadline --workers warm --count $DEADLINE_SAMPLES --library "$BUILD/fixtures/spin.so")
collect < <("$BENCH" deadline --workers cold --count $DEADLINE_SAMPLES --library "$BUILD/fixtures/spin.so")

echo "== 4: warm footprint ($WARM_WORKERS idle hello workers)" >&2
collect < <("$BENCH" footprint --workers $WARM_WORKERS --daemon-pid "$SOFAASD_PID" --library "$BUILD/functions/hello.so")
stop_sofaasd

echo "== 8: billing cost (group fsync on vs off, alternating, median of $RUNS each)" >&2
# On and off take turns, each with a fresh daemon and ledger, so that a busy spell of the
# shared machine falls on both modes rather than on whichever ran first.
# "On" is the shipped default window; bench/fsync_pairs.sh prices other windows.
declare -A fsync_rps=([on]="" [off]="")
durable_p99=()
for mode in on off; do R[fsync_${mode}_requests]=0 R[fsync_${mode}_records]=0; done
for run in $(seq 1 $RUNS); do
    for mode in on off; do
        config='{}'; [[ $mode == off ]] && config='{"ledger_fsync_interval_ms": 0}'
        rm -rf "$WORK/ledger-$mode"
        start_sofaasd "$config" "$WORK/ledger-$mode"
        deploy hello "$BUILD/functions/hello.so" "min_warm=2"
        out=$(wrk -t1 -c$CONNECTIONS -d$DURATION "$SOFAAS_ENDPOINT/fn/hello")
        fsync_rps[$mode]+=" $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
        R[fsync_${mode}_requests]=$((R[fsync_${mode}_requests] + $(awk '/requests in/ {print $1}' <<<"$out")))
        stop_sofaasd
        R[fsync_${mode}_records]=$((R[fsync_${mode}_records] + $(ledger_lines "$WORK/ledger-$mode")))
        if [[ $mode == on ]]; then
            durable_p99+=("$(ledger_durable_p99_ms "$SOFAASD_WORK/sofaasd.log")")
            R[fsync_window_ms]=$(ledger_fsync_window_ms "$SOFAASD_WORK/sofaasd.log")
        fi
    done
done
for mode in on off; do R[fsync_${mode}_rps]=$(median ${fsync_rps[$mode]}); done
R[fsync_durable_p99_ms]=$(median "${durable_p99[@]}")

echo "== 6: many functions ($MANY deployed)" >&2
start_sofaasd '{}' "$WORK/many"
collect < <("$BENCH" deploy-many --count $MANY --library "$BUILD/functions/hello.so")
deploy hello "$BUILD/functions/hello.so"
stop_sofaasd
start_sofaasd '{}' "$WORK/many"
R[many_start_ms]=$SOFAASD_STARTUP_MS
sleep 1
R[many_rss_kib]=$(rss_kib "$SOFAASD_PID")
collect < <("$BENCH" call-latency --target "/fn/many-$((MANY / 2))" --count 500 | sed 's/^call_/many_call_/')
# The control: hello in the same daemon, so that the daemon's and the machine's state
# (10,000 deploys still being written back) fall on both.
collect < <("$BENCH" call-latency --target /fn/hello --count 500 | sed 's/^call_/many_hello_call_/')
stop_sofaasd

# --- the table -----------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
holds() { awk "BEGIN { exit !($1) }" && echo yes || echo no; }
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "${4:-}"; }
table() {
    echo "| scenario | sofaas | reference | ratio |"
    echo "|---|---|---|---|"
    row "1. warm /fn/hello req/s" "${R[fn_rps]}" "nginx direct ${R[nginx_rps]}" "$(ratio "${R[fn_rps]}" "${R[nginx_rps]}")"
    row "1. warm /fn/hello req/s" "${R[fn_rps]}" "nginx two-hop ${R[proxy_rps]}" "$(ratio "${R[fn_rps]}" "${R[proxy_rps]}")"
    row "1. sofaasd HTTP path alone (/healthz) req/s" "${R[healthz_rps]}" "nginx two-hop ${R[proxy_rps]}" "$(ratio "${R[healthz_rps]}" "${R[proxy_rps]}")"
    row "1. hand-off floor: $CONNECTIONS processes over socketpairs, round trips/s" "${R[floor_rps]}" \
        "CPU us per round trip: dispatcher ${R[floor_dispatcher_us]}, workers ${R[floor_workers_us]}" ""
    row "1. gateway floor: HTTP + one process hand-off, plain C, req/s" "${R[gwfloor_rps]}" "nginx direct ${R[nginx_rps]}, two-hop ${R[proxy_rps]}" \
        "$(ratio "${R[gwfloor_rps]}" "${R[nginx_rps]}") / $(ratio "${R[gwfloor_rps]}" "${R[proxy_rps]}"); sofaas $(ratio "${R[fn_rps]}" "${R[gwfloor_rps]}") of it"
    row "1. the same plus a billing line written before each response, req/s" "${R[gwledger_rps]}" "nginx direct ${R[nginx_rps]}, two-hop ${R[proxy_rps]}" \
        "$(ratio "${R[gwledger_rps]}" "${R[nginx_rps]}") / $(ratio "${R[gwledger_rps]}" "${R[proxy_rps]}"); sofaas $(ratio "${R[fn_rps]}" "${R[gwledger_rps]}") of it"
    row "1. control-API invoke req/s" "${R[invoke_rps]}" "nginx two-hop ${R[proxy_rps]}" "$(ratio "${R[invoke_rps]}" "${R[proxy_rps]}")"
    row "2. p50 / p99 ms (32 conns)" "${R[fn_p50]} / ${R[fn_p99]}" \
        "nginx ${R[nginx_p50]} / ${R[nginx_p99]}, two-hop ${R[proxy_p50]} / ${R[proxy_p99]}, floor + billing ${R[gwledger_p50]} / ${R[gwledger_p99]}" \
        ""
    row "2. single-connection call p50 / p99 ms" "${R[hello_call_p50_ms]} / ${R[hello_call_p99_ms]}" "" ""
    row "3. cold start e2e p50 / p99 ms" "${R[cold_p50_ms]} / ${R[cold_p99_ms]}" "AWS Lambda ~100+ ms (documented)"
    row "3. fork floor, before / after: fork + one byte back, p50 / p99 ms" \
        "${R[fork_before_p50_ms]} / ${R[fork_before_p99_ms]}; ${R[fork_after_p50_ms]} / ${R[fork_after_p99_ms]}" "" ""
    row "3. init_ms from ledger p50 / p99" "${R[init_p50_ms]} / ${R[init_p99_ms]}" "" ""
    row "4. idle warm worker PSS KiB (p50)" "${R[worker_pss_p50_kib]}" "" ""
    row "4. daemon RSS KiB with ${R[warm_workers]} warm workers" "${R[daemon_rss_kib]}" "" ""
    row "5. burst $BURST x sleep 1 s: wall ms, failures" "${R[burst_wall_ms]}, ${R[burst_failures]}" "ideal 1000 ms"
    row "6. $MANY functions: start ms" "${R[many_start_ms]}" "" ""
    row "6. $MANY functions: daemon RSS KiB" "${R[many_rss_kib]}" "" ""
    row "6. call p50 ms, one of $MANY vs only function" "${R[many_call_p50_ms]}" "${R[hello_call_p50_ms]}" \
        "$(ratio "${R[many_call_p50_ms]}" "${R[hello_call_p50_ms]}")"
    row "6. call p50 ms in that daemon, one of $MANY vs hello there" "${R[many_call_p50_ms]}" "${R[many_hello_call_p50_ms]}" \
        "$(ratio "${R[many_call_p50_ms]}" "${R[many_hello_call_p50_ms]}")"
    row "7. 504 after deadline p50 / p99 ms (warm workers; cold calls ${R[deadline_warm_cold_calls]})" \
        "${R[deadline_warm_late_p50_ms]} / ${R[deadline_warm_late_p99_ms]}" ""
    row "7. the same, every call a cold start (init_ms subtracted; fork and queueing count as late)" \
        "${R[deadline_cold_late_p50_ms]} / ${R[deadline_cold_late_p99_ms]}" "" ""
    row "8. req/s ledger fsync on (default ${R[fsync_window_ms]} ms window) vs off (alternating runs)" "${R[fsync_on_rps]}" "${R[fsync_off_rps]}" "$(ratio "${R[fsync_on_rps]}" "${R[fsync_off_rps]}")"
    row "8. records vs answered requests (on / off)" "${R[fsync_on_records]} / ${R[fsync_off_records]}" \
        "${R[fsync_on_requests]} / ${R[fsync_off_requests]}" \
        "a record for every request: $(holds "${R[fsync_on_records]} >= ${R[fsync_on_requests]} && ${R[fsync_off_records]} >= ${R[fsync_off_requests]}")"
    row "8. fsync on: billing records on disk within, p99 over group fsyncs, ms" "${R[fsync_durable_p99_ms]}" "" ""
}
TABLE=$(table)
echo "$TABLE"
{
    echo "# Benchmark results"
    echo
    echo "Command: \`bench/run.sh $*\` — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB;"
    echo "wrk, nginx and sofaasd share the cores. wrk -t1 -c$CONNECTIONS -d$DURATION --latency, median of $RUNS runs."
    echo
    echo "$TABLE"
    echo
    echo "Where the time goes: [NOTES.md](NOTES.md)."
} >"$ROOT/bench/RESULTS.md"
echo "wrote bench/RESULTS.md" >&2
