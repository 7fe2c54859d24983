#!/usr/bin/env bash
# Routing-only forwarding rate of one sallyport worker, measured side by side with DPDK's
# l3fwd (built from Debian's dpdk-doc example sources) on the same input in the same run.
#
#   net_pcap (infinite replay of one capture) --> [worker, lcore 1] --> net_null (sink)
#
# Both programs route 198.18.0.0/16 traffic (RFC 2544 benchmark range) from port 0 to port 1
# with an LPM lookup. The rate is read from DPDK telemetry (port 1 opackets) over a window
# after a warm-up. Runs are interleaved A B A B ... and the medians and their ratio printed:
# this machine is shared and noisy, compare only within one run.
#
# usage: scripts/bench.sh [-r ROUNDS] [-t SECONDS] [-s "64 1420"]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=3
SECS=5
SIZES="64 1420"
while getopts "r:t:s:" o; do
    case $o in
        r) ROUNDS=$OPTARG ;;
        t) SECS=$OPTARG ;;
        s) SIZES=$OPTARG ;;
        *) echo "usage: $0 [-r ROUNDS] [-t SECONDS] [-s SIZES]" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/sp-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

[ -x build/app/sallyport/sallyport ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
SALLYPORT=$ROOT/build/app/sallyport/sallyport
SPCTL=$ROOT/build/app/spctl/spctl

# The peer: l3fwd as Debian ships it, with one change: it asks for RX checksum offload, which
# vdevs do not have, so that request is dropped (as machine-notes.md describes for ipsec-secgw).
L3FWD=""
if [ -d /usr/share/dpdk/examples/l3fwd ]; then
    mkdir -p "$WORK/examples"
    cp -r /usr/share/dpdk/examples/l3fwd /usr/share/dpdk/examples/common "$WORK/examples/"
    ln -s "$WORK/examples/l3fwd" "$WORK/l3fwd-src"
    sed -i 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' "$WORK/l3fwd-src/main.c"
    if make -C "$WORK/l3fwd-src" -j2 static >"$WORK/l3fwd-build.log" 2>&1 ||
       make -C "$WORK/l3fwd-src" -j2 >"$WORK/l3fwd-build.log" 2>&1; then
        L3FWD=$(ls "$WORK"/l3fwd-src/build/l3fwd* 2>/dev/null | head -1)
    fi
fi
[ -n "$L3FWD" ] || echo "note: l3fwd could not be built (see dpdk-doc); measuring sallyport alone"

# One capture per size: UDP 198.18.0.x -> 198.18.1.2, 256 flows.
for size in $SIZES; do
    $PY - "$WORK/in-$size.pcap" "$size" <<'PYEOF' 2>/dev/null
import sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap
path, size = sys.argv[1], int(sys.argv[2])
pkts = []
for i in range(256):
    p = Ether(src="02:00:00:00:00:99", dst="02:00:00:00:00:10") / \
        IP(src="198.18.0.%d" % (i % 250 + 2), dst="198.18.1.2", ttl=64) / \
        UDP(sport=1024 + i, dport=9)
    pad = size - 4 - len(p)   # frame size includes the 4-byte FCS
    pkts.append(p / Raw(b"\x00" * max(pad, 0)))
wrpcap(path, pkts)
PYEOF
done

# Port 1 opackets from the telemetry socket of a DPDK process.
opackets() {
    $PY - "$1" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % sys.argv[1])
s.recv(4096)
s.send(b"/ethdev/stats,1")
print(json.loads(s.recv(65536))["/ethdev/stats"]["opackets"])
PYEOF
}

wait_telemetry() {
    for _ in $(seq 100); do
        [ -S "/var/run/dpdk/$1/dpdk_telemetry.v2" ] && opackets "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# rate PREFIX: packets per second over SECS after one second of warm-up.
rate() {
    local a b
    sleep 1
    a=$(opackets "$1")
    sleep "$SECS"
    b=$(opackets "$1")
    echo $(( (b - a) / SECS ))
}

run_sallyport() {
    local size=$1 prefix=spbench$$ conf=$WORK/sp.conf
    cat >"$conf" <<CONF
name = "bench";
eal = { lcores = "0-1"; main_lcore = 0; file_prefix = "$prefix"; in_memory = true;
        no_pci = true; memory_mb = 256; };
workers = { lcores = [1]; idle = "poll"; burst = 32; };
mempool = { mbufs = 16383; cache = 256; data_room = 2176; };
ports = (
  { name = "in"; device = "net_pcap0,rx_pcap=$WORK/in-$size.pcap,infinite_rx=1";
    mac = "02:00:00:00:00:10"; addresses = [ "198.18.0.1/24" ]; },
  { name = "out"; device = "net_null0,no-rx=1"; mac = "02:00:00:00:00:11";
    addresses = [ "198.18.1.1/24" ]; }
);
log = { level = "warning"; };
console = { socket = "$WORK/sp.sock"; };
CONF
    "$SALLYPORT" -c "$conf" >"$WORK/sp.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_telemetry "$prefix" || { cat "$WORK/sp.log" >&2; return 1; }
    "$SPCTL" -s "$WORK/sp.sock" neighbor add 198.18.1.2 02:00:00:00:00:20 dev out >/dev/null
    rate "$prefix"
    kill -TERM "$pid"; wait "$pid" || true
}

run_l3fwd() {
    local size=$1 prefix=l3bench$$
    "$L3FWD" -l 1 --main-lcore 1 --in-memory --no-pci -m 256 --file-prefix "$prefix" \
        --vdev "net_pcap0,rx_pcap=$WORK/in-$size.pcap,infinite_rx=1" --vdev "net_null0,no-rx=1" \
        --log-level '*:warning' -- -p 0x3 -P -L --parse-ptype --config "(0,0,1),(1,0,1)" \
        --eth-dest "1,02:00:00:00:00:20" >"$WORK/l3fwd.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_telemetry "$prefix" || { tail -5 "$WORK/l3fwd.log" >&2; return 1; }
    rate "$prefix"
    kill -INT "$pid"; wait "$pid" || true
}

median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf "%-6s %-10s %s\n" "size" "program" "Mpps per round (median last)"
for size in $SIZES; do
    sp=() l3=()
    for _ in $(seq "$ROUNDS"); do
        sp+=("$(run_sallyport "$size")")
        [ -n "$L3FWD" ] && l3+=("$(run_l3fwd "$size")")
    done
    m_sp=$(echo "${sp[*]}" | median)
    printf "%-6s %-10s %s  median %s\n" "$size" "sallyport" \
        "$(for v in "${sp[@]}"; do awk -v v="$v" 'BEGIN{printf "%.2f ", v/1e6}'; done)" \
        "$(awk -v v="$m_sp" 'BEGIN{printf "%.2f", v/1e6}')"
    if [ -n "$L3FWD" ]; then
        m_l3=$(echo "${l3[*]}" | median)
        printf "%-6s %-10s %s  median %s\n" "$size" "l3fwd" \
            "$(for v in "${l3[@]}"; do awk -v v="$v" 'BEGIN{printf "%.2f ", v/1e6}'; done)" \
            "$(awk -v v="$m_l3" 'BEGIN{printf "%.2f", v/1e6}')"
        awk -v a="$m_sp" -v b="$m_l3" 'BEGIN{ if (b > 0) printf "%-6s ratio sallyport/l3fwd = %.2f\n", "", a/b }'
    fi
done
