#!/usr/bin/env bash
# Builds the example single-page app (examples/webapp/) into examples/webapp/dist/: the
# AWS SDK for JavaScript v3 (@aws-sdk/client-sts, @aws-sdk/client-lambda) and the page's
# script bundled by esbuild into one minified file with a content hash in its name, the
# page and its stylesheet beside it, and the bundled packages' licenses. The packages come
# from the npm registry at the versions package.json pins; dist/ is committed, so that
# deploying the example and testing it never need npm or the network. Run this only to
# change the app or the versions, then commit examples/webapp/dist/.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
app="$root/examples/webapp"
dist="$app/dist"
command -v npm >/dev/null || { echo "vendor-webapp: npm is needed (apt-get install npm)" >&2; exit 1; }

(cd "$app" && npm install --no-audit --no-fund --silent)
rm -rf "$dist"
mkdir -p "$dist"
"$app/node_modules/.bin/esbuild" "$app/src/app.js" --bundle --minify --format=iife --target=es2020 \
    --platform=browser --entry-names='app.[hash]' --legal-comments=external --outdir="$dist" --log-level=warning
script="$(cd "$dist" && ls app.*.js)"
mv "$dist/$script.LEGAL.txt" "$dist/THIRD_PARTY_NOTICES.txt" 2>/dev/null || true
sed "s|APP_SCRIPT|$script|" "$app/src/index.html" >"$dist/index.html"
cp "$app/src/app.css" "$app/src/favicon.svg" "$dist/"
# Precompressed copies, which sofaasd serves to browsers that take them (docs/SITES.md).
gzip -9 -k -n "$dist/$script"
# The licenses of what the bundle holds: every package under node_modules it took code from.
(cd "$app" && node -e '
const fs = require("fs"), path = require("path");
const seen = new Map();
function walk(dir) {
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (name.startsWith("@")) { walk(full); continue; }
    const manifest = path.join(full, "package.json");
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
      if (pkg.name && !pkg.name.startsWith("esbuild") && !pkg.name.startsWith("@esbuild")) {
        seen.set(pkg.name + "@" + pkg.version, pkg.license || "see the package");
      }
      const nested = path.join(full, "node_modules");
      if (fs.existsSync(nested)) walk(nested);
    }
  }
}
walk("node_modules");
const lines = [...seen].sort().map(([id, license]) => id + " " + license);
fs.writeFileSync("dist/PACKAGES.txt", "Bundled into the app script (npm package, version, license):\n" + lines.join("\n") + "\n");
')
echo "vendor-webapp: $(ls "$dist" | tr '\n' ' ')-> examples/webapp/dist/"
