#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The sallyport demo, on a fresh Debian 12 machine, as root:   sudo scripts/demo.sh
#
# Installs what is missing, builds (build/), reserves hugepages, creates a small mesh in network
# namespaces and runs two gateways, g1 (conf/demo/g1.conf) and g2 (conf/demo/g2.conf), joined
# by an ESP tunnel across a transit network:
#
#  ns sp-a   client a0 10.1.0.2/24 fd01::2/64
#     |      veth sp-a1
#  g1      [inside 10.1.0.1/24 fd01::1/64]  [transit 10.3.0.1/24 fd03::1/64]  tap sp-x1 -> ns sp-g1
#                                             |  veth sp-t1
#  ns sp-t   bridge br0: the transit network (captured with tshark)
#                                             |  veth sp-t2
#  g2      [inside 10.2.0.1/24 fd02::1/64]  [transit 10.3.0.2/24 fd03::2/64]  tap sp-x2 -> ns sp-g2
#     |      veth sp-b1
#  ns sp-b   server b0 10.2.0.2/24 fd02::2/64
#
# A fresh CA (`spctl ca`) issues both gateways' certificates in the state directory; the
# gateways' key exchange (TLS 1.3, mutual authentication) derives the tunnel's keys. Then real
# traffic: pings both ways, a download from the server in B with its SHA-256 compared, iperf3,
# and a capture of the transit bridge that must hold only ESP and the key exchange's TLS. It
# prints both gateways' peers and SAs. On a terminal it opens g1's console, then g2's, until
# "quit"; without one it exits 0 only if every check passed. Everything it created is removed on
# exit, Ctrl-C included; a leftover of an interrupted run is removed first.
#
# Environment: SP_BUILD_DIR (default build); DEMO_KEEP=1 (leave the gateways running and skip
# the clean-up, for poking around; `scripts/demo.sh --down` removes it all later);
# DEMO_MANUAL=1 (random manual keys written into the configurations instead of the key
# exchange); DEMO_PREFIX (default sp: the namespaces' prefix).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/topo.sh"

P=${DEMO_PREFIX:-sp}                  # namespaces sp-a, sp-b, sp-t, sp-g1, sp-g2
[[ $P =~ ^[a-z][a-z0-9]{0,7}$ ]] || sp_die "DEMO_PREFIX: 1-8 lowercase letters or digits"
STATE=/run/sallyport-demo-$P          # pid files, logs, configuration copies, pki, capture
PKI=$STATE/pki
TD=demo.sallyport                     # the demo CA's trust domain
BUILD_DIR=${SP_BUILD_DIR:-build}
SALLYPORT="$SP_ROOT/$BUILD_DIR/app/sallyport/sallyport"
SPCTL="$SP_ROOT/$BUILD_DIR/app/spctl/spctl"
GWS=(g1 g2)

declare -A gw_pid=()
cap_pid=""
check_pid=""
results=()
nfail=0

sock_of() { echo "/run/sallyport/$P-$1.sock"; }    # console.socket in conf/demo/gN.conf
prefix_of() { echo "$P-$1"; }                      # eal.file_prefix
gw() { local g=$1; shift; "$SPCTL" -s "$(sock_of "$g")" "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# stop_old NAME: stop what an earlier run left running (its pid file), only if that pid is
# still the program it was.
stop_old() {
    local f=$STATE/$1.pid pid
    [[ -f $f ]] || return 0
    pid=$(cat "$f")
    if [[ -n $pid && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == sallyport ]]; then
        sp_say "demo: stopping $1 of an earlier run (pid $pid)"
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

stop_capture() {
    [[ -n $cap_pid ]] || return 0
    kill -TERM "$cap_pid" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$cap_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$cap_pid" 2>/dev/null || true
    wait "$cap_pid" 2>/dev/null
    cap_pid=""
}

teardown() {
    local rc g
    trap - EXIT INT TERM HUP
    # A signal may arrive while a command's output is redirected (the build): talk to the
    # user's terminal again.
    exec 1>&3 2>&4
    if [[ ${DEMO_KEEP:-0} == 1 && ${#gw_pid[@]} -gt 0 ]]; then
        stop_capture
        sp_say "demo: DEMO_KEEP=1: gateways left running (pids ${gw_pid[*]});" \
            "scripts/demo.sh --down removes them"
        return
    fi
    stop_capture
    for g in "${GWS[@]}"; do
        if [[ -n ${gw_pid[$g]:-} ]]; then
            rc=0
            sp_stop_pid "${gw_pid[$g]}" 20 || rc=$?
            sp_say "demo: $g stopped (exit status $rc; log $STATE/$g.log)"
            rm -f "$STATE/$g.pid"
            unset "gw_pid[$g]"
        fi
        stop_old "$g"
        # What a stopped primary leaves: hugepage files, its runtime directory.
        "$SP_ROOT/scripts/hugepages.sh" --clean "$(prefix_of "$g")"
        rm -rf "/var/run/dpdk/$(prefix_of "$g")"
    done
    # Servers inside the namespaces die with them.
    topo_mesh_down "$P"
    rm -rf "$STATE/www" "$STATE/download" "$PKI" "$STATE/transit.pcap" "$STATE/check.out"
    # The configuration copies stay next to the logs, without DEMO_MANUAL's keys.
    sed -i '/^ *manual = /d' "$STATE"/g[12].conf 2>/dev/null || true
}

on_signal() {
    exec 1>&3 2>&4
    sp_say ""
    sp_say "demo: interrupted, cleaning up"
    # The running check and what it started outside the namespaces (those die with them).
    if [[ -n $check_pid ]]; then
        pkill -TERM -P "$check_pid" 2>/dev/null
        kill -TERM "$check_pid" 2>/dev/null
    fi
    teardown
    exit 130
}

if [[ ${1:-} == --down ]]; then
    sp_need_root
    exec 3>&1 4>&2
    DEMO_KEEP=0
    teardown
    exit 0
fi

# check NAME CMD...: run a check, print PASS/FAIL with the last line of its output. The check
# runs in the background and the shell waits for it, so that Ctrl-C cleans up at once: bash
# runs a trap only after a foreground command has ended, and a check can take a minute.
check() {
    local name=$1 out rc
    shift
    "$@" >"$STATE/check.out" 2>&1 &
    check_pid=$!
    wait "$check_pid"
    rc=$?
    check_pid=""
    out=$(cat "$STATE/check.out")
    if [[ $rc -eq 0 ]]; then
        results+=("PASS  $name")
        printf 'PASS  %-40s %s\n' "$name" "$(tail -n 1 <<<"$out")"
    else
        results+=("FAIL  $name")
        nfail=$((nfail + 1))
        printf 'FAIL  %-40s (status %d)\n' "$name" "$rc"
        sed 's/^/      | /' <<<"$out" | tail -n 15
    fi
}

# jq-like access to `spctl --json` output without jq: py EXPR (json in `d`) < JSON.
py() { "$SP_PYTHON" -c "import json, sys; d = json.load(sys.stdin); $1"; }

# One line per gateway: "g1 -> g2 STATE EPOCH DETAIL"; up when both have an active epoch.
tunnel_state() {
    local g
    for g in "${GWS[@]}"; do
        gw "$g" --json show peers 2>/dev/null | py 'p = d["peers"][0]
print("'"$g"' ->", p["name"], p["state"] or "-", p["active_epoch"], p["detail"])' ||
            echo "$g -> ? - 0"
    done
}

wait_tunnel() {
    local out i
    for ((i = 0; i < 300; i++)); do
        out=$(tunnel_state)
        if awk '$5 == 0 { bad = 1 } END { exit bad }' <<<"$out" && [[ $(wc -l <<<"$out") -eq 2 ]]
        then
            awk '{ printf "%s%s->%s %s, epoch %s", (NR > 1 ? "; " : ""), $1, $3, $4, $5 }
                END { print "" }' <<<"$out"
            return 0
        fi
        sleep 0.1
    done
    echo "after 30 s:"
    echo "$out"
    return 1
}

ping_ok() {
    local ns=$1 dst=$2 out
    out=$(in_ns "$ns" ping -n -c 3 -i 0.2 -W 2 "$dst") || { echo "$out"; return 1; }
    awk -F'[ ,/]+' '/packets transmitted/ { printf "%s/%s replies", $4, $1 }
        /^rtt/ { printf ", rtt min/avg/max %s/%s/%s ms", $7, $8, $9 } END { print "" }' <<<"$out"
}

wait_listen() {
    local ns=$1 port=$2 out
    for _ in $(seq 1 100); do
        out=$(in_ns "$ns" ss -Hltn "sport = :$port")
        [[ -n $out ]] && { awk '{ print "listening on", $4 }' <<<"$out"; return 0; }
        sleep 0.1
    done
    echo "nothing listens on port $port in $ns"
    return 1
}

fetch_and_compare() {
    local ns=$1 url=$2 want=$3 out got
    out=$(in_ns "$ns" curl -sS --fail --connect-timeout 10 --max-time 60 -o "$STATE/download" \
        -w '%{size_download} bytes at %{speed_download} B/s' "$url") || { echo "$out"; return 1; }
    got=$(sha256sum "$STATE/download" | cut -d' ' -f1)
    rm -f "$STATE/download"
    if [[ $got != "$want" ]]; then
        echo "sha256 mismatch: got $got, want $want"
        return 1
    fi
    echo "$out, sha256 ok"
}

iperf_ok() {
    local out
    in_ns "$P-b" iperf3 -s -1 -B 10.2.0.2 -p 5201 >/dev/null 2>&1 &
    wait_listen "$P-b" 5201 || return 1
    out=$(in_ns "$P-a" timeout 30 iperf3 -c 10.2.0.2 -p 5201 -t 5 -f m --connect-timeout 10000) ||
        { echo "$out"; return 1; }
    grep -q receiver <<<"$out" || { echo "$out"; return 1; }
    grep -E 'receiver' <<<"$out" | tail -n 1 | awk '{print $7, $8, "received"}'
}

# Every SA of both gateways on the configured engine, both directions, traffic, no drop.
# Path-MTU refusals ("mtu": a full-size DF packet gets ICMP "fragmentation needed" with the
# tunnel's MTU, then the sender fits) are the tunnel working, not a fault; any other drop is.
sas_ok() {
    local g out n engines drops idle dirs line="" bad=0
    for g in "${GWS[@]}"; do
        out=$(gw "$g" --json show sa | py '
sas = d["sas"]
print(len(sas), ",".join(sorted({s["engine"] for s in sas})) or "-",
      sum(v for s in sas for k, v in s["drops"].items() if k != "mtu"),
      ",".join(s["spi_hex"] for s in sas if s["active"] and s["packets"] == 0) or "-",
      ",".join(sorted({s["dir"] for s in sas})) or "-")') ||
            { echo "$g: show sa failed"; return 1; }
        read -r n engines drops idle dirs <<<"$out"
        line+="${line:+; }$g: $n SAs ($dirs), $engines, $drops drops"
        [[ $idle == - ]] || line+=", no traffic on $idle"
        [[ $n -ge 2 && $engines == "$(crypto_engine "$g")" && $drops -eq 0 && $idle == - &&
            $dirs == in,out ]] || bad=1
    done
    echo "$line"
    return $bad
}

crypto_engine() { sed -n 's/^ *engine = "\([a-z_]*\)";.*/\1/p' "$STATE/$1.conf"; }

# The transit bridge may carry ESP, the key exchange (TCP 4501: TLS records; the capture keeps
# 128 bytes of each frame, enough for the record and handshake headers) and neighbour
# resolution; nothing with an address of segment A or B, and no other protocol.
capture_ok() {
    local f=$STATE/transit.pcap sum rc
    stop_capture
    [[ -s $f ]] || { echo "no capture file"; return 1; }
    sum=$(LC_ALL=C tshark -r "$f" -T fields -E separator=/t -e frame.protocols -e esp.spi \
        -e ip.addr -e ipv6.addr -e tcp.port -e tcp.payload 2>/dev/null |
        awk -F'\t' -v manual="${DEMO_MANUAL:-0}" '
        { n++ }
        $1 ~ /:esp/ { esp++; next }
        $3 ~ /(^|,)10\.[12]\.0\./ || $4 ~ /(^|,)fd0[12]:/ { clear++; next }
        $1 ~ /:tcp/ && $5 ~ /(^|,)4501(,|$)/ {
            kx++
            p = tolower($6)
            if (p ~ /^16030[13]/ && substr(p, 11, 2) == "01") ch++  # ClientHello
            else if (p ~ /^16030[13]/ && substr(p, 11, 2) == "02") sh++  # ServerHello
            else if (p ~ /^170303/) enc++  # encrypted record
            next
        }
        $1 ~ /:arp$/ || $1 ~ /:icmpv6$/ { nd++; next }
        { other++; if (!ex) ex = $1 }
        END {
            printf "%d frames: %d ESP, %d key exchange (%d ClientHello, %d ServerHello, %d " \
                "encrypted), %d ARP/ND, %d in clear, %d other%s\n", n, esp, kx, ch, sh, enc,
                nd, clear, other, ex ? " (" ex ")" : ""
            exit !(esp > 1000 && clear == 0 && other == 0 && (manual == 1 || (ch && sh)))
        }')
    rc=$?
    echo "$sum"
    return $rc
}

# gen_conf G: conf/demo/G.conf for this run: names of another DEMO_PREFIX, and manual SAs
# (fresh random keys, shared by both configurations) with DEMO_MANUAL=1.
gen_conf() {
    local g=$1 out=$STATE/$1.conf
    sed -E -e "s/\bsp-(a1|b1|t1|t2|x1|x2|g1|g2)\b/$P-\1/g" \
        -e "s|/run/sallyport-demo-sp/|$STATE/|g" "$SP_ROOT/conf/demo/$g.conf" >"$out"
    if [[ ${DEMO_MANUAL:-0} == 1 ]]; then
        local in=$MAN_SPI_12 outs=$MAN_SPI_21 kin=$MAN_KEY_21 kout=$MAN_KEY_12
        if [[ $g == g2 ]]; then
            in=$MAN_SPI_21 outs=$MAN_SPI_12 kin=$MAN_KEY_12 kout=$MAN_KEY_21
        fi
        sed -i -E "/^ *prefixes = \[/a\\
      manual = ( { spi_in = $in; spi_out = $outs; key_in = \"$kin\"; key_out = \"$kout\"; } );" \
            "$out"
    fi
    chmod 600 "$out"
}

# make_pki: a root CA, an intermediate, g1's and g2's certificates, both CRLs, the bundle.
make_pki() {
    rm -rf "$PKI"
    mkdir -m 700 "$PKI"
    (
        set -e
        "$SPCTL" ca init --trust-domain "$TD" --out "$PKI/root"
        "$SPCTL" ca intermediate --root-cert "$PKI/root/root.crt" --root-key "$PKI/root/root.key" \
            --out "$PKI/ca"
        for g in "${GWS[@]}"; do
            "$SPCTL" ca issue gateway --ca-cert "$PKI/ca/intermediate.crt" \
                --ca-key "$PKI/ca/intermediate.key" --name "$g" --days 1 --out "$PKI"
        done
        "$SPCTL" ca crl --ca-cert "$PKI/root/root.crt" --ca-key "$PKI/root/root.key" \
            --out "$PKI/root.crl"
        "$SPCTL" ca crl --ca-cert "$PKI/ca/intermediate.crt" --ca-key "$PKI/ca/intermediate.key" \
            --out "$PKI/intermediate.crl"
        "$SPCTL" ca bundle --out "$PKI/bundle.pem" "$PKI/root/root.crt"
    ) >"$STATE/pki.log" 2>&1
}

start_gateway() {
    local g=$1 conf=$STATE/$1.conf
    "$SALLYPORT" --check-config "$conf" >/dev/null || { sp_warn "$conf is invalid"; return 1; }
    "$SALLYPORT" -c "$conf" </dev/null >"$STATE/$g.log" 2>&1 &
    gw_pid[$g]=$!
    echo "${gw_pid[$g]}" >"$STATE/$g.pid"
    if ! sp_wait_socket "$(sock_of "$g")" "${gw_pid[$g]}" 60; then
        tail -n 30 "$STATE/$g.log"
        sp_warn "$g did not start (see $STATE/$g.log)"
        return 1
    fi
    sp_say "demo: $g running (pid ${gw_pid[$g]}), console $(sock_of "$g")"
}

# ------------------------------------------------------------------------------------------
sp_need_root
mkdir -p "$STATE"
exec 3>&1 4>&2
trap teardown EXIT
trap on_signal INT TERM HUP
t0=$SECONDS

sp_say "demo: checking packages"
"$SP_ROOT/scripts/install-deps.sh" || sp_die "installing packages failed"
if ! command -v tshark >/dev/null; then
    sp_say "demo: installing tshark (the transit capture)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q tshark >"$STATE/apt.log" 2>&1 ||
        { cat "$STATE/apt.log"; sp_die "installing tshark failed"; }
fi
sp_say "demo: building ($BUILD_DIR/; a few minutes the first time, log $STATE/build.log)"
sp_build "$BUILD_DIR" >"$STATE/build.log" 2>&1 || { cat "$STATE/build.log"; sp_die "build failed"; }
"$SP_ROOT/scripts/hugepages.sh" 512 || sp_die "cannot reserve hugepages"
t_built=$SECONDS

# Leftovers of an interrupted run: gateways, namespaces (of this demo and of the one-gateway
# demo before it), hugepage files.
for g in "${GWS[@]}" gateway; do
    stop_old "$g"
done
topo_down "$P"
topo_mesh_down "$P"
for g in "${GWS[@]/#/$P-}" "$P-demo"; do
    "$SP_ROOT/scripts/hugepages.sh" --clean "$g"
    rm -rf "/var/run/dpdk/$g"
done

sp_say "demo: creating namespaces $P-a, $P-b, $P-t (transit), $P-g1, $P-g2"
topo_mesh_up "$P" || sp_die "cannot create the topology"

sp_say "demo: creating a CA (trust domain $TD) and the gateways' certificates in $PKI"
make_pki || { cat "$STATE/pki.log"; sp_die "spctl ca failed"; }
if [[ ${DEMO_MANUAL:-0} == 1 ]]; then
    sp_say "demo: DEMO_MANUAL=1: random manual keys instead of the key exchange"
    hexrand() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
    MAN_KEY_12=$(hexrand 36) MAN_KEY_21=$(hexrand 36)
    MAN_SPI_12=$((0x10000 + 0x$(hexrand 2))) MAN_SPI_21=$((0x20000 + 0x$(hexrand 2)))
fi
for g in "${GWS[@]}"; do
    gen_conf "$g"
done

# The capture runs from before the first packet of the gateways to the end of the traffic.
rm -f "$STATE/transit.pcap"
in_ns "$P-t" tshark -q -i br0 -s 128 -w "$STATE/transit.pcap" >"$STATE/tshark.log" 2>&1 &
cap_pid=$!
for _ in $(seq 1 100); do
    [[ -s $STATE/transit.pcap ]] && break
    sleep 0.1
done
[[ -s $STATE/transit.pcap ]] || { cat "$STATE/tshark.log"; sp_die "tshark did not start"; }

for g in "${GWS[@]}"; do
    sp_say "demo: starting $g: sallyport -c $STATE/$g.conf (log $STATE/$g.log)"
    start_gateway "$g" || sp_die "cannot start $g"
done
sp_say ""

# Content: 16 MiB of random bytes on the server in B.
mkdir -p "$STATE/www"
head -c $((16 << 20)) /dev/urandom >"$STATE/www/blob"
blob_sum=$(sha256sum "$STATE/www/blob" | cut -d' ' -f1)
in_ns "$P-b" "$SP_PYTHON" -m http.server --bind :: 8000 --directory "$STATE/www" \
    >/dev/null 2>&1 &

if [[ ${DEMO_MANUAL:-0} == 1 ]]; then
    check "tunnel g1 <-> g2 (manual keys)" wait_tunnel
else
    check "tunnel g1 <-> g2 (key exchange)" wait_tunnel
fi
check "ping 10.2.0.2 (A -> B, IPv4)" ping_ok "$P-a" 10.2.0.2
check "ping fd02::2 (A -> B, IPv6)" ping_ok "$P-a" fd02::2
check "ping 10.1.0.2 (B -> A, IPv4)" ping_ok "$P-b" 10.1.0.2
check "ping fd01::2 (B -> A, IPv6)" ping_ok "$P-b" fd01::2
check "http server ready in $P-b" wait_listen "$P-b" 8000
check "curl 16 MiB A <- B, IPv4, sha256" \
    fetch_and_compare "$P-a" http://10.2.0.2:8000/blob "$blob_sum"
check "curl 16 MiB A <- B, IPv6, sha256" \
    fetch_and_compare "$P-a" "http://[fd02::2]:8000/blob" "$blob_sum"
check "iperf3 5 s A -> B" iperf_ok
check "SAs: engine, traffic, no drops but PMTU" sas_ok
check "transit capture: only ESP + key exchange" capture_ok

for g in "${GWS[@]}"; do
    sp_say ""
    sp_say "---- $g: spctl show peers ----"
    gw "$g" show peers || true
    sp_say "---- $g: spctl show sa ----"
    gw "$g" show sa || true
done
sp_say ""
sp_say "---- checks ----"
printf '%s\n' "${results[@]}"
sp_say "$(( ${#results[@]} - nfail )) passed, $nfail failed" \
    "($((SECONDS - t_built)) s after the build, $((SECONDS - t0)) s in all)"

# The consoles: g1's (segment A's gateway), then g2's.
if [[ -t 0 && -t 1 ]]; then
    for g in "${GWS[@]}"; do
        if [[ $g == "${GWS[0]}" ]]; then
            other=${GWS[1]} next="moves on to $other's console" try="$P-a ping 10.2.0.2"
        else
            other=${GWS[0]} next="stops both gateways and cleans up" try="$P-b ping 10.1.0.2"
        fi
        sp_say ""
        sp_say "demo: $g's console ($(sock_of "$g")). Type 'help' for the commands (tab completes),"
        sp_say "      e.g. 'show peers', 'show sa', 'peer rekey $other', 'show stats';"
        sp_say "      'quit' (or Ctrl-D) $next."
        sp_say "      Other shells: ip netns exec $try    $SPCTL -s $(sock_of "$g")"
        gw "$g" || true
    done
fi
[[ $nfail -eq 0 ]]
