#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The sallyport demo, on a fresh Debian 12 machine, as root:   sudo scripts/demo.sh
#
# Installs what is missing, builds (build/), reserves hugepages, creates two segments in network
# namespaces, starts the gateway with conf/demo/gateway.conf and sends real traffic through it:
#
#  ns sp-a (client)                       sallyport                       ns sp-b (server)
#  a0 10.1.0.2/24 fd01::2/64 --- veth sp-a1 [port inside  10.1.0.1/24 fd01::1/64]
#                                           [port outside 10.2.0.1/24 fd02::1/64] veth sp-b1 --- b0 10.2.0.2/24 fd02::2/64
#  default via 10.1.0.1 / fd01::1                                          default via 10.2.0.1 / fd02::1
#                       exception tap sp0 -> ns sp-gw (the gateway's kernel side: 10.1.0.1, 10.2.0.1, ...)
#
# Then it prints the gateway's counters. On a terminal it opens the console (spctl) until you
# type "quit"; without one it exits 0 only if every traffic check passed. Everything it created
# is removed on exit, Ctrl-C included; a leftover of an interrupted run is removed first.
#
# Environment: SP_BUILD_DIR (default build), DEMO_KEEP=1 (leave the gateway running and skip
# the clean-up, for poking around; `scripts/demo.sh --down` removes it later).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/topo.sh"

P=${DEMO_PREFIX:-sp}                  # topology prefix: namespaces sp-a, sp-b, sp-gw
[[ $P =~ ^[a-z][a-z0-9]{0,7}$ ]] || sp_die "DEMO_PREFIX: 1-8 lowercase letters or digits"
CONF="$SP_ROOT/conf/demo/gateway.conf"
FILE_PREFIX=$P-demo                   # eal.file_prefix in $CONF
SOCK=/run/sallyport/$P-demo.sock      # console.socket
STATE=/run/sallyport-demo-$P          # pid file, log, served files, config copy
BUILD_DIR=${SP_BUILD_DIR:-build}
SALLYPORT="$SP_ROOT/$BUILD_DIR/app/sallyport/sallyport"
SPCTL="$SP_ROOT/$BUILD_DIR/app/spctl/spctl"

gw_pid=""
results=()
nfail=0

spctl() { "$SPCTL" -s "$SOCK" "$@"; }

# Stop a gateway left by an earlier run (its pid file), only if that pid is still sallyport.
stop_old_gateway() {
    local pid
    [[ -f $STATE/gateway.pid ]] || return 0
    pid=$(cat "$STATE/gateway.pid")
    if [[ -n $pid && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == sallyport ]]; then
        sp_say "demo: stopping the gateway of an earlier run (pid $pid)"
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/gateway.pid"
}

teardown() {
    local rc
    trap - EXIT INT TERM HUP
    # A signal may arrive while a command's output is redirected (the build): talk to the
    # user's terminal again.
    exec 1>&3 2>&4
    if [[ ${DEMO_KEEP:-0} == 1 && -n $gw_pid ]]; then
        sp_say "demo: DEMO_KEEP=1: gateway $gw_pid left running; scripts/demo.sh --down removes it"
        return
    fi
    if [[ -n $gw_pid ]]; then
        rc=0
        sp_stop_pid "$gw_pid" 20 || rc=$?
        sp_say "demo: gateway stopped (exit status $rc; log $STATE/gateway.log)"
        rm -f "$STATE/gateway.pid"
        gw_pid=""
    fi
    stop_old_gateway
    # Servers inside the namespaces die with them.
    topo_down "$P"
    "$SP_ROOT/scripts/hugepages.sh" --clean "$FILE_PREFIX"
    rm -rf "$STATE/www" "$STATE/www-gw" "$STATE/download"
}

on_signal() {
    exec 1>&3 2>&4
    sp_say ""
    sp_say "demo: interrupted, cleaning up"
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

# check NAME CMD...: run a traffic check, print PASS/FAIL with its own short output.
check() {
    local name=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [[ $rc -eq 0 ]]; then
        results+=("PASS  $name")
        printf 'PASS  %-44s %s\n' "$name" "$(tail -n 1 <<<"$out")"
    else
        results+=("FAIL  $name")
        nfail=$((nfail + 1))
        printf 'FAIL  %-44s (status %d)\n' "$name" "$rc"
        sed 's/^/      | /' <<<"$out" | tail -n 15
    fi
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

ping_ok() {
    local ns=$1 dst=$2 out
    out=$(in_ns "$ns" ping -n -c 3 -i 0.2 -W 2 "$dst") || { echo "$out"; return 1; }
    grep -E 'packet loss|rtt' <<<"$out" | tr '\n' ' '
    echo
}

wait_listen() {
    local ns=$1 port=$2
    for _ in $(seq 1 100); do
        [[ -n $(in_ns "$ns" ss -Hltn "sport = :$port") ]] && return 0
        sleep 0.1
    done
    echo "nothing listens on port $port in $ns"
    return 1
}

fetch_and_compare() {
    local ns=$1 url=$2 want=$3 out
    out=$(in_ns "$ns" curl -sS --fail --max-time 60 -o "$STATE/download" \
        -w '%{size_download} bytes at %{speed_download} B/s' "$url") || { echo "$out"; return 1; }
    local got
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
    out=$(in_ns "$P-a" timeout 30 iperf3 -c 10.2.0.2 -p 5201 -t 5 -f m) || { echo "$out"; return 1; }
    grep -E 'receiver' <<<"$out" | tail -n 1 | awk '{print $5, $6, $7, $8, "received"}'
    grep -q receiver <<<"$out"
}

ttl_probe() {
    local out
    out=$(in_ns "$P-a" ping -n -c 1 -t 1 -W 2 10.2.0.2)
    grep -q 'From 10.1.0.1.*Time to live exceeded' <<<"$out" || { echo "$out"; return 1; }
    grep 'Time to live exceeded' <<<"$out"
}

# ------------------------------------------------------------------------------------------
sp_need_root
mkdir -p "$STATE"
exec 3>&1 4>&2
trap teardown EXIT
trap on_signal INT TERM HUP

sp_say "demo: checking packages"
"$SP_ROOT/scripts/install-deps.sh" || sp_die "installing packages failed"
sp_say "demo: building ($BUILD_DIR/; a few minutes the first time, log $STATE/build.log)"
sp_build "$BUILD_DIR" >"$STATE/build.log" 2>&1 || { cat "$STATE/build.log"; sp_die "build failed"; }
"$SP_ROOT/scripts/hugepages.sh" 512 || sp_die "cannot reserve hugepages"

# Leftovers of an interrupted run: its gateway, namespaces, hugepage files.
stop_old_gateway
topo_down "$P"
"$SP_ROOT/scripts/hugepages.sh" --clean "$FILE_PREFIX"

sp_say "demo: creating namespaces $P-a, $P-b, $P-gw"
topo_up "$P" || sp_die "cannot create the topology"

# conf/demo/gateway.conf names the "sp" topology; another DEMO_PREFIX gets a renamed copy
# (so that a second demo, or the demo next to a developer's own "sp" namespaces, can run).
sed -e "s/sp-a1/$P-a1/; s/sp-b1/$P-b1/; s/\"sp-gw\"/\"$P-gw\"/; s/\"sp0\"/\"${P}0\"/" \
    -e "s/\"sp-demo\"/\"$FILE_PREFIX\"/; s|\"/run/sallyport/sp-demo.sock\"|\"$SOCK\"|" \
    "$CONF" >"$STATE/gateway.conf"
CONF=$STATE/gateway.conf
"$SALLYPORT" --check-config "$CONF" >/dev/null || sp_die "$CONF is invalid"
sp_say "demo: starting sallyport -c $CONF (log: $STATE/gateway.log)"
"$SALLYPORT" -c "$CONF" </dev/null >"$STATE/gateway.log" 2>&1 &
gw_pid=$!
echo "$gw_pid" >"$STATE/gateway.pid"
if ! sp_wait_socket "$SOCK" "$gw_pid" 60; then
    tail -n 30 "$STATE/gateway.log"
    sp_die "the gateway did not start (see $STATE/gateway.log)"
fi
sp_say "demo: gateway running (pid $gw_pid), console $SOCK"
sp_say ""

# Content: 16 MiB of random bytes on the server, a page on the gateway's kernel side.
mkdir -p "$STATE/www" "$STATE/www-gw"
head -c $((16 << 20)) /dev/urandom >"$STATE/www/blob"
blob_sum=$(sha256sum "$STATE/www/blob" | cut -d' ' -f1)
echo "hello from the gateway's kernel side" >"$STATE/www-gw/hello"
hello_sum=$(sha256sum "$STATE/www-gw/hello" | cut -d' ' -f1)
in_ns "$P-b" "$SP_PYTHON" -m http.server --bind :: 8000 --directory "$STATE/www" \
    >/dev/null 2>&1 &

check "ping 10.2.0.2 (client -> server, IPv4)" ping_ok "$P-a" 10.2.0.2
check "ping fd02::2 (client -> server, IPv6)" ping_ok "$P-a" fd02::2
check "ping 10.1.0.1 (the gateway, IPv4)" ping_ok "$P-a" 10.1.0.1
check "ping fd01::1 (the gateway, IPv6)" ping_ok "$P-a" fd01::1
check "http server ready in $P-b" wait_listen "$P-b" 8000
check "curl 16 MiB over IPv4, sha256 compared" \
    fetch_and_compare "$P-a" http://10.2.0.2:8000/blob "$blob_sum"
check "curl 16 MiB over IPv6, sha256 compared" \
    fetch_and_compare "$P-a" "http://[fd02::2]:8000/blob" "$blob_sum"
check "iperf3 5 s client -> server" iperf_ok
check "TTL 1 probe answered by 10.1.0.1" ttl_probe
# The exception path: a listener on the gateway's own address, in its kernel namespace.
for _ in $(seq 1 50); do
    ip -n "$P-gw" addr show 2>/dev/null | grep -qw 10.1.0.1 && break
    sleep 0.1
done
in_ns "$P-gw" "$SP_PYTHON" -m http.server --bind 10.1.0.1 8080 --directory "$STATE/www-gw" \
    >/dev/null 2>&1 &
check "listener on 10.1.0.1:8080 in $P-gw" wait_listen "$P-gw" 8080
check "curl http://10.1.0.1:8080 (exception path)" \
    fetch_and_compare "$P-a" http://10.1.0.1:8080/hello "$hello_sum"

sp_say ""
sp_say "---- spctl show stats ----"
spctl show stats || true
sp_say ""
sp_say "---- spctl show ports ----"
spctl show ports || true
sp_say ""
sp_say "---- traffic checks ----"
printf '%s\n' "${results[@]}"
sp_say "$(( ${#results[@]} - nfail )) passed, $nfail failed"

if [[ -t 0 && -t 1 ]]; then
    sp_say ""
    sp_say "demo: opening the gateway's console. Type 'help' for the commands (tab completes),"
    sp_say "      e.g. 'show stats', 'show neighbors', 'route add 10.9.0.0/24 via 10.2.0.2';"
    sp_say "      'quit' (or Ctrl-D) leaves the console, stops the gateway and cleans up."
    sp_say "      Other shells: ip netns exec $P-a ping 10.2.0.2    spctl: $SPCTL -s $SOCK"
    spctl || true
fi
[[ $nfail -eq 0 ]]
