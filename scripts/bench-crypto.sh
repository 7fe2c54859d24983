#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Crypto engine microbenchmark: AES-128-GCM encrypt and decrypt Mops at 64 B and 1420 B on one
# core, every sallyport engine (openssl, ipsec_mb, cryptodev on crypto_aesni_gcm and
# crypto_aesni_mb) interleaved in one run, medians and ratios; then DPDK's own
# dpdk-test-crypto-perf on the same two vdevs and sizes as a peer, also interleaved, medians.
# Not a unit test. Machine noise is large here (see docs/crypto.md): compare within one run.
#
# usage: scripts/bench-crypto.sh [build-dir] [rounds]
set -eu

build=${1:-build}
rounds=${2:-5}
bin=$build/tests/unit/test_crypto
if [ ! -x "$bin" ]; then
    echo "bench-crypto: $bin not built (ninja -C $build tests/unit/test_crypto)" >&2
    exit 1
fi

echo "== sallyport engines ($rounds rounds) =="
"$bin" bench "$rounds" 2>&1 | grep -v '^  engine .* open$'

perf=$(command -v dpdk-test-crypto-perf || true)
if [ -z "$perf" ]; then
    echo "dpdk-test-crypto-perf not found (Debian package dpdk): peer skipped"
    exit 0
fi

prefix=spcb$$
out=$(mktemp)
trap 'rm -rf "$out" "/var/run/dpdk/$prefix"' EXIT INT TERM

# One run of the peer: device, op; prints "dev op size mops" lines.
peer() {
    "$perf" -l 0,1 --no-huge -m 1024 --no-pci --no-telemetry --file-prefix=$prefix \
        --log-level='*:warning' --vdev "crypto_$1_spb0" -- \
        --ptest throughput --devtype "crypto_$1" --optype aead --aead-algo aes-gcm \
        --aead-op "$2" --aead-key-sz 16 --aead-iv-sz 12 --aead-aad-sz 8 --digest-sz 16 \
        --buffer-sz 64,1420 --burst-sz 32 --total-ops 2000000 --silent --csv-friendly \
        2>/dev/null | awk -F, -v d="$1" -v o="$2" '/^[0-9]+,[0-9]+,/ { print d, o, $2, $8 }'
}

echo
echo "== dpdk-test-crypto-perf, throughput test, bursts of 32, one worker core ($rounds rounds) =="
i=0
while [ $i -lt "$rounds" ]; do
    for dev in aesni_gcm aesni_mb; do
        for op in encrypt decrypt; do
            peer $dev $op >>"$out" || true
        done
    done
    i=$((i + 1))
done
# Medians per device, op and size.
sort -k1,1 -k2,2 -k3,3n -k4,4g "$out" | awk '
    { k = $1 " " $2 " " $3; v[k, ++n[k]] = $4; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } }
    END {
        printf "%-22s %-8s %6s %10s\n", "device", "op", "size", "median";
        for (i = 1; i <= nk; i++) {
            k = keys[i]; split(k, f, " ");
            m = v[k, int((n[k] + 1) / 2)];
            printf "%-22s %-8s %6s %7.2f Mops\n", "crypto_" f[1], f[2], f[3], m;
        }
    }'
