#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test (unit,
# end-to-end, fuzz-corpus replays), then the same suite again built with AddressSanitizer
# and UndefinedBehaviorSanitizer (build-sanitize/), where any memory error, leak or
# undefined behaviour fails the test that hit it. SOFAAS_SKIP_SANITIZERS=1 skips that
# second pass. The output ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
status=0
ctest --test-dir build --output-on-failure -j2 || status=$?
if [[ "${SOFAAS_SKIP_SANITIZERS:-0}" != 1 ]]; then
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DSOFAAS_SANITIZE=ON >/dev/null
    cmake --build build-sanitize -j2
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest --test-dir build-sanitize --output-on-failure -j2 || status=$?
fi
exit $status
