#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build DPDK's ipsec-secgw example, the independent ESP peer of the interop tests and of
# scripts/bench-esp.sh, from Debian's dpdk-doc example sources. Nothing of it enters this
# repository: the sources are copied to a build directory outside the tree and built there.
#
#   scripts/secgw.sh [OUTDIR]        (OUTDIR defaults to build-secgw/ in the repository)
#
# Prints the path of the binary on its last line. Idempotent: when OUTDIR already holds a
# binary built from the same sources and the same patch, it only prints the path.
#
# One change to the example: it always asks for RX checksum offload, which DPDK's virtual
# devices (memif, pcap, tap, af_packet) do not offer, and then refuses to start ("required RX
# offloads: 0xe"). The requested RX offloads are masked with what the port can do before the
# port is configured; the data path does not depend on them (it checks what it parses).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

src=${SECGW_SRC:-/usr/share/dpdk/examples}
out=${1:-$SP_ROOT/build-secgw}
mkdir -p "$out"
out=$(cd "$out" && pwd)

[[ -f $src/ipsec-secgw/ipsec-secgw.c ]] ||
    sp_die "no $src/ipsec-secgw (Debian package dpdk-doc)"
command -v make >/dev/null || sp_die "make not found"
pkg-config --exists libdpdk || sp_die "pkg-config finds no libdpdk (Debian package libdpdk-dev)"

# The line that is patched, and what follows it.
anchor='local_port_conf.rxmode.offloads |= req_rx_offloads;'
mask='local_port_conf.rxmode.offloads &= dev_info.rx_offload_capa;'

# Stamp: the sources, the patch and the DPDK version the binary was built from.
stamp=$({
    cat "$src"/ipsec-secgw/*.[ch] "$src"/ipsec-secgw/Makefile
    cat "$src"/common/*.h 2>/dev/null || true
    printf '%s\n%s\n' "$anchor" "$mask"
    pkg-config --modversion libdpdk
} | sha256sum | cut -d' ' -f1)
bin=$out/ipsec-secgw
if [[ -x $bin && -f $out/stamp && $(cat "$out/stamp") == "$stamp" ]]; then
    echo "$bin"
    exit 0
fi

rm -rf "$out/examples" "$bin" "$out/stamp"
mkdir -p "$out/examples"
cp -r "$src/ipsec-secgw" "$out/examples/"
[[ -d $src/common ]] && cp -r "$src/common" "$out/examples/"
main=$out/examples/ipsec-secgw/ipsec-secgw.c
grep -qF "$anchor" "$main" || sp_die "$main: the RX offload request line was not found"
# After the line (exactly, whole line), the mask with the same indentation.
awk -v a="$anchor" -v m="$mask" '
    { print }
    { t = $0; sub(/^\t+/, "", t) }
    t == a { ind = $0; sub(/[^\t].*$/, "", ind); print ind m; n++ }
    END { exit n == 1 ? 0 : 1 }' "$main" >"$main.new" || sp_die "$main: patch did not apply"
mv "$main.new" "$main"

log=$out/build.log
if ! make -C "$out/examples/ipsec-secgw" -j"$(nproc)" >"$log" 2>&1; then
    tail -30 "$log" >&2
    sp_die "make failed (whole log: $log)"
fi
cp "$out/examples/ipsec-secgw/build/ipsec-secgw-shared" "$bin"
echo "$stamp" >"$out/stamp"
echo "$bin"
