#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test (unit,
# end-to-end, fuzz-corpus replays), then the same suite again with the programs and
# libraries built with AddressSanitizer and UndefinedBehaviorSanitizer (build-sanitize/),
# where any memory error, leak or undefined behaviour fails the test that hit it: the unit
# tests and replays built there, and the end-to-end tests of build/ driving the programs
# of build-sanitize/bin (tests/support/programs.h). SOFAAS_SKIP_SANITIZERS=1 skips that
# second pass. The output ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
sanitize=1
[[ "${SOFAAS_SKIP_SANITIZERS:-0}" == 1 ]] && sanitize=0
sanitize_build=""
if ((sanitize)); then
    # Rust code is not instrumented: the plain pass builds and tests it.
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DSOFAAS_SANITIZE=ON -DSOFAAS_BUILD_E2E_TESTS=OFF \
        -DSOFAAS_RUST=OFF >/dev/null
    # Compiled beside the plain build and its tests, at a lower priority: it takes the
    # cores whenever they wait (links, test discovery, tests waiting on daemons).
    nice -n 15 cmake --build build-sanitize -j2 >build-sanitize/build.log 2>&1 &
    sanitize_build=$!
fi
scripts/build.sh
status=0
ctest --test-dir build --output-on-failure -j2 || status=$?
if ((sanitize)); then
    if ! wait "$sanitize_build"; then
        cat build-sanitize/build.log
        echo "test.sh: the sanitizer build failed" >&2
        exit 1
    fi
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    ctest --test-dir build-sanitize --output-on-failure -j2 || status=$?
    # Three at a time: the end-to-end tests mostly wait on the daemons they drive (123 s
    # with two at a time, 91 s with three).
    SOFAAS_TEST_PROGRAMS_DIR="$PWD/build-sanitize/bin" ctest --test-dir build -L e2e --output-on-failure -j3 ||
        status=$?
fi
exit $status
