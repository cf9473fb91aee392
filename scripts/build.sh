#!/usr/bin/env bash
# Configures and builds everything into build/ (RelWithDebInfo, 2 jobs).
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
