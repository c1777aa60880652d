#!/usr/bin/env bash
# The project's one test command: bash scripts/test.sh [extra cargo test args]
#
# Works on a fresh Debian 12 machine with Rust installed, as root (CI) or as a
# user with sudo. Installs what the tests need and is not there yet:
#   - PostgreSQL server binaries: the tests start their own throwaway cluster
#     (crates/yichuang/tests/support/pg.rs); a running system service is not
#     needed or used.
#   - chromium + chromium-driver for the browser tests.
# Then runs the whole workspace's tests with PostgreSQL required, so a missing
# PostgreSQL fails instead of silently skipping.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root or sudo to run: $*" >&2
        exit 1
    fi
}

apt_updated=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: apt-get not found; install these yourself: $*" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

have_pg_server() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$initdb" ] && return 0
    done
    return 1
}

if ! have_pg_server; then
    echo "==> installing postgresql"
    apt_install postgresql
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "==> installing chromium chromium-driver"
    apt_install chromium chromium-driver
fi

export YICHUANG_REQUIRE_PG=1
export YICHUANG_REQUIRE_BROWSER=1

echo "==> cargo test --workspace --locked${*:+ $*}"
exec cargo test --workspace --locked "$@"
