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

# The package holds what docs/INSTALL.md says it does, and depends on the libraries the
# programs link.
contents=$(dpkg-deb --contents "$deb")
for file in ./usr/sbin/sofaasd ./usr/bin/sofaas ./usr/libexec/sofaas/sofaas-worker \
        ./usr/include/sofaas/sofaas.h ./usr/include/sofaas/sofaas.hpp \
        ./usr/share/cmake/sofaas/sofaasConfig.cmake ./usr/share/cmake/sofaas/sofaasFunctions.cmake \
        ./usr/share/pkgconfig/sofaas.pc ./etc/sofaas/sofaasd.json ./usr/lib/systemd/system/sofaasd.service; do
    grep -q " $file\$" <<<"$contents" || { echo "package.sh: $file is not in $deb" >&2; exit 1; }
done
depends=$(dpkg-deb --field "$deb" Depends)
for library in libc6 libstdc++6 libseccomp2; do
    grep -q "$library" <<<"$depends" || { echo "package.sh: Depends lacks $library: $depends" >&2; exit 1; }
done
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/sofaas/sofaasd.json ] ||
    { echo "package.sh: /etc/sofaas/sofaasd.json is not a conffile" >&2; exit 1; }

dpkg-deb --info "$deb"
echo "package: $deb"
