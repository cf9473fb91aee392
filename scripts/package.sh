#!/usr/bin/env bash
# Builds the .deb: a Release build without the tests, configured for /usr, /etc and /var
# (build-package/), packed by CPack. Prints the package's path and its control fields.
#   scripts/package.sh            -> build-package/sofaas_VERSION_ARCH.deb
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=build-package
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSOFAAS_BUILD_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LOCALSTATEDIR=/var
cmake --build "$build" -j2
(cd "$build" && cpack -G DEB)
deb=$(ls -t "$build"/sofaas_*.deb | head -n 1)
dpkg-deb --info "$deb"
echo "package: $deb"
