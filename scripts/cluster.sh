#!/usr/bin/env bash
# A local demo cluster (docs/CLUSTER.md): PostgreSQL in a temporary directory, three sofaasd
# nodes on 127.0.0.1:8181-8183 sharing it (their data in cluster-data/), and haproxy on
# 127.0.0.1:8180 running config/haproxy.cfg in front of them. `scripts/cluster.sh stop`
# ends it all.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$PWD/cluster-data
pg_bin=/usr/lib/postgresql/15/bin
# Outside the repository: the server runs as the postgres user, who may not enter a home.
pg_dir=${TMPDIR:-/tmp}/sofaas-cluster-postgres
lb=127.0.0.1:8180
ports=(8181 8182 8183)

# Runs a PostgreSQL program as the postgres user when this is root (the server refuses root).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_all() {
    if [ -f "$root/haproxy.pid" ]; then
        kill "$(cat "$root/haproxy.pid")" 2>/dev/null || true
        rm -f "$root/haproxy.pid"
    fi
    for port in "${ports[@]}"; do
        local pid_file=$root/node-$port/sofaasd.pid
        if [ -f "$pid_file" ]; then
            local pid
            pid=$(cat "$pid_file")
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -f "$pid_file"
        fi
    done
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
        as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null || true
    fi
    echo "cluster stopped (its data stays in $root)"
}

if [ "${1:-}" = stop ]; then
    stop_all
    exit 0
fi

scripts/install-deps.sh
scripts/build.sh sofaas_runtime
mkdir -p "$root"

# PostgreSQL: made once, then started; listening on its unix socket only.
if [ ! -d "$pg_dir/data" ]; then
    mkdir -p "$pg_dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pg_dir"
    as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U sofaas --auth=trust >/dev/null
fi
if [ ! -f "$pg_dir/data/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w \
        -o "-k $pg_dir -c listen_addresses=''" start >/dev/null
fi
as_postgres "$pg_bin/psql" -h "$pg_dir" -U sofaas -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sofaas'" |
    grep -q 1 || as_postgres "$pg_bin/createdb" -h "$pg_dir" -U sofaas sofaas
store="postgresql:///sofaas?host=$pg_dir&user=sofaas"

# Three nodes, each with its own data directory and a node id kept across restarts.
export SOFAAS_ADMIN_TOKEN=${SOFAAS_ADMIN_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
for port in "${ports[@]}"; do
    node=$root/node-$port
    mkdir -p "$node"
    if [ -f "$node/sofaasd.pid" ] && kill -0 "$(cat "$node/sofaasd.pid")" 2>/dev/null; then continue; fi
    cat >"$node/sofaasd.json" <<CONFIG
{"store": "$store", "events": {"node_id": "node-$port"}}
CONFIG
    setsid build/bin/sofaasd --config "$node/sofaasd.json" --listen "127.0.0.1:$port" --data-dir "$node/data" \
        >>"$node/sofaasd.log" 2>&1 </dev/null &
    echo $! >"$node/sofaasd.pid"
done
for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "node $port did not start; see $root/node-$port/sofaasd.log" >&2; exit 1; }
done
# The registry is the cluster's: the examples are deployed once, through one node, and
# every node serves them.
for fn in hello echo sleep; do
    SOFAAS_ENDPOINT=http://127.0.0.1:${ports[0]} SOFAAS_TOKEN=$SOFAAS_ADMIN_TOKEN build/bin/sofaas info "$fn" >/dev/null 2>&1 ||
        SOFAAS_ENDPOINT=http://127.0.0.1:${ports[0]} SOFAAS_TOKEN=$SOFAAS_ADMIN_TOKEN build/bin/sofaas deploy "$fn" "build/functions/$fn.so" >/dev/null
done

if [ ! -f "$root/haproxy.pid" ] || ! kill -0 "$(cat "$root/haproxy.pid")" 2>/dev/null; then
    SOFAAS_LB_BIND=$lb SOFAAS_LB_STATS=127.0.0.1:8184 SOFAAS_NODE1=127.0.0.1:${ports[0]} \
        SOFAAS_NODE2=127.0.0.1:${ports[1]} SOFAAS_NODE3=127.0.0.1:${ports[2]} \
        setsid haproxy -db -f config/haproxy.cfg >>"$root/haproxy.log" 2>&1 </dev/null &
    echo $! >"$root/haproxy.pid"
    sleep 2.5  # two health checks
fi

cat <<TRY
A cluster runs: haproxy on http://$lb (stats on http://127.0.0.1:8184/), nodes on ports ${ports[*]},
PostgreSQL in $pg_dir. The admin token: $SOFAAS_ADMIN_TOKEN

Try this:
  curl http://$lb/fn/hello
  export SOFAAS_ENDPOINT=http://$lb SOFAAS_TOKEN=$SOFAAS_ADMIN_TOKEN
  build/bin/sofaas invoke echo --async --data queued    # queued in PostgreSQL, run by any node
  build/bin/sofaas billing                              # the whole cluster's bill
  kill -9 \$(cat $root/node-8181/sofaasd.pid); curl http://$lb/fn/hello   # still answered
  $pg_bin/psql -h $pg_dir -U sofaas sofaas -c 'SELECT node, count(*) FROM billing_records GROUP BY node'
  scripts/cluster.sh stop
TRY
