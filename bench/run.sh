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
COLD_SAMPLES=200 BURST=1000 DEADLINE_SAMPLES=50 WARM_WORKERS=1000 MANY=10000 BACKLOG=1000000
if [[ "${1:-}" == "--quick" ]]; then
    RUNS=1 DURATION=3s COLD_SAMPLES=50 BURST=200 DEADLINE_SAMPLES=10 WARM_WORKERS=100 MANY=500 BACKLOG=50000
fi

"$ROOT/scripts/install-deps.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then apt-get install -y "${missing[@]}"; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target sofaasd sofaas-worker sofaas_functions sofaas_fixtures sofaas-bench handoff-floor gateway-floor fork-floor metrics-record >/dev/null
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
# non-2xx answer or socket error (and on any answer but 202 with bench/async_invoke.lua, and
# any but a 200 with the function's output with bench/lambda_invoke.lua).
wrk_point() {
    local rps=() p50=() p99=()
    for _ in $(seq 1 $RUNS); do
        local out
        out=$(wrk -t1 -c$CONNECTIONS -d$DURATION --latency ${2:+-s "$2"} "$1")
        if grep -qE 'Non-2xx|Non-20[02]|Socket errors' <<<"$out"; then echo "$out" >&2; echo "wrk: errors on $1" >&2; exit 1; fi
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
# Lambda API invokes, signed once (sign_lambda_invoke, bench/daemon.sh) and replayed.
LAMBDA_LUA="$ROOT/bench/lambda_invoke.lua"
ledger_lines() { cat "$1"/billing/*.jsonl 2>/dev/null | wc -l; }
ASYNC_LUA="$ROOT/bench/async_invoke.lua"  # asynchronous invokes; reads $SOFAAS_TOKEN
queue_depth() { # NAME: events of NAME waiting in the last daemon started
    curl -sf -H "Authorization: Bearer $SOFAAS_TOKEN" "$SOFAAS_ENDPOINT/v1/functions/$1/queue" |
        grep -o '"events":[0-9]*' | cut -d: -f2
}
wait_drained() { # NAME: waits (up to 10 minutes) until no event of NAME waits; prints the seconds
    local start=$(date +%s%N)
    for _ in $(seq 1 6000); do
        [[ "$(queue_depth "$1")" == 0 ]] && { awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }'; return; }
        sleep 0.1
    done
    echo "the queue of $1 did not drain" >&2; exit 1
}

declare -A R
put() { R[$1]=$2; }
collect() { while read -r key value; do R[$key]=$value; done; }

echo "== 1, 2: warm throughput and latency (wrk -t1 -c$CONNECTIONS -d$DURATION, median of $RUNS)" >&2
start_sofaasd '{}' "$WORK/data"  # the shipped defaults, ledger fsync window included
deploy hello "$BUILD/functions/hello.so" "min_warm=2"
read -r R[fn_rps] R[fn_p50] R[fn_p99] < <(wrk_point "$SOFAAS_ENDPOINT/fn/hello")
read -r R[invoke_rps] R[invoke_p50] R[invoke_p99] < <(wrk_point "$SOFAAS_ENDPOINT/v1/functions/hello/invoke" "$WORK/invoke.lua")
sign_lambda_invoke hello '{}' >"$WORK/lambda-headers"
read -r R[lambda_rps] R[lambda_p50] R[lambda_p99] < <(LAMBDA_INVOKE_HEADERS="$WORK/lambda-headers" LAMBDA_INVOKE_BODY='{}' \
    wrk_point "$SOFAAS_ENDPOINT/2015-03-31/functions/hello/invocations" "$LAMBDA_LUA")
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

echo "== 11: this build vs ${BENCH_BEFORE:=491ed70}: warm throughput and bytes written per call (alternating runs)" >&2
# bench/build_pairs.sh builds BENCH_BEFORE (a commit or a build directory) once, then runs
# the two builds in turns; 491ed70 is the last commit that stored START / END / REPORT.
pairs=$("$ROOT/bench/build_pairs.sh" "$BENCH_BEFORE" "$BUILD" "$RUNS" "$DURATION")
echo "$pairs" >&2
for side in A B; do
    read -r R[pairs_${side}_rps] R[pairs_${side}_ledger] R[pairs_${side}_logs] < <(awk -v side=$side \
        '$1 == side && $2 == "median" { gsub(",", ""); print $4, $9, $11 }' <<<"$pairs")
done

echo "== 10: metrics counting on vs off (alternating, median of $RUNS each)" >&2
# Two daemons side by side, taking turns; bench/metrics_pairs.sh runs more rounds.
declare -A metrics_address=() metrics_rps=([on]="" [off]="")
metrics_pids=()
for mode in on off; do
    config='{}'; [[ $mode == off ]] && config='{"metrics": {"enabled": false}}'
    start_sofaasd "$config"
    deploy hello "$BUILD/functions/hello.so" "min_warm=2"
    metrics_address[$mode]=$SOFAASD_ADDRESS metrics_pids+=("$SOFAASD_PID")
    wrk -t1 -c$CONNECTIONS -d1s "$SOFAAS_ENDPOINT/fn/hello" >/dev/null
done
for run in $(seq 1 $RUNS); do
    for mode in on off; do
        out=$(wrk -t1 -c$CONNECTIONS -d$DURATION "http://${metrics_address[$mode]}/fn/hello")
        metrics_rps[$mode]+=" $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    done
done
R[metrics_series]=$(curl -sf -H "Authorization: Bearer $SOFAAS_TOKEN" "http://${metrics_address[on]}/metrics" | grep -vc '^#')
stop_sofaasd "${metrics_pids[@]}"
for mode in on off; do R[metrics_${mode}_rps]=$(median ${metrics_rps[$mode]}); done
collect < <("$BUILD/bin/metrics-record")

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

echo "== 9: queued events (asynchronous invokes of hello; a backlog of $BACKLOG)" >&2
# Enqueue rate: wrk as in scenario 1, every answer a 202, while the dispatcher runs the
# events. Each run starts on an empty queue: the queue drains between runs, and how fast
# it drains is a figure of its own (events left when wrk stops / seconds to run them).
start_sofaasd '{}' "$WORK/events-rate"
deploy hello "$BUILD/functions/hello.so" "min_warm=2"
enqueue_rps=() enqueue_p50=() enqueue_p99=() drain_rps=()
for _ in $(seq 1 $RUNS); do
    read -r r a b < <(RUNS=1 wrk_point "$SOFAAS_ENDPOINT/v1/functions/hello/invoke" "$ASYNC_LUA")
    enqueue_rps+=("$r") enqueue_p50+=("$a") enqueue_p99+=("$b")
    left=$(queue_depth hello)
    drained_s=$(wait_drained hello)
    drain_rps+=("$(awk -v n="$left" -v s="$drained_s" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')")
done
R[enqueue_rps]=$(median "${enqueue_rps[@]}") R[enqueue_p50]=$(median "${enqueue_p50[@]}") R[enqueue_p99]=$(median "${enqueue_p99[@]}")
R[drain_rps]=$(median "${drain_rps[@]}")
stop_sofaasd
# From the 202 to the start of the run, at half that rate, on a fresh daemon.
start_sofaasd '{}' "$WORK/events-latency"
deploy hello "$BUILD/functions/hello.so" "min_warm=2"
out=$("$BENCH" async-latency --function hello --rate "$(awk -v r="${R[enqueue_rps]}" 'BEGIN { printf "%d", r / 2 }')" \
    --seconds "${DURATION%s}" --connections $((CONNECTIONS / 2)))
collect <<<"$out"
stop_sofaasd
# A backlog: sleep 1 s with max_concurrency 1 runs one event a second, so the queue only
# grows. Enqueued as fast as wrk can (its main thread sleeps for all of -d: the script's
# marker file says when the count is reached), held, then dropped with the function.
start_sofaasd '{}' "$WORK/events-backlog"
deploy backlog "$BUILD/functions/sleep.so" "max_concurrency=1"
sleep 1
R[backlog_rss_before_kib]=$(rss_kib "$SOFAASD_PID")
rm -f "$WORK/backlog.done"
start=$(date +%s%N)
EVENT_COUNT=$BACKLOG EVENT_COUNT_DONE="$WORK/backlog.done" EVENT_PAYLOAD=1000 \
    wrk -t1 -c$CONNECTIONS -d3600s -s "$ASYNC_LUA" "$SOFAAS_ENDPOINT/v1/functions/backlog/invoke" >"$WORK/backlog.out" &
wrk_pid=$!
while [[ ! -e "$WORK/backlog.done" ]] && kill -0 $wrk_pid 2>/dev/null; do sleep 0.05; done
R[backlog_s]=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
kill -INT $wrk_pid 2>/dev/null || true
wait $wrk_pid || true
if [[ ! -e "$WORK/backlog.done" ]] || grep -qE 'Non-2xx|Non-202|Socket errors' "$WORK/backlog.out"; then
    cat "$WORK/backlog.out" >&2; echo "wrk: the backlog was not enqueued" >&2; exit 1
fi
sleep 1  # the 202s wrk did not wait for
R[backlog_rss_kib]=$(rss_kib "$SOFAASD_PID")
R[backlog_disk_mib]=$(du -ck "$WORK/events-backlog"/events.db* | awk 'END { printf "%.0f", $1 / 1024 }')
start=$(date +%s%N)
R[backlog_dropped]=$(curl -sf -X DELETE -H "Authorization: Bearer $SOFAAS_TOKEN" "$SOFAAS_ENDPOINT/v1/functions/backlog" |
    grep -o '"events_dropped":[0-9]*' | cut -d: -f2)
R[backlog_delete_s]=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
R[backlog_rss_after_kib]=$(rss_kib "$SOFAASD_PID")
stop_sofaasd
R[backlog_runs]=$(cat "$WORK/events-backlog"/billing/*.jsonl 2>/dev/null | grep -c '"trigger":"async"' || true)
# Every 202 is either dropped or ran; the requests wrk left in flight may add up to one per
# connection, and the run in flight at the delete counts on both sides.
if ((R[backlog_dropped] + R[backlog_runs] < BACKLOG || R[backlog_dropped] > BACKLOG + CONNECTIONS)); then
    echo "backlog: $BACKLOG answered 202, ${R[backlog_runs]} ran, but ${R[backlog_dropped]} dropped" >&2; exit 1
fi

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
    row "1. Lambda API invoke, SigV4-signed, req/s" "${R[lambda_rps]}" "warm /fn/hello ${R[fn_rps]}" "$(ratio "${R[lambda_rps]}" "${R[fn_rps]}")"
    row "2. p50 / p99 ms (32 conns)" "${R[fn_p50]} / ${R[fn_p99]}" \
        "nginx ${R[nginx_p50]} / ${R[nginx_p99]}, two-hop ${R[proxy_p50]} / ${R[proxy_p99]}, floor + billing ${R[gwledger_p50]} / ${R[gwledger_p99]}" \
        ""
    row "2. Lambda API invoke, SigV4-signed: p50 / p99 ms ($CONNECTIONS conns)" "${R[lambda_p50]} / ${R[lambda_p99]}" \
        "warm /fn/hello ${R[fn_p50]} / ${R[fn_p99]}" ""
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
    row "10. warm /fn/hello req/s, metrics on vs off (alternating runs)" "${R[metrics_on_rps]}" "${R[metrics_off_rps]}" "$(ratio "${R[metrics_on_rps]}" "${R[metrics_off_rps]}")"
    row "10. Metrics::record alone, ns per call: one thread / two at once" "${R[record_ns_one_thread]} / ${R[record_ns_two_threads]}" "" ""
    row "10. samples in one /metrics answer after it" "${R[metrics_series]}" "" ""
    row "11. warm /fn/hello req/s, this build vs $BENCH_BEFORE (alternating runs)" "${R[pairs_B_rps]}" "${R[pairs_A_rps]}" \
        "$(ratio "${R[pairs_B_rps]}" "${R[pairs_A_rps]}")"
    row "11. bytes written per warm call: ledger + function logs, this build vs $BENCH_BEFORE" \
        "${R[pairs_B_ledger]} + ${R[pairs_B_logs]}" "${R[pairs_A_ledger]} + ${R[pairs_A_logs]}" ""
    row "9. async invoke of hello: 202s/s" "${R[enqueue_rps]}" "warm /fn/hello req/s ${R[fn_rps]}" "$(ratio "${R[enqueue_rps]}" "${R[fn_rps]}")"
    row "9. async invoke: 202 p50 / p99 ms ($CONNECTIONS conns)" "${R[enqueue_p50]} / ${R[enqueue_p99]}" "warm /fn/hello ${R[fn_p50]} / ${R[fn_p99]}" ""
    row "9. queued hello events run/s, draining what the enqueue left" "${R[drain_rps]}" "202s/s ${R[enqueue_rps]}" "$(ratio "${R[drain_rps]}" "${R[enqueue_rps]}")"
    row "9. 202 to start of run, p50 / p99 ms, at ${R[async_rate]} events/s (${R[async_sent]} events)" \
        "${R[async_start_p50_ms]} / ${R[async_start_p99_ms]}" "" ""
    row "9. backlog of $BACKLOG events: daemon RSS KiB held vs before" "${R[backlog_rss_kib]}" "${R[backlog_rss_before_kib]}" \
        "$(ratio "${R[backlog_rss_kib]}" "${R[backlog_rss_before_kib]}")"
    row "9. backlog: enqueue s, events/s, events.db* MiB" \
        "${R[backlog_s]}, $(awk -v n=$BACKLOG -v s="${R[backlog_s]}" 'BEGIN { printf "%.0f", n / s }'), ${R[backlog_disk_mib]}" "" ""
    row "9. backlog: function deleted, events_dropped (s), RSS KiB after" \
        "${R[backlog_dropped]} (${R[backlog_delete_s]} s), ${R[backlog_rss_after_kib]}" "$BACKLOG answered 202, ${R[backlog_runs]} ran" ""
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
