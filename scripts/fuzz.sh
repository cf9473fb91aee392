#!/usr/bin/env bash
# Fuzzes the parsers that read bytes from outside (tests/fuzz): builds the libFuzzer
# targets with clang in build-fuzz/, then runs each for SECONDS (default 60) on one core,
# one target at a time. New inputs that add coverage and are small are merged into
# tests/fuzz/corpus/TARGET/ (commit them: ctest replays every corpus); an input that
# crashes a target is kept as build-fuzz/crashes/TARGET/crash-*.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: see tests/fuzz/CMakeLists.txt
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
if [ $# -gt 0 ]; then shift; fi
build=$root/build-fuzz
max_seed_bytes=4096

# clang and its runtime libraries (libFuzzer, ASan, UBSan), beyond scripts/install-deps.sh.
packages=(clang libclang-rt-14-dev)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root=()
    [ "$(id -u)" -ne 0 ] && as_root=(sudo)
    echo "fuzz: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=($(sed -n '/^set(SOFAAS_FUZZ_TARGETS/,/)/p' tests/fuzz/CMakeLists.txt |
               tr -d '()' | sed 's/set//; s/SOFAAS_FUZZ_TARGETS//'))
fi

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DSOFAAS_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "${targets[@]/%/_fuzz}"

failed=()
for target in "${targets[@]}"; do
    seeds=$root/tests/fuzz/corpus/$target
    found=$build/corpus/$target      # everything this and earlier runs found
    crashes=$build/crashes/$target
    mkdir -p "$found" "$crashes"
    echo "=== $target: ${seconds}s"
    if ! "$build/bin/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" "$found" "$seeds"; then
        failed+=("$target")
    fi
    # Only small inputs go into the repository's corpus; -merge=1 keeps those that add
    # coverage over what the corpus already has, counting edges only (-use_counters=0:
    # hit counts would keep hundreds of near-duplicates).
    small=$(mktemp -d)
    find "$found" -type f -size -$((max_seed_bytes + 1))c -exec cp {} "$small/" \;
    before=$(ls "$seeds" | wc -l)
    "$build/bin/${target}_fuzz" -merge=1 -use_counters=0 "$seeds" "$small" >/dev/null 2>&1 || true
    rm -rf "$small"
    echo "=== $target: corpus $before -> $(ls "$seeds" | wc -l) inputs"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in $build/crashes/)" >&2
    exit 1
fi
echo "fuzz: no crashes in ${targets[*]}"
