#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ESP rate of one sallyport worker per crypto engine, measured side by side with DPDK's
# ipsec-secgw (built by scripts/secgw.sh from Debian's dpdk-doc example sources) on the same
# input in the same run.
#
#   net_pcap (infinite replay of one capture) --> [one worker, lcore 1] --> net_null (sink)
#
#   encrypt: plaintext UDP 198.18.0.x -> 198.19.0.2 arrives; 198.19.0.0/16 is behind peer
#            192.0.2.2, so it leaves as ESP 192.0.2.1 -> 192.0.2.2 (AES-GCM, SPI 0x1000)
#   decrypt: those packets' ESP twins (192.0.2.2 -> 192.0.2.1, SPI 0x2000, made by scapy with
#            the same keys, inner 198.19.0.x -> 198.18.0.2) arrive and leave as plaintext
#
# SIZE is the plaintext frame (64 or 1420 bytes with FCS), so both directions move the same
# inner packets. Programs: sallyport with crypto engine ipsec_mb, cryptodev (crypto_aesni_mb
# vdev) and openssl; ipsec-secgw (lookaside, on crypto_aesni_gcm and crypto_aesni_mb vdevs,
# anti-replay off as it defaults to). The rate is port 1's opackets from DPDK telemetry over a
# window after a warm-up. Runs are interleaved (A B C D E, A B C D E, ...) and the medians and
# the ratios sallyport/ipsec-secgw printed: this machine is shared and noisy, compare only
# within one run.
#
# Decrypt with a replayed capture repeats sequence numbers, so sallyport's manual peer runs
# with replay_window = 0 (anti-replay off, like ipsec-secgw's default) in the decrypt runs.
# "decrypt-live" needs no such thing: a generator, ipsec-secgw encrypting the plaintext
# capture on lcore 0, sends fresh ESP over memif to the program under test (lcore 1), whose
# anti-replay stays on (sallyport: window 1024). Its rate is capped by the generator's, which
# is printed beside it: a program that keeps up with the generator is at least that fast.
#
# usage: scripts/bench-esp.sh [-b BUILD] [-r ROUNDS] [-t SECONDS] [-s "64 1420"]
#                             [-d "encrypt decrypt decrypt-live"] [-k 128|256] [-p PROGRAMS] [-n]
#   -n: skip the first pass that checks each program's output with scapy
#   PROGRAMS: space-separated subset of "sp-ipsec_mb sp-cryptodev sp-openssl secgw-gcm secgw-mb"
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$SP_ROOT"
BUILD=build
ROUNDS=3
SECS=4
SIZES="64 1420"
DIRS="encrypt decrypt decrypt-live"
BITS=128
PROGS="sp-ipsec_mb sp-cryptodev sp-openssl secgw-gcm secgw-mb"
VERIFY=1
while getopts "b:r:t:s:d:k:p:n" o; do
    case $o in
        b) BUILD=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        t) SECS=$OPTARG ;;
        s) SIZES=$OPTARG ;;
        d) DIRS=$OPTARG ;;
        k) BITS=$OPTARG ;;
        p) PROGS=$OPTARG ;;
        n) VERIFY=0 ;;
        *) sed -n '/^# usage/,/^#   PROGRAMS/p' "$0" >&2; exit 2 ;;
    esac
done
[[ $BITS == 128 || $BITS == 256 ]] || sp_die "-k must be 128 or 256"
sp_need_root
PY=$SP_PYTHON
SALLYPORT=$SP_ROOT/$BUILD/app/sallyport/sallyport
SPCTL=$SP_ROOT/$BUILD/app/spctl/spctl
[[ -x $SALLYPORT && -x $SPCTL ]] ||
    sp_die "$BUILD/app/sallyport/sallyport not built (ninja -C $BUILD)"
WORK=$(mktemp -d /tmp/sp-bench-esp.XXXXXX)
PID=
GPID=
cleanup() {
    if [[ -n $PID ]]; then kill -KILL "$PID" 2>/dev/null || true; fi
    if [[ -n $GPID ]]; then kill -KILL "$GPID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$WORK" "$OUTCAP"
}
trap cleanup EXIT INT TERM

SECGW=""
if [[ " $PROGS " == *" secgw-"* ]]; then
    if SECGW=$("$SP_ROOT/scripts/secgw.sh" "${SECGW_DIR:-$SP_ROOT/build-secgw}" | tail -1); then
        :
    else
        echo "note: ipsec-secgw could not be built (scripts/secgw.sh); measuring sallyport alone"
        SECGW=""
    fi
fi

# Keys (AES key + 4-byte salt): K_OUT seals what sallyport sends (SPI 0x1000), K_IN what the
# peer sends (SPI 0x2000).
klen=$((BITS / 8 + 4))
K_OUT=$($PY -c "print(bytes((0x11 * i + 3) & 0xff for i in range($klen)).hex())")
K_IN=$($PY -c "print(bytes((0x2d * i + 7) & 0xff for i in range($klen)).hex())")
colons() { sed 's/../&:/g; s/:$//' <<<"$1"; }

# The captures: plain-SIZE.pcap and esp-SIZE.pcap, 256 flows each.
for size in $SIZES; do
    $PY - "$WORK" "$size" "$K_IN" <<'PYEOF' 2>/dev/null
import struct, sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation
work, size, key = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
eth = Ether(src="02:00:00:00:00:99", dst="02:00:00:00:00:10")
sa = SecurityAssociation(ESP, spi=0x2000, crypt_algo="AES-GCM", crypt_key=key,
                         auth_algo="NULL", tunnel_header=IP(src="192.0.2.2", dst="192.0.2.1"))
plain, esp, inner_l = [], [], []
for i in range(256):
    hdr = IP(src="198.18.0.%d" % (i % 250 + 2), dst="198.19.0.2", ttl=64) / \
        UDP(sport=1024 + i, dport=9)
    pad = max(size - 4 - 14 - len(hdr), 0)   # the frame size includes the 4-byte FCS
    plain.append(eth / hdr / Raw(b"\x00" * pad))
    inner = IP(src="198.19.0.%d" % (i % 250 + 2), dst="198.18.0.2", ttl=64) / \
        UDP(sport=1024 + i, dport=9) / Raw(b"\x00" * pad)
    inner_l.append(eth / inner)
    enc = sa.encrypt(IP(bytes(inner)), seq_num=i + 1, iv=struct.pack("!Q", i + 1))
    esp.append(eth / IP(bytes(enc)))
wrpcap("%s/plain-%d.pcap" % (work, size), plain)
wrpcap("%s/esp-%d.pcap" % (work, size), esp)
wrpcap("%s/inner-%d.pcap" % (work, size), inner_l)
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
    for _ in $(seq 150); do
        [[ -S /var/run/dpdk/$1/dpdk_telemetry.v2 ]] && opackets "$1" >/dev/null 2>&1 && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# rate PREFIX [GEN_PREFIX]: packets per second over SECS after one second of warm-up; the
# generator's rate over the same window goes to $WORK/gen-rate.
rate() {
    local a b ga gb
    sleep 1
    a=$(opackets "$1")
    [[ -n ${2:-} ]] && ga=$(opackets "$2")
    sleep "$SECS"
    b=$(opackets "$1")
    [[ -n ${2:-} ]] && gb=$(opackets "$2") && echo $(((gb - ga) / SECS)) >"$WORK/gen-rate"
    echo $(((b - a) / SECS))
}

# MODE "rate": the capture replayed forever into net_null. "verify": the output goes to a
# capture file instead (in /dev/shm), checked by check_output. ipsec-secgw gets the input once
# (its neighbours are in its configuration); sallyport gets it forever and is stopped right
# after its neighbour entry is added (before that it has nowhere to send).
MODE=rate
OUTCAP=/dev/shm/sp-bench-esp-$$.pcap
in_dev() {  # in_dev PCAP ONCE
    if [[ $MODE == verify && $2 == once ]]; then
        echo "net_pcap0,rx_pcap=$1"
    else
        echo "net_pcap0,rx_pcap=$1,infinite_rx=1"
    fi
}
out_dev() {
    if [[ $MODE == rate ]]; then echo "net_null0,no-rx=1"; else echo "net_pcap1,tx_pcap=$OUTCAP"; fi
}

# check_output DIR SIZE: the first packets that came out are the input sealed (encrypt) or
# opened (decrypt) right, every one of the 256 flows among them. Prints "N/N right".
check_output() {
    $PY - "$OUTCAP" "$1" "$2" "$K_OUT" <<'PYEOF' 2>&1
import struct, sys
from scapy.all import IP, UDP, Ether
from scapy.layers.ipsec import ESP, SecurityAssociation
path, d, size, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
sa = SecurityAssociation(ESP, spi=0x1000, crypt_algo="AES-GCM", crypt_key=key,
                         auth_algo="NULL", tunnel_header=IP(src="192.0.2.1", dst="192.0.2.2"))
flows, n, bad, why = set(), 0, 0, ""
with open(path, "rb") as f:
    f.read(24)
    while n < 1024:
        rec = f.read(16)
        if len(rec) < 16:
            break
        caplen = struct.unpack("<IIII", rec)[2]
        frame = Ether(f.read(caplen))
        if not frame.haslayer(IP):
            continue            # ARP, ND
        n += 1
        try:
            ip = frame[IP]
            if d == "encrypt":
                assert ip.src == "192.0.2.1" and ip.dst == "192.0.2.2" and ip.proto == 50, \
                    "outer " + ip.summary()
                ip = sa.decrypt(IP(bytes(ip)))
                src, dst = "198.18.0.", "198.19.0.2"
            else:
                src, dst = "198.19.0.", "198.18.0.2"
            u = ip[UDP]
            i = u.sport - 1024
            assert ip.src == src + str(i % 250 + 2) and ip.dst == dst and u.dport == 9, \
                ip.summary()
            assert len(ip) == max(size - 4 - 14, 28), "length %d" % len(ip)
            assert bytes(u.payload) == b"\x00" * (len(ip) - 28), "payload"
            flows.add(i)
        except Exception as e:
            bad += 1
            why = why or str(e) or type(e).__name__
if n == 0:
    print("nothing came out")
else:
    # Every flow must be there when a whole pass of the input came out.
    lost = n >= 256 and len(flows) < 256
    print("%d/%d right%s%s" % (n - bad, n, ", only %d/256 flows" % len(flows) if lost else "",
                               ("; first error: " + why) if bad else ""))
PYEOF
}

stop_pid() {
    local p
    for p in $PID $GPID; do
        kill -INT "$p" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PID='' GPID=''
}

# start_gen SIZE: the decrypt-live generator, ipsec-secgw on lcore 0 sealing the plaintext
# capture (198.19.0.x -> 198.18.0.2) from 192.0.2.2 to 192.0.2.1 (SPI 0x2000) onto a memif
# server at $WORK/gen.sock. Its prefix is in GEN.
GEN=sggen$$
start_gen() {
    local cfg=$WORK/gen.cfg
    cat >"$cfg" <<CFG
sp ipv4 out esp protect 8192 pri 1 dst 198.18.0.0/16 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 4096 pri 1 dst 198.19.0.0/16 sport 0:65535 dport 0:65535
sa out 8192 aead_algo aes-$BITS-gcm aead_key $(colons "$K_IN") \
mode ipv4-tunnel src 192.0.2.2 dst 192.0.2.1
sa in 4096 aead_algo aes-$BITS-gcm aead_key $(colons "$K_OUT") \
mode ipv4-tunnel src 192.0.2.1 dst 192.0.2.2
rt ipv4 dst 192.0.2.1/32 port 1
neigh port 0 02:00:00:00:00:99
neigh port 1 02:00:00:00:00:10
CFG
    rm -f "$WORK/gen.sock"
    # Started from a subshell, so that this shell does not report the crash ipsec-secgw
    # sometimes has while closing its memif port at exit (after the measurement).
    ("$SECGW" -l 0 --in-memory --no-pci -m 512 --file-prefix "$GEN" --log-level '*:warning' \
        --vdev "net_pcap0,rx_pcap=$WORK/inner-$1.pcap,infinite_rx=1" \
        --vdev "net_memif0,role=server,socket=$WORK/gen.sock,socket-abstract=no" \
        --vdev crypto_aesni_gcm_gen -- -p 0x3 -P -u 0x2 --config "(0,0,0),(1,0,0)" \
        -f "$cfg" >"$WORK/gen.log" 2>&1 & echo $! >"$WORK/gen.pid")
    GPID=$(cat "$WORK/gen.pid")
    local save=$PID
    PID=$GPID
    if ! wait_telemetry "$GEN"; then
        PID=$save
        echo "the generator (ipsec-secgw) did not start:" >&2
        tail -5 "$WORK/gen.log" >&2
        return 1
    fi
    PID=$save
}

memif_client() { echo "net_memif0,role=client,socket=$WORK/gen.sock,socket-abstract=no"; }

# run_sp ENGINE DIR SIZE: prints packets per second (0 when it could not run).
run_sp() {
    local engine=$1 dir=$2 size=$3 prefix=spbe$$ conf=$WORK/sp.conf
    local extra="" args="" in_addr out_addr input window=1024 nb_ip
    case $engine in
        cryptodev) extra='extra = [ "--vdev=crypto_aesni_mb_spbe" ];'; args=crypto_aesni_mb_spbe ;;
    esac
    if [[ $dir == encrypt ]]; then
        input=$WORK/plain-$size.pcap in_addr=198.18.0.1/24 out_addr=192.0.2.1/24
        nb_ip=192.0.2.2
    elif [[ $dir == decrypt ]]; then
        input=$WORK/esp-$size.pcap in_addr=192.0.2.1/24 out_addr=198.18.0.1/24
        nb_ip=198.18.0.2 window=0
    else
        in_addr=192.0.2.1/24 out_addr=198.18.0.1/24 nb_ip=198.18.0.2
        start_gen "$size" || { echo -; return; }
    fi
    local in_device
    if [[ $dir == decrypt-live ]]; then in_device=$(memif_client); else
        in_device=$(in_dev "$input" forever); fi
    cat >"$conf" <<CONF
name = "bench-esp";
eal = { lcores = "0-1"; main_lcore = 0; file_prefix = "$prefix"; in_memory = true;
        no_pci = true; memory_mb = 512; $extra };
workers = { lcores = [1]; idle = "poll"; burst = 32; };
mempool = { mbufs = 16383; cache = 256; data_room = 2176; };
ports = (
  { name = "in"; device = "$in_device";
    mac = "02:00:00:00:00:10"; addresses = [ "$in_addr" ]; },
  { name = "out"; device = "$(out_dev)"; mac = "02:00:00:00:00:11";
    addresses = [ "$out_addr" ]; }
);
crypto = { engine = "$engine"; args = "$args"; };
tunnels = {
  esn = false;
  replay_window = $window;
  peers = ( {
    name = "bench"; address = "192.0.2.2"; local = "192.0.2.1"; prefixes = [ "198.19.0.0/16" ];
    manual = ( { spi_in = 0x2000; spi_out = 0x1000; key_in = "$K_IN"; key_out = "$K_OUT"; } );
  } );
};
log = { level = "warning"; };
console = { socket = "$WORK/sp.sock"; };
CONF
    "$SALLYPORT" -c "$conf" >"$WORK/sp-$engine-$dir-$size.log" 2>&1 &
    PID=$!
    if ! wait_telemetry "$prefix"; then
        stop_pid
        echo "sallyport ($engine, $dir) did not start:" >&2
        tail -5 "$WORK/sp-$engine-$dir-$size.log" >&2
        echo -
        return
    fi
    "$SPCTL" -s "$WORK/sp.sock" neighbor add "$nb_ip" 02:00:00:00:00:20 dev out >/dev/null
    if [[ $MODE == verify ]]; then
        stop_pid
        return
    fi
    rate "$prefix" "$([[ $dir == decrypt-live ]] && echo "$GEN")"
    # What the worker dropped, for the log (a high rate of drops means a wrong set-up).
    "$SPCTL" -s "$WORK/sp.sock" --json show stats >"$WORK/sp-$engine-$dir-$size.stats" 2>&1 ||
        true
    stop_pid
}

# run_secgw CDEV DIR SIZE
run_secgw() {
    local cdev=$1 dir=$2 size=$3 prefix=sgbe$$ cfg=$WORK/secgw.cfg unprot input
    local alg=aes-$BITS-gcm
    local in_device
    if [[ $dir == encrypt ]]; then
        input=$WORK/plain-$size.pcap unprot=0x2 in_device=$(in_dev "$input" once)
    elif [[ $dir == decrypt ]]; then
        input=$WORK/esp-$size.pcap unprot=0x1 in_device=$(in_dev "$input" once)
    else
        unprot=0x1 in_device="$(memif_client),mac=02:00:00:00:00:10"
        start_gen "$size" || { echo -; return; }
    fi
    cat >"$cfg" <<CFG
sp ipv4 out esp protect 4096 pri 1 dst 198.19.0.0/16 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 8192 pri 1 dst 198.18.0.0/16 sport 0:65535 dport 0:65535
sa out 4096 aead_algo $alg aead_key $(colons "$K_OUT") mode ipv4-tunnel src 192.0.2.1 dst 192.0.2.2
sa in 8192 aead_algo $alg aead_key $(colons "$K_IN") mode ipv4-tunnel src 192.0.2.2 dst 192.0.2.1
rt ipv4 dst 192.0.2.2/32 port 1
rt ipv4 dst 198.18.0.0/16 port 1
neigh port 0 02:00:00:00:00:99
neigh port 1 02:00:00:00:00:20
CFG
    "$SECGW" -l 1 --main-lcore 1 --in-memory --no-pci -m 512 --file-prefix "$prefix" \
        --log-level '*:warning' --vdev "$in_device" \
        --vdev "$(out_dev)" --vdev "crypto_aesni_${cdev}_sgbe" \
        -- -p 0x3 -P -u "$unprot" --config "(0,0,1),(1,0,1)" -f "$cfg" \
        >"$WORK/secgw-$cdev-$dir-$size.log" 2>&1 &
    PID=$!
    if ! wait_telemetry "$prefix"; then
        stop_pid
        echo "ipsec-secgw ($cdev, $dir) did not start:" >&2
        tail -5 "$WORK/secgw-$cdev-$dir-$size.log" >&2
        echo -
        return
    fi
    if [[ $MODE == verify ]]; then
        sleep 1
        stop_pid
        return
    fi
    rate "$prefix" "$([[ $dir == decrypt-live ]] && echo "$GEN")"
    stop_pid
}

run_prog() {
    case $1 in
        sp-*) run_sp "${1#sp-}" "$2" "$3" ;;
        secgw-*) if [[ -n $SECGW ]]; then run_secgw "${1#secgw-}" "$2" "$3"; else echo -; fi ;;
        *) sp_die "unknown program $1" ;;
    esac
}

# Median of the rounds that ran ("-": a round that could not run); "-" when none did.
median() {
    tr ' ' '\n' | { grep '^[0-9]' || true; } | sort -n |
        awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "-"}'
}
mpps() { if [[ $1 == - ]]; then printf n/a; else awk -v v="$1" 'BEGIN{printf "%.2f", v/1e6}'; fi; }

# First, what each program makes of the input: the benchmark only counts right packets.
if ((VERIFY)); then
    echo "check: each program's output for each input, opened/decrypted by scapy"
    MODE=verify
    for dir in $DIRS; do
        # decrypt-live: only ESP that verified comes out of the program under test
        [[ $dir == decrypt-live ]] && continue
        for size in $SIZES; do
            for p in $PROGS; do
                [[ $p == secgw-* && -z $SECGW ]] && continue
                rm -f "$OUTCAP"
                run_prog "$p" "$dir" "$size" >/dev/null 2>"$WORK/err"
                [[ -s $WORK/err ]] && sed 's/^/    /' "$WORK/err"
                if [[ -s $OUTCAP ]]; then verdict=$(check_output "$dir" "$size"); else
                    verdict="no output"; fi
                printf "  %-12s %-5s %-14s %s\n" "$dir" "$size" "$p" "$verdict"
            done
        done
    done
    rm -f "$OUTCAP"
    MODE=rate
    echo
fi

echo "ESP AES-$BITS-GCM, one worker, $ROUNDS rounds of ${SECS}s, Mpps (median last)"
printf "%-12s %-5s %-14s %s\n" dir size program "per round"
declare -A med
for dir in $DIRS; do
    for size in $SIZES; do
        declare -A res=() gen=()
        for _ in $(seq "$ROUNDS"); do
            for p in $PROGS; do
                # Not in a subshell: cleanup() must see the PID of a program still running.
                rm -f "$WORK/gen-rate"
                run_prog "$p" "$dir" "$size" >"$WORK/rate"
                res[$p]="${res[$p]:-} $(cat "$WORK/rate")"
                if [[ -f $WORK/gen-rate ]]; then gen[$p]="${gen[$p]:-} $(cat "$WORK/gen-rate")"; fi
            done
        done
        for p in $PROGS; do
            m=$(echo "${res[$p]}" | median)
            med[$dir,$size,$p]=$m
            printf "%-12s %-5s %-14s %s  median %s\n" "$dir" "$size" "$p" \
                "$(for v in ${res[$p]}; do printf '%s ' "$(mpps "$v")"; done)" "$(mpps "$m")"
        done
        # sallyport's engines against the best ipsec-secgw
        best=0
        for p in $PROGS; do
            m=${med[$dir,$size,$p]}
            [[ $p == secgw-* && $m != - ]] && ((m > best)) && best=$m
        done
        if ((best > 0)); then
            for p in $PROGS; do
                [[ $p == sp-* && ${med[$dir,$size,$p]} != - ]] || continue
                awk -v a="${med[$dir,$size,$p]}" -v b="$best" -v p="$p" -v d="$dir" \
                    -v s="$size" 'BEGIN { printf "%-12s %-5s ratio %s / best ipsec-secgw = %.2f\n",
                                          d, s, p, a / b }'
            done
        fi
        for p in $PROGS; do
            [[ -n ${gen[$p]:-} ]] || continue
            printf "%-12s %-5s %-14s %s  median %s\n" "$dir" "$size" "  generator" \
                "$(for v in ${gen[$p]}; do printf '%s ' "$(mpps "$v")"; done)" \
                "$(mpps "$(echo "${gen[$p]}" | median)") (sent while $p ran)"
        done
        unset res gen
    done
done
