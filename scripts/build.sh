#!/usr/bin/env bash
# Configures and builds into build/ (RelWithDebInfo, 2 jobs): everything, or only the
# targets named, e.g. `scripts/build.sh sofaas_runtime` (the programs and the example
# functions, what scripts/start.sh runs).
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ $# -gt 0 ]; then
    cmake --build build -j2 --target "$@"
else
    cmake --build build -j2
fi
