#!/usr/bin/env bash
# What counting /metrics costs the warm path: two daemons side by side, one with metrics
# on (the default) and one with `"metrics": {"enabled": false}`, each with `hello`
# (min_warm 2) and read at /metrics every second as Prometheus would, take turns under
# `wrk -t1 -c32`. Each round runs on, off, off, on (then off, on, on, off in the next), so
# that whatever favours a run's place in the round falls on both. Prints per round the
# req/s of each and sofaasd's CPU microseconds per request (schedstat, all its threads),
# then the medians of the rounds' on/off ratios.
#
#   bench/metrics_pairs.sh [ROUNDS=8] [DURATION=4s]
# Uses build-release/ (bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-release"
ROUNDS=${1:-8} DURATION=${2:-4s}
source "$ROOT/bench/daemon.sh"
SCRAPER=""
cleanup() {
    if [[ -n "$SCRAPER" ]]; then kill "$SCRAPER" 2>/dev/null; wait "$SCRAPER" 2>/dev/null || true; fi
    stop_all_sofaasd
}
trap cleanup EXIT

declare -A address=() pid=()
for mode in on off; do
    config='{}'; [[ $mode == off ]] && config='{"metrics": {"enabled": false}}'
    start_sofaasd "$config"
    deploy_hello 2
    address[$mode]=$SOFAASD_ADDRESS pid[$mode]=$SOFAASD_PID
done
# The scrape is part of the price (with metrics off it is a 404).
(while sleep 1; do
    for mode in on off; do curl -s -o /dev/null -H "Authorization: Bearer $SOFAAS_TOKEN" "http://${address[$mode]}/metrics"; done
done) &
SCRAPER=$!
for mode in on off; do wrk -t1 -c32 -d1s "http://${address[$mode]}/fn/hello" >/dev/null; done

cpu_ns() { # PID: CPU time of all its threads, ns
    local file ns rest total=0
    for file in /proc/"$1"/task/*/schedstat; do read -r ns rest <"$file" 2>/dev/null && total=$((total + ns)); done
    echo $total
}
declare -A requests=() seconds=() cpu=()
run() { # MODE: adds to requests, seconds and cpu of MODE
    local before out
    before=$(cpu_ns "${pid[$1]}")
    out=$(wrk -t1 -c32 -d"$DURATION" "http://${address[$1]}/fn/hello")
    cpu[$1]=$((cpu[$1] + $(cpu_ns "${pid[$1]}") - before))
    requests[$1]=$((requests[$1] + $(awk '/requests in/ {print $1}' <<<"$out")))
    seconds[$1]=$(awk -v s="${seconds[$1]}" '/requests in/ {sub(/s,$/, "", $4); print s + $4}' <<<"$out")
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

rps_ratios=() cpu_ratios=()
for round in $(seq 1 "$ROUNDS"); do
    order=(on off off on); ((round % 2 == 0)) && order=(off on on off)
    requests=([on]=0 [off]=0) seconds=([on]=0 [off]=0) cpu=([on]=0 [off]=0)
    for mode in "${order[@]}"; do run "$mode"; done
    read -r on_rps off_rps on_us off_us rps_ratio cpu_ratio < <(awk -v rn="${requests[on]}" -v sn="${seconds[on]}" \
        -v rf="${requests[off]}" -v sf="${seconds[off]}" -v cn="${cpu[on]}" -v cf="${cpu[off]}" 'BEGIN {
        on = rn / sn; off = rf / sf; un = cn / rn / 1000; uf = cf / rf / 1000
        printf "%.0f %.0f %.2f %.2f %.4f %.4f\n", on, off, un, uf, on / off, un / uf }')
    echo "round $round req/s on $on_rps off $off_rps (ratio $rps_ratio); sofaasd CPU us/request on $on_us off $off_us (ratio $cpu_ratio)"
    rps_ratios+=("$rps_ratio") cpu_ratios+=("$cpu_ratio")
done
echo "median of $ROUNDS rounds: req/s on/off $(median "${rps_ratios[@]}"), sofaasd CPU per request on/off $(median "${cpu_ratios[@]}")"
