#!/usr/bin/env bash
# Static file throughput: sofaasd serving a file of a deployed site beside nginx serving
# the same bytes, in the same run, under the same load generator as the rest of bench/
# (`wrk -t1 -c32`). Each round runs sofaasd, nginx, nginx, sofaasd (then the other way
# round), so that whatever favours a run's place in the round falls on both. Prints per
# round the req/s of each and their ratio, then the median ratio (target: >= 0.7).
#
#   bench/static_pairs.sh [ROUNDS=6] [DURATION=5s] [SIZE_BYTES=16384]
# Both as they ship: sofaasd with io_threads "auto" (half the cores), nginx with Debian's
# worker_processes auto (one per core) and sendfile on. Uses build-release/ (built here
# if missing); installs Debian's nginx and wrk when they are not there.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-6} DURATION=${2:-5s} SIZE=${3:-16384}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then apt-get -o DPkg::Lock::Timeout=300 install -y "${missing[@]}" >/dev/null; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x "$BUILD/bin/sofaasd" || ! -x "$BUILD/bin/sofaas" ]]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j2 --target sofaasd sofaas sofaas-worker >/dev/null
fi

source "$ROOT/bench/daemon.sh"
WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/sofaas-static.XXXXXX")
NGINX_PID=""
cleanup() {
    [[ -n "$NGINX_PID" ]] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    stop_all_sofaasd
    rm -rf "$WORK"
}
trap cleanup EXIT

# The same bytes for both: a script with a hashed name, as a build tool writes it.
mkdir -p "$WORK/site"
head -c "$SIZE" /dev/urandom | base64 -w 76 | head -c "$SIZE" >"$WORK/site/app.3f2a9c1b.js"
echo '<!doctype html><script src="app.3f2a9c1b.js"></script>' >"$WORK/site/index.html"

start_sofaasd '{}'
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

declare -A url=([sofaasd]="$SOFAAS_ENDPOINT/app.3f2a9c1b.js" [nginx]="http://127.0.0.1:$NGINX_PORT/app.3f2a9c1b.js")
for server in sofaasd nginx; do
    body=$(curl -sf "${url[$server]}" | sha256sum)
    [[ "$body" == "$(sha256sum <"$WORK/site/app.3f2a9c1b.js")" ]] || { echo "$server serves other bytes" >&2; exit 1; }
    wrk -t1 -c32 -d1s "${url[$server]}" >/dev/null  # warm-up: the file in memory, connections made
done

declare -A requests=() seconds=()
run() { # SERVER: adds to requests and seconds of SERVER
    local out
    out=$(wrk -t1 -c32 -d"$DURATION" "${url[$1]}")
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then echo "$out" >&2; echo "wrk: errors on $1" >&2; exit 1; fi
    requests[$1]=$((requests[$1] + $(awk '/requests in/ {print $1}' <<<"$out")))
    seconds[$1]=$(awk -v s="${seconds[$1]}" '/requests in/ {sub(/s,$/, "", $4); print s + $4}' <<<"$out")
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

echo "static file of $SIZE bytes, wrk -t1 -c32 -d$DURATION, $ROUNDS rounds ($(nproc) cores)"
ratios=() all_sofaasd=() all_nginx=()
for round in $(seq 1 "$ROUNDS"); do
    order=(sofaasd nginx nginx sofaasd); ((round % 2 == 0)) && order=(nginx sofaasd sofaasd nginx)
    requests=([sofaasd]=0 [nginx]=0) seconds=([sofaasd]=0 [nginx]=0)
    for server in "${order[@]}"; do run "$server"; done
    read -r ours theirs ratio < <(awk -v rs="${requests[sofaasd]}" -v ss="${seconds[sofaasd]}" \
        -v rn="${requests[nginx]}" -v sn="${seconds[nginx]}" 'BEGIN {
        s = rs / ss; n = rn / sn; printf "%.0f %.0f %.3f\n", s, n, s / n }')
    echo "round $round req/s sofaasd $ours nginx $theirs (ratio $ratio)"
    ratios+=("$ratio") all_sofaasd+=("$ours") all_nginx+=("$theirs")
done
echo "median of $ROUNDS rounds: sofaasd $(median "${all_sofaasd[@]}") req/s, nginx $(median "${all_nginx[@]}") req/s, sofaasd/nginx $(median "${ratios[@]}")"
