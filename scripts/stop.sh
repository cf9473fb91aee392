#!/usr/bin/env bash
# Stops the sofaasd that scripts/start.sh started: SIGTERM, then waits for the graceful
# shutdown (in-flight invocations finish, the ledger is synced).
set -euo pipefail
cd "$(dirname "$0")/.."

pid_file=data/sofaasd.pid
if [ ! -f "$pid_file" ]; then
    echo "sofaasd is not running (no $pid_file)"
    exit 0
fi
pid=$(cat "$pid_file")
if ! kill -0 "$pid" 2>/dev/null; then
    echo "sofaasd is not running (stale $pid_file)"
    rm -f "$pid_file"
    exit 0
fi

kill -TERM "$pid"
for _ in $(seq 1 400); do
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pid_file"
        echo "sofaasd stopped"
        exit 0
    fi
    sleep 0.1
done
echo "sofaasd (pid $pid) did not stop within 40 s; see data/sofaasd.log" >&2
exit 1
