#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Reserve 2 MiB hugepages and mount hugetlbfs on /dev/hugepages. Idempotent: never lowers an
# existing reservation, mounts only when not mounted.
#
#   scripts/hugepages.sh [PAGES]          reserve at least PAGES x 2 MiB (default 512)
#   scripts/hugepages.sh --clean PREFIX   remove /dev/hugepages/PREFIXmap_* left by a DPDK
#                                         process with that --file-prefix (it must have exited)
set -euo pipefail

mnt=/dev/hugepages
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

if [[ "${1:-}" == "--clean" ]]; then
    prefix=${2:?usage: hugepages.sh --clean PREFIX}
    rm -f "$mnt/${prefix}map_"* 2>/dev/null || true
    exit 0
fi

pages=${1:-512}
if [[ $(id -u) -ne 0 ]]; then
    echo "hugepages: must run as root" >&2
    exit 1
fi
if [[ ! -w $sysfs ]]; then
    echo "hugepages: $sysfs not available (no 2 MiB hugepage support)" >&2
    exit 1
fi

cur=$(cat "$sysfs")
if (( cur < pages )); then
    echo "$pages" >"$sysfs"
    cur=$(cat "$sysfs")
    if (( cur < pages )); then
        echo "hugepages: asked for $pages pages, the kernel gave $cur (memory fragmented?)" >&2
        exit 1
    fi
fi

mkdir -p "$mnt"
if ! mountpoint -q "$mnt"; then
    mount -t hugetlbfs -o pagesize=2M nodev "$mnt"
fi
