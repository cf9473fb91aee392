#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test. The end-to-end
# tests run twice: against the programs of build/, then against the programs built with
# AddressSanitizer and UndefinedBehaviorSanitizer (build-sanitize/bin, tests/support/
# programs.h), where any memory error, leak or undefined behaviour fails the test that hit
# it; that second pass runs while the unit tests compile there. The unit tests and the
# fuzz-corpus replays are built and run in build-sanitize/ only: built again without
# the sanitizers, the same tests cost a sixth of the suite's CPU time, and the four that
# only run there (out of memory) have end-to-end twins in the plain pass.
# SOFAAS_SKIP_SANITIZERS=1 skips build-sanitize/ and runs every test in build/. The output
# ends with ctest's summary.
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
    # cores whenever they wait (links, test discovery, tests waiting on daemons). The
    # programs first: their end-to-end pass runs while the rest (the unit tests) compiles.
    rm -f build-sanitize/programs.built
    (
        nice -n 15 cmake --build build-sanitize -j2 --target sofaas_runtime &&
            touch build-sanitize/programs.built &&
            nice -n 15 cmake --build build-sanitize -j2
    ) >build-sanitize/build.log 2>&1 &
    sanitize_build=$!
fi
unit_tests=OFF
((sanitize)) || unit_tests=ON
cmake -S . -B build -DSOFAAS_BUILD_UNIT_TESTS=$unit_tests >/dev/null
scripts/build.sh
status=0
# Three at a time: the end-to-end tests mostly wait on the daemons they drive, and the
# sanitizer build takes the cores they leave.
ctest --test-dir build --output-on-failure -j3 || status=$?
if ((sanitize)); then
    sanitize_failed() {
        cat build-sanitize/build.log
        echo "test.sh: the sanitizer build failed" >&2
        exit 1
    }
    while [[ ! -e build-sanitize/programs.built ]]; do
        kill -0 "$sanitize_build" 2>/dev/null || { wait "$sanitize_build" || sanitize_failed; break; }
        sleep 1
    done
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    # Three at a time: the end-to-end tests mostly wait on the daemons they drive (123 s
    # with two at a time, 91 s with three). Not here: the tests of several nodes (Cluster*),
    # which run the same code as one node's in more processes, and whose modules' unit
    # tests run under the sanitizers; and the three that skip themselves under ASan after
    # their suite has started a daemon. Together a sixth of this pass's time.
    plain_only='^Cluster|^Faults\.MemoryHogIsOutOfMemory$|^Limits\.MemoryHogIsStoppedAtItsLimit$'
    plain_only+='|^Quantities\.MemoryLimitIsTheConfiguredSize$'
    SOFAAS_TEST_PROGRAMS_DIR="$PWD/build-sanitize/bin" ctest --test-dir build -L e2e -E "$plain_only" \
        --output-on-failure -j3 || status=$?
    wait "$sanitize_build" || sanitize_failed
    # Three at a time: about a quarter of the unit tests' time is waiting (141 CPU
    # seconds in 98 s at two at a time).
    ctest --test-dir build-sanitize --output-on-failure -j3 || status=$?
fi
exit $status
