# Sourced by the bench scripts that need PostgreSQL: a server of Debian's PostgreSQL 15 in
# a temp directory, on a unix socket only, with its durable defaults (fsync and
# synchronous_commit on), run as the postgres user when the script is root (the server
# refuses root).
#
#   start_bench_postgres        starts it; sets BENCH_PG (its directory)
#   stop_bench_postgres         stops it and removes its directory
#   bench_pg_url DATABASE       the URL a sofaasd "store" takes
#   bench_pg_psql ARGS...       psql on the server, as its superuser
PG_BIN=/usr/lib/postgresql/15/bin

as_pg_server() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }

start_bench_postgres() {
    BENCH_PG=$(mktemp -d /tmp/sofaas-bench-pg.XXXXXX)
    ((EUID == 0)) && chown postgres "$BENCH_PG"
    as_pg_server "$PG_BIN/initdb" -D "$BENCH_PG/data" -U sofaas --auth=trust -E UTF8 --locale=C >/dev/null
    as_pg_server "$PG_BIN/pg_ctl" -D "$BENCH_PG/data" -l "$BENCH_PG/server.log" -w \
        -o "-c listen_addresses= -c unix_socket_directories=$BENCH_PG -p 5432" start >/dev/null
}

stop_bench_postgres() {
    [[ -n "${BENCH_PG:-}" ]] || return 0
    as_pg_server "$PG_BIN/pg_ctl" -D "$BENCH_PG/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$BENCH_PG"
}

bench_pg_url() { echo "postgresql:///$1?host=$BENCH_PG&port=5432&user=sofaas"; }

bench_pg_psql() { as_pg_server "$PG_BIN/psql" -q "$(bench_pg_url postgres)" "$@"; }
