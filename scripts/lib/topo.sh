# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# The two-segment topology used by the demo and the integration tests. Source it.
#
#  ns P-a (client)                       sallyport                      ns P-b (server)
#  a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
#                                          [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
#  default via 10.1.0.1 / fd01::1                                          default via 10.2.0.1 / fd02::1
#                       exception tap (kernel side) -> ns P-gw (the gateway's own kernel side)
#
# The gateway runs in the root namespace and opens P-a1 and P-b1 with net_af_packet. The kernel
# still sees every frame on those ends, so they get no address, no IPv6 and no forwarding: only
# the gateway answers.

# topo_ns_names P: print the three namespace names.
topo_ns_names() { printf '%s\n' "$1-a" "$1-b" "$1-gw"; }

# topo_down P: remove everything topo_up P creates (and the exception tap if one was left).
# Quiet and idempotent.
topo_down() {
    local p=$1 ns
    for ns in $(topo_ns_names "$p"); do
        if ip netns list | grep -qw -- "^$ns"; then
            # Processes left inside (servers from an interrupted run) keep nothing alive once
            # the namespace is gone, but kill them so they do not linger.
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    ip link del "$p-a1" 2>/dev/null || true
    ip link del "$p-b1" 2>/dev/null || true
}

# Offloads off on both ends of a veth, else af_packet hands TCP segments with unfinished
# checksums or oversized GSO frames to the gateway and TCP silently stalls; VLAN tags stay in
# the frame instead of the skb's metadata. _topo_offloads_off DEV [NS]
_topo_offloads_off() {
    local run=()
    [[ -n ${2:-} ]] && run=(ip netns exec "$2")
    "${run[@]}" ethtool -K "$1" tx off tso off gso off gro off rxvlan off txvlan off \
        >/dev/null 2>&1 || true
}

# _topo_veth P ROOT PEER NS BLOCK SLOT: the veth pair ROOT (root namespace) / PEER (in NS)
# with a chosen interface index for ROOT. net_af_packet names its fanout group
# (getpid() ^ ifindex) & 0xffff, and a second gateway joining a group that the first one
# bound to another interface fails with EINVAL. Gateways start seconds apart, so their pids
# differ in the low bits only: the gateway-1 side's ends get bit 14 (BLOCK 1), gateway 2's
# bit 15 (BLOCK 2), so the two can never name the same group. Falls back to any index when
# that one is taken.
_topo_veth() {
    local p=$1 root=$2 peer=$3 ns=$4 block=$5 slot=$6 h idx
    h=$(($(printf '%s' "$p" | cksum | cut -d' ' -f1) % 4096))
    idx=$((65536 + block * 16384 + h * 4 + slot))
    ip link add "$root" index "$idx" type veth peer name "$peer" netns "$ns" 2>/dev/null ||
        ip link add "$root" type veth peer name "$peer" netns "$ns"
}

# topo_segment P SIDE NET6 NET4: one client/server namespace and its veth pair.
_topo_segment() {
    local p=$1 side=$2 n4=$3 n6=$4
    local ns="$p-$side" root="$p-${side}1" inner="${side}0"
    ip netns add "$ns"
    # side a faces the first gateway (mesh: g1), side b the second (g2)
    _topo_veth "$p" "$root" "$inner" "$ns" "$([[ $side == a ]] && echo 1 || echo 2)" 0
    # Root side: no IPv6 (no link-local, no RS/ND noise), no IPv4 forwarding, no ARP answers.
    sysctl -qw "net.ipv6.conf.$root.disable_ipv6=1"
    sysctl -qw "net.ipv4.conf.$root.forwarding=0"
    sysctl -qw "net.ipv4.conf.$root.arp_ignore=8"
    _topo_offloads_off "$root"
    ip link set "$root" up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$inner.accept_dad=0"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$inner.accept_ra=0"
    _topo_offloads_off "$inner" "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$inner" up
    ip -n "$ns" addr add "$n4.2/24" dev "$inner"
    ip -n "$ns" -6 addr add "$n6::2/64" dev "$inner" nodad
    ip -n "$ns" route add default via "$n4.1"
    ip -n "$ns" -6 route add default via "$n6::1"
}

# topo_up P: create the namespaces and veths (after removing any leftover of the same P).
topo_up() {
    local p=$1
    topo_down "$p"
    _topo_segment "$p" a 10.1.0 fd01 || return 1
    _topo_segment "$p" b 10.2.0 fd02 || return 1
    # The gateway's kernel side: sallyport moves its exception tap in here.
    ip netns add "$p-gw"
    ip -n "$p-gw" link set lo up
}

# ---- the mesh: two segments, each behind its own gateway, joined by a transit network ----
#
#  ns P-a (client)          gateway 1                 ns P-t (transit)               gateway 2          ns P-b (server)
#  a0 10.1.0.2/24 --- P-a1 [inside 10.1.0.1/24 ]                                   [inside 10.2.0.1/24] P-b1 --- b0 10.2.0.2/24
#     fd01::2/64           [ fd01::1/64        ]   t1 -- bridge br0 -- t2           [ fd02::1/64       ]        fd02::2/64
#                          [transit 10.3.0.1/24] P-t1                P-t2 [transit 10.3.0.2/24]
#                          [        fd03::1/64 ]                          [        fd03::2/64 ]
#  exception taps: gateway 1 -> ns P-g1, gateway 2 -> ns P-g2 (key exchange runs there)
#
# Only ESP (and the key exchange's TLS) crosses br0: capture there to see what the mesh link
# carries.

topo_mesh_ns_names() { printf '%s\n' "$1-a" "$1-b" "$1-t" "$1-g1" "$1-g2"; }

topo_mesh_down() {
    local p=$1 ns
    for ns in $(topo_mesh_ns_names "$p"); do
        if ip netns list | grep -qw -- "^$ns"; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    for ns in a1 b1 t1 t2; do
        ip link del "$p-$ns" 2>/dev/null || true
    done
}

# _topo_transit_leg P N: root-side veth P-tN, its peer tN on the bridge in P-t.
_topo_transit_leg() {
    local p=$1 n=$2 root="$p-t$2"
    _topo_veth "$p" "$root" "t$n" "$p-t" "$n" 1
    sysctl -qw "net.ipv6.conf.$root.disable_ipv6=1"
    sysctl -qw "net.ipv4.conf.$root.forwarding=0"
    sysctl -qw "net.ipv4.conf.$root.arp_ignore=8"
    _topo_offloads_off "$root"
    _topo_offloads_off "t$n" "$p-t"
    ip -n "$p-t" link set "t$n" master br0
    ip -n "$p-t" link set "t$n" up
    ip link set "$root" up
}

topo_mesh_up() {
    local p=$1
    topo_mesh_down "$p"
    _topo_segment "$p" a 10.1.0 fd01 || return 1
    _topo_segment "$p" b 10.2.0 fd02 || return 1
    ip netns add "$p-t"
    ip -n "$p-t" link set lo up
    ip netns exec "$p-t" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$p-t" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip -n "$p-t" link add br0 type bridge
    ip netns exec "$p-t" sysctl -qw net.ipv6.conf.br0.disable_ipv6=1 2>/dev/null || true
    ip -n "$p-t" link set br0 up
    _topo_transit_leg "$p" 1 || return 1
    _topo_transit_leg "$p" 2 || return 1
    ip netns add "$p-g1"
    ip -n "$p-g1" link set lo up
    ip netns add "$p-g2"
    ip -n "$p-g2" link set lo up
}
