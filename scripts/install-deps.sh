#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install the Debian 12 packages that building, testing and the demo need, and only those that
# are missing. Silent (exit 0) when nothing is missing; one line naming what it installs
# otherwise. Idempotent. Run as root (or it re-runs itself through sudo when that exists).
set -euo pipefail

# Build: compilers, meson, DPDK and the libraries meson.build looks for.
build_pkgs=(
    meson ninja-build pkg-config gcc clang libclang-rt-14-dev
    libdpdk-dev dpdk-dev dpdk
    libipsec-mb-dev libhyperscan-dev libconfig-dev libcunit1-dev libssl-dev libpcap-dev
)
# Test and demo: namespaces, traffic, packet crafting, pytest.
test_pkgs=(
    iproute2 iputils-ping ethtool iperf3 curl netcat-openbsd procps tcpdump tshark nginx
    python3 python3-pytest python3-scapy
    make dpdk-doc  # scripts/bench.sh builds its peer, DPDK's l3fwd, from the example sources
)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo "$0" "$@"
    fi
    echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/sp-install-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
# Quiet on success; the whole apt output on failure.
if ! { apt-get update -q && apt-get install -y -q "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps: apt-get failed" >&2
    exit 1
fi
