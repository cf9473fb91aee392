# Sourced by the bench scripts: sofaasd daemons on ephemeral loopback ports, each with a
# temp directory of its own (config, log, and the data directory unless one is given).
# The caller stops them: `trap stop_all_sofaasd EXIT` (or call it from its own trap).
#
#   start_sofaasd CONFIG_JSON [DATA_DIR]   sets SOFAASD_PID, SOFAASD_ADDRESS (HOST:PORT),
#       SOFAASD_WORK, SOFAASD_STARTUP_MS (spawn to "listening on") and exports
#       SOFAAS_ENDPOINT (what sofaas-bench and the CLI read); exits the script if the
#       daemon dies or does not listen within 15 s
#   build_bench_programs                   installs what is missing (wrk too) and builds
#       sofaasd, sofaas-worker and the example functions into $BUILD (Release, no tests)
#   stop_sofaasd [PID...]                  SIGTERM and wait; default the last started
#   stop_all_sofaasd                       every daemon started, and their temp directories
#   deploy_hello MIN_WARM                  hello.so as "hello", to the last daemon started
#   sign_lambda_invoke FUNCTION BODY       prints the headers ("Name: value" lines, Host
#       among them) of one Lambda API Invoke of FUNCTION with BODY, signed with AWS
#       Signature Version 4 by botocore (Debian's python3-botocore) with a new admin API
#       key of the last daemon started: bench/lambda_invoke.lua replays it (a signature
#       holds for 15 minutes)
#   ledger_durable_p99_ms LOG              from a stopped daemon's log: p99 of how long its
#       billing records waited to reach the disk (empty with fsync off)
#   ledger_fsync_window_ms LOG             the same line's fsync window
# Uses $ROOT (the repository) and $BUILD (a Release build directory); SOFAASD=PATH runs
# another sofaasd binary (an A/B pair); temp directories go under ${BENCH_TMP:-/tmp}.

export SOFAAS_TOKEN=${SOFAAS_TOKEN:-bench-token-$RANDOM$RANDOM}
_sofaasd_pids=() _sofaasd_dirs=()

start_sofaasd() {
    SOFAASD_WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/sofaas-bench.XXXXXX")
    _sofaasd_dirs+=("$SOFAASD_WORK")
    echo "$1" >"$SOFAASD_WORK/config.json"
    local log="$SOFAASD_WORK/sofaasd.log" start
    start=$(date +%s%N)
    # stdout to /dev/null: a daemon holding the caller's stdout would keep a $(...) waiting.
    SOFAAS_ADMIN_TOKEN=$SOFAAS_TOKEN "${SOFAASD:-$BUILD/bin/sofaasd}" --config "$SOFAASD_WORK/config.json" \
        --listen 127.0.0.1:0 --data-dir "${2:-$SOFAASD_WORK/data}" 2>"$log" >/dev/null &
    SOFAASD_PID=$!
    _sofaasd_pids+=("$SOFAASD_PID")
    SOFAASD_ADDRESS=""
    for _ in $(seq 1 3000); do
        SOFAASD_ADDRESS=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | head -1 | cut -d' ' -f3) || true
        [[ -n "$SOFAASD_ADDRESS" ]] && break
        kill -0 "$SOFAASD_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.005
    done
    [[ -n "$SOFAASD_ADDRESS" ]] || { echo "sofaasd did not start" >&2; cat "$log" >&2; exit 1; }
    SOFAASD_STARTUP_MS=$((($(date +%s%N) - start) / 1000000))
    export SOFAAS_ENDPOINT="http://$SOFAASD_ADDRESS"
}

stop_sofaasd() {
    local pid
    for pid in "${@:-$SOFAASD_PID}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
}

stop_all_sofaasd() {
    stop_sofaasd "${_sofaasd_pids[@]}"
    rm -rf "${_sofaasd_dirs[@]}"
}

deploy_hello() {
    curl -sf -X PUT -H "Authorization: Bearer $SOFAAS_TOKEN" --data-binary @"$BUILD/functions/hello.so" \
        "$SOFAAS_ENDPOINT/v1/functions/hello?min_warm=$1" >/dev/null
}

sign_lambda_invoke() {
    curl -sf -X POST -H "Authorization: Bearer $SOFAAS_TOKEN" -H "Content-Type: application/json" \
        --data "{\"name\": \"bench-$RANDOM\", \"scope\": \"admin\"}" "$SOFAAS_ENDPOINT/v1/keys" |
        LAMBDA_URL="$SOFAAS_ENDPOINT/2015-03-31/functions/$1/invocations" LAMBDA_BODY="$2" /usr/bin/python3 -c '
import json, os, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
key = json.load(sys.stdin)
url = os.environ["LAMBDA_URL"]
request = AWSRequest(method="POST", url=url, data=os.environ["LAMBDA_BODY"].encode())
SigV4Auth(Credentials(key["access_key_id"], key["secret_access_key"]), "lambda", "us-east-1").add_auth(request)  # the default region
print("Host: " + url.split("/")[2])
for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"):
    if name in request.headers:
        print(name + ": " + request.headers[name])
'
}

ledger_durable_p99_ms() {
    { grep -o 'on disk within p50 [0-9.]* ms, p99 [0-9.]* ms' "$1" || true; } | awk '{print $8}' | tail -1
}

ledger_fsync_window_ms() {
    { grep -o 'group fsyncs, [0-9]* ms window' "$1" || true; } | awk '{print $3}' | tail -1
}

build_bench_programs() {
    "$ROOT/scripts/install-deps.sh" >/dev/null
    command -v wrk >/dev/null || apt-get install -y wrk
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j2 --target sofaasd sofaas-worker sofaas_functions >/dev/null
}
