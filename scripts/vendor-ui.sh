#!/usr/bin/env bash
# Vendors the dashboard's chart library (uPlot, MIT) into ui/vendor/: the minified script,
# its stylesheet and its license, from the npm registry's package. The files are committed,
# so that building and testing never need npm or the network; run this only to change the
# version, then commit ui/vendor/.
set -euo pipefail

version="${1:-1.6.32}"
root="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$root/ui/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "vendor-ui: npm is needed (apt-get install npm)" >&2; exit 1; }
(cd "$work" && npm pack --silent "uplot@$version" >/dev/null)
tar -xzf "$work/uplot-$version.tgz" -C "$work"
package="$work/package"
license="$(cd "$package" && node -p "require('./package.json').license")"
[ "$license" = "MIT" ] || { echo "vendor-ui: uplot@$version is licensed '$license', not MIT" >&2; exit 1; }

mkdir -p "$vendor"
cp "$package/dist/uPlot.iife.min.js" "$vendor/uPlot.iife.min.js"
cp "$package/dist/uPlot.min.css" "$vendor/uPlot.min.css"
cp "$package/LICENSE" "$vendor/uPlot.LICENSE.txt"
echo "uplot $version (npm)" > "$vendor/VERSIONS.txt"
echo "vendor-ui: uplot $version -> ui/vendor/"
