#!/usr/bin/env bash
# Static file throughput: sofaasd serving the files of a deployed site beside nginx serving
# the same bytes, in the same run, under the same load generator as the rest of bench/
# (`wrk -t1 -c32`). Five cases: a 1 KiB index.html and a 100 KiB script with a hashed name,
# each as it is and with `Accept-Encoding: gzip` (both servers answer with the .gz copy
# shipped beside it), and a revalidation of the script that is answered 304 (each server
# asked with the ETag it gave). Per case, each round runs sofaasd, nginx, nginx, sofaasd
# (then the other way round), so that whatever favours a run's place in the round falls
# on both. Prints per round the req/s of each and their ratio, then a table of the median
# req/s and the median ratio per case (target: >= 0.7), and the load average before and
# after (the machine may be shared: the ratios are what compare).
#
#   bench/static_pairs.sh [ROUNDS=4] [DURATION=5s] [IO_THREADS=auto]
#
# Both as they ship: sofaasd with io_threads "auto" (half the cores; IO_THREADS=2 on 2 cores
# gives it as many threads as nginx has workers), nginx with Debian's worker_processes auto
# (one per core), sendfile and gzip_static on. Beside req/s, each server's CPU time per
# request (all its threads or processes), which a busy machine changes less than req/s. Builds build-release/
# (Release); installs Debian's nginx and wrk when they are not there.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-4} DURATION=${2:-5s} IO_THREADS=${3:-auto}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then apt-get -o DPkg::Lock::Timeout=300 install -y "${missing[@]}" >/dev/null; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target sofaasd sofaas sofaas-worker >/dev/null

source "$ROOT/bench/daemon.sh"
WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/sofaas-static.XXXXXX")
NGINX_PID=""
cleanup() {
    [[ -n "$NGINX_PID" ]] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    [[ -n "${SOFAASD_PID:-}" ]] && stop_all_sofaasd
    rm -rf "$WORK"
}
trap cleanup EXIT

# The same bytes for both: a page and a script with a hashed name, as a build tool writes
# them, each with its gzip copy (the script's is a fifth of it, as for such text).
SCRIPT=app.3f2a9c1b.js
mkdir -p "$WORK/site"
awk 'BEGIN {
    srand(7)
    split("price count items total order user cart reply event context map filter reduce value key name", w, " ")
    while (n < 100 * 1024) {
        line = sprintf("export function %s_%x(%s, %s) { return %s.%s(%d, %s.%s.map(x => x.%s * %d)); }\n",
                       w[int(rand() * 16) + 1], int(rand() * 1e8), w[int(rand() * 16) + 1], w[int(rand() * 16) + 1],
                       w[int(rand() * 16) + 1], w[int(rand() * 16) + 1], int(rand() * 6000), w[int(rand() * 16) + 1],
                       w[int(rand() * 16) + 1], w[int(rand() * 16) + 1], int(rand() * 1000))
        n += length(line)
        printf "%s", line
    }
}' >"$WORK/site/$SCRIPT"
{
    echo '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Orders</title>'
    echo "<script type=\"module\" src=\"/$SCRIPT\"></script></head><body><main id=\"app\">"
    for i in $(seq 1 40); do echo "<p class=\"row\">Order $i is on its way.</p>"; done
    echo '</main></body></html>'
} >"$WORK/site/index.html"
truncate -s $((100 * 1024)) "$WORK/site/$SCRIPT"
truncate -s 1024 "$WORK/site/index.html"
gzip -9 -k "$WORK/site/$SCRIPT" "$WORK/site/index.html"

[[ "$IO_THREADS" == auto ]] && threads='"auto"' || threads=$IO_THREADS
start_sofaasd "{\"io_threads\": $threads}"
"$BUILD/bin/sofaas" site deploy bench "$WORK/site" >/dev/null

NGINX_PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    gzip_static on;
    types { text/javascript js; text/html html; }
    client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK;
    uwsgi_temp_path $WORK; scgi_temp_path $WORK;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/site;
        etag on;
    }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/index.html" && break; sleep 0.02; done

declare -A base=([sofaasd]="$SOFAAS_ENDPOINT" [nginx]="http://127.0.0.1:$NGINX_PORT")
etag_of() { # SERVER PATH: the ETag the server gives for PATH
    curl -sfI "${base[$1]}$2" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}'
}
# Each case: its name, path, request header ("" for none) and what must come back: the
# file whose bytes are the body, or 304.
cases=(small small-gzip large large-gzip revalidate)
declare -A name=([small]="index.html, 1 KiB" [small-gzip]="index.html, 1 KiB, gzip accepted"
    [large]="script, 100 KiB" [large-gzip]="script, 100 KiB, gzip accepted" [revalidate]="script, If-None-Match: 304")
declare -A path=([small]=/index.html [small-gzip]=/index.html [large]=/$SCRIPT [large-gzip]=/$SCRIPT [revalidate]=/$SCRIPT)
declare -A expect=([small]=index.html [small-gzip]=index.html.gz [large]=$SCRIPT [large-gzip]=$SCRIPT.gz [revalidate]=304)
header_for() { # CASE SERVER
    case $1 in
    *-gzip) echo "Accept-Encoding: gzip" ;;
    revalidate) echo "If-None-Match: $(etag_of "$2" "${path[$1]}")" ;;
    *) echo "" ;;
    esac
}

declare -A header=()
with_header() { # CASE SERVER COMMAND...: runs COMMAND with -H HEADER, if the case has one
    local c=$1 server=$2
    shift 2
    if [[ -n "${header[$c.$server]}" ]]; then "$@" -H "${header[$c.$server]}"; else "$@"; fi
}
for c in "${cases[@]}"; do
    for server in sofaasd nginx; do
        header[$c.$server]=$(header_for "$c" "$server")
        url="${base[$server]}${path[$c]}"
        status=$(with_header "$c" "$server" curl -s -o "$WORK/got" -w '%{http_code}' "$url")
        if [[ "${expect[$c]}" == 304 ]]; then
            [[ "$status" == 304 ]] || { echo "$server answers $c with $status, not 304" >&2; exit 1; }
        elif [[ "$status" != 200 ]] || ! cmp -s "$WORK/got" "$WORK/site/${expect[$c]}"; then
            echo "$server answers $c with $status and other bytes than ${expect[$c]}" >&2
            exit 1
        fi
    done
done

# median VALUE...: printed as a count (no decimals) from 100 up, else with two decimals.
median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf(m >= 100 ? "%.0f\n" : "%.2f\n", m) }'
}
# CPU time the server's processes spent (clock ticks, all threads): sofaasd, or nginx's
# master and workers. Per request, it is what the shared machine cannot blur.
cpu_ticks() { # SERVER
    local pids=$SOFAASD_PID
    [[ $1 == nginx ]] && pids="$NGINX_PID $(pgrep -d' ' -P "$NGINX_PID")"
    for pid in $pids; do cat "/proc/$pid/stat"; done | awk '{ticks += $14 + $15} END {print ticks}'
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))
declare -A requests=([sofaasd]=0 [nginx]=0) seconds=([sofaasd]=0 [nginx]=0) ticks=([sofaasd]=0 [nginx]=0)
run() { # CASE SERVER DURATION: adds to requests, seconds and ticks of SERVER
    local out before
    before=$(cpu_ticks "$2")
    out=$(with_header "$1" "$2" wrk -t1 -c32 -d"$3" "${base[$2]}${path[$1]}")
    ticks[$2]=$((ticks[$2] + $(cpu_ticks "$2") - before))
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then echo "$out" >&2; echo "wrk: errors on $2" >&2; exit 1; fi
    requests[$2]=$((requests[$2] + $(awk '/requests in/ {print $1}' <<<"$out")))
    seconds[$2]=$(awk -v s="${seconds[$2]}" '/requests in/ {sub(/s,$/, "", $4); print s + $4}' <<<"$out")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "wrk -t1 -c32 -d$DURATION, $ROUNDS rounds per case, $(nproc) cores, sofaasd io_threads $IO_THREADS," \
    "nginx $(pgrep -c -P "$NGINX_PID") workers, load average $load_before"
declare -A summary=()
for c in "${cases[@]}"; do
    for server in sofaasd nginx; do run "$c" "$server" 1s; done  # warm-up: files in memory, connections made
    ratios=() all_sofaasd=() all_nginx=() cpu_sofaasd=() cpu_nginx=()
    for round in $(seq 1 "$ROUNDS"); do
        order=(sofaasd nginx nginx sofaasd); ((round % 2 == 0)) && order=(nginx sofaasd sofaasd nginx)
        requests=([sofaasd]=0 [nginx]=0) seconds=([sofaasd]=0 [nginx]=0) ticks=([sofaasd]=0 [nginx]=0)
        for server in "${order[@]}"; do run "$c" "$server" "$DURATION"; done
        read -r ours theirs ratio our_cpu their_cpu < <(awk -v rs="${requests[sofaasd]}" -v ss="${seconds[sofaasd]}" \
            -v rn="${requests[nginx]}" -v sn="${seconds[nginx]}" -v ts="${ticks[sofaasd]}" -v tn="${ticks[nginx]}" \
            -v us="$TICK_US" 'BEGIN {
            s = rs / ss; n = rn / sn; printf "%.0f %.0f %.2f %.1f %.1f\n", s, n, s / n, ts * us / rs, tn * us / rn }')
        echo "${name[$c]}: round $round req/s sofaasd $ours nginx $theirs (ratio $ratio)," \
            "CPU us per request sofaasd $our_cpu nginx $their_cpu"
        ratios+=("$ratio") all_sofaasd+=("$ours") all_nginx+=("$theirs") cpu_sofaasd+=("$our_cpu") cpu_nginx+=("$their_cpu")
    done
    summary[$c]="$(median "${all_sofaasd[@]}") | $(median "${all_nginx[@]}") | $(median "${ratios[@]}")"
    summary[$c]+=" | $(median "${cpu_sofaasd[@]}") | $(median "${cpu_nginx[@]}")"
done

echo
echo "| case | sofaasd req/s | nginx req/s | sofaasd/nginx | sofaasd CPU us/request | nginx CPU us/request |"
echo "|---|---|---|---|---|---|"
for c in "${cases[@]}"; do echo "| ${name[$c]} | ${summary[$c]} |"; done
echo "(medians of $ROUNDS rounds; load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg))"
