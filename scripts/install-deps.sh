#!/usr/bin/env bash
# Installs the Debian 12 packages sofaas needs to build and test, and only those that
# are missing (so it runs offline once everything is there). Root, or sudo.
set -euo pipefail

packages=(build-essential cmake g++ pkg-config libseccomp-dev libboost1.81-dev nlohmann-json3-dev libspdlog-dev
          libgtest-dev libsqlite3-dev libssl-dev libzip-dev libzstd-dev ccache curl cargo rustc python3-boto3 awscli)
# The dashboard's end-to-end test drives headless Chromium through Selenium.
packages+=(chromium chromium-driver python3-selenium)
# The metrics end-to-end test scrapes sofaasd with a real Prometheus.
packages+=(prometheus)
# User pools: passwords hashed with argon2id (libsodium), tokens signed as JWTs (libjwt).
packages+=(libsodium-dev libjwt-dev)
# External OpenID Connect providers: their signing keys are fetched over HTTPS with libcurl.
packages+=(libcurl4-openssl-dev)
# Several nodes: the cluster test runs the shipped config/haproxy.cfg in a real haproxy.
packages+=(haproxy)
# A cluster's shared store: PostgreSQL's client library, and the server the tests and the
# cluster demo run (the package also makes the postgres user the tests' servers run as).
packages+=(libpq-dev postgresql)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
