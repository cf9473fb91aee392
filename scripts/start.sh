#!/usr/bin/env bash
# README command 1: installs what is missing, builds, starts sofaasd on 127.0.0.1:8080 in
# the background (data in ./data, log in data/sofaasd.log, pid in data/sofaasd.pid),
# deploys every example function and shows what to try. scripts/stop.sh stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Only what runs here: sofaasd, sofaas-worker, sofaas and the example functions, not the
# tests (scripts/test.sh builds those).
scripts/build.sh sofaas_runtime

data_dir=data
log_file=$data_dir/sofaasd.log
pid_file=$data_dir/sofaasd.pid
listen=127.0.0.1:8080
mkdir -p "$data_dir"

if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "sofaasd is already running (pid $(cat "$pid_file")); scripts/stop.sh stops it"
    exit 0
fi

config_args=()
[ -f config/sofaasd.json ] && config_args=(--config config/sofaasd.json)

# setsid: the daemon outlives this script and the terminal it ran in.
log_start=$(stat -c %s "$log_file" 2>/dev/null || echo 0)
setsid build/bin/sofaasd "${config_args[@]}" --listen "$listen" --data-dir "$data_dir" \
    >>"$log_file" 2>&1 </dev/null &
echo $! >"$pid_file"

for _ in $(seq 1 100); do
    if tail -c +"$((log_start + 1))" "$log_file" | grep -q "listening on"; then
        break
    fi
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        echo "sofaasd exited; the end of $log_file:" >&2
        tail -n 20 "$log_file" >&2
        rm -f "$pid_file"
        exit 1
    fi
    sleep 0.1
done
if ! tail -c +"$((log_start + 1))" "$log_file" | grep -q "listening on"; then
    echo "sofaasd did not start listening within 10 s; see $log_file" >&2
    exit 1
fi
echo "sofaasd is running on http://$listen (pid $(cat "$pid_file"), log $log_file)"

# The CLI finds the token in ./data/admin.token, unless the daemon took it from the
# environment.
if [ -n "${SOFAAS_ADMIN_TOKEN:-}" ] && [ -z "${SOFAAS_TOKEN:-}" ]; then
    export SOFAAS_TOKEN=$SOFAAS_ADMIN_TOKEN
fi
export SOFAAS_ENDPOINT=http://$listen

sofaas=build/bin/sofaas
for fn in hello c-hello echo sleep crash hog logger; do
    "$sofaas" deploy "$fn" "build/functions/$fn.so"
done
"$sofaas" deploy http-api build/functions/http-api.so --route 'GET /items/{id}' --route 'POST /items'
# Built where cargo is (scripts/install-deps.sh installs it).
if [ -f build/functions/hello-rust.so ]; then
    "$sofaas" deploy hello-rust build/functions/hello-rust.so
fi

cat <<TRY

Try this:
  build/bin/sofaas invoke hello --data sofaas
  curl -H "Authorization: Bearer \$(cat data/admin.token)" -d curl http://$listen/v1/functions/hello/invoke
  curl http://$listen/items/42
  curl -X POST http://$listen/items -d '{"name":"pen"}'
  curl http://$listen/fn/echo/any/path?x=1
  build/bin/sofaas invoke sleep --data 5000      # times out after 3 s
  build/bin/sofaas billing
  build/bin/sofaas logs hello
  http://$listen/ui/                             # the dashboard: sign in with data/admin.token

Stop it with scripts/stop.sh
TRY
