#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test (unit and
# end-to-end). The output ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
exec ctest --test-dir build --output-on-failure -j2
