# SPDX-License-Identifier: BSD-3-Clause
"""Malformed-frame sender for test_malformed.py, run inside the client namespace.

    ip netns exec P-a /usr/bin/python3 craft.py IFACE GATEWAY_MAC

Reads lines "CASE COUNT" on stdin, sends COUNT copies of that frame on IFACE with scapy, and
answers "ok CASE" (or "error ...") on stdout, so scapy is imported once for all cases.
"""

import sys

from scapy.all import (ARP, ICMP, IP, Dot1Q, Ether, ICMPv6EchoRequest, ICMPv6ND_NS,
                       ICMPv6NDOptSrcLLAddr, IPv6, Raw, conf, get_if_hwaddr, sendp)

SRC4, DST4, GW4 = "10.1.0.2", "10.2.0.2", "10.1.0.1"
SRC6, DST6, GW6 = "fd01::2", "fd02::2", "fd01::1"


def cases(gw, me):
    eth = Ether(dst=gw, src=me)
    echo4 = IP(src=SRC4, dst=DST4) / ICMP(id=7) / Raw(b"sallyport" * 4)
    echo6 = IPv6(src=SRC6, dst=DST6) / ICMPv6EchoRequest(id=7) / Raw(b"sallyport" * 4)
    ns_mc = "ff02::1:ff00:77"
    return {
        # (A runt VLAN frame cannot be sent this way: the receiving kernel drops a VLAN
        # ethertype without a whole tag before any packet socket sees it; lib/pkt's unit tests
        # cover eth-truncated.)
        # Runts: just an Ethernet header (14 bytes, no padding to 60 on a veth).
        "runt_ip4": bytes(Ether(dst=gw, src=me, type=0x0800)),
        "runt_ip6": bytes(Ether(dst=gw, src=me, type=0x86dd)),
        "runt_arp": bytes(Ether(dst=gw, src=me, type=0x0806)),
        "eth_not_for_us": bytes(Ether(dst="02:00:00:00:99:99", src=me) / echo4),
        "ethertype_unknown": bytes(Ether(dst=gw, src=me, type=0x88b5) / Raw(b"\0" * 46)),
        "vlan_unknown": bytes(eth / Dot1Q(vlan=999) / echo4),
        "qinq": bytes(eth / Dot1Q(vlan=100, type=0x8100) / Dot1Q(vlan=5) / echo4),
        "ip4_no_header": bytes(Ether(dst=gw, src=me, type=0x0800) / Raw(b"\x45\x00\x00")),
        "ip4_truncated": bytes(eth / echo4)[:14 + 12],
        "ip4_total_length": bytes(eth / IP(src=SRC4, dst=DST4, len=1000) / ICMP()),
        "ip4_bad_checksum": bytes(eth / IP(src=SRC4, dst=DST4, chksum=0xdead) / ICMP()),
        "ip4_bad_version": bytes(eth / IP(src=SRC4, dst=DST4, version=5) / ICMP()),
        "ip4_ihl_short": bytes(eth / IP(src=SRC4, dst=DST4, ihl=4) / ICMP()),
        "ip4_total_below_ihl": bytes(eth / IP(src=SRC4, dst=DST4, len=12) / ICMP()),
        "ip4_martian_src": bytes(eth / IP(src="127.0.0.1", dst=DST4) / ICMP()),
        "ip4_multicast_dst": bytes(eth / IP(src=SRC4, dst="239.1.2.3") / ICMP()),
        "icmp4_bad_checksum": bytes(eth / IP(src=SRC4, dst=GW4) / ICMP(chksum=0x1234)),
        "arp_garbage": bytes(Ether(dst=gw, src=me, type=0x0806) / Raw(b"\x00\x01\x08\x00\x06")),
        "arp_bad_hwlen": bytes(Ether(dst=gw, src=me) /
                               ARP(hwlen=8, op=1, psrc=SRC4, pdst=GW4) / Raw(b"\0" * 20)),
        "arp_not_for_us": bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=me) /
                                ARP(op=1, hwsrc=me, psrc=SRC4, pdst="10.1.0.77")),
        "ip6_truncated": bytes(eth / echo6)[:14 + 30],
        "ip6_bad_plen": bytes(eth / IPv6(src=SRC6, dst=DST6, plen=1000) / ICMPv6EchoRequest()),
        "ip6_bad_version": bytes(Ether(dst=gw, src=me, type=0x86dd) / IP(src=SRC4, dst=DST4) /
                                 ICMP() / Raw(b"\0" * 20)),
        "ip6_martian_src": bytes(eth / IPv6(src="::1", dst=DST6) / ICMPv6EchoRequest()),
        "ndp_bad_hlim": bytes(eth / IPv6(src=SRC6, dst=GW6, hlim=64) / ICMPv6ND_NS(tgt=GW6) /
                              ICMPv6NDOptSrcLLAddr(lladdr=me)),
        "ndp_not_for_us": bytes(Ether(dst="33:33:ff:00:00:77", src=me) /
                                IPv6(src=SRC6, dst=ns_mc, hlim=255) /
                                ICMPv6ND_NS(tgt="fd01::77") / ICMPv6NDOptSrcLLAddr(lladdr=me)),
    }


def main():
    iface, gw = sys.argv[1], sys.argv[2]
    conf.verb = 0
    frames = cases(gw, get_if_hwaddr(iface))
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        name, count = words[0], int(words[1]) if len(words) > 1 else 1
        if name == "list":
            print(" ".join(sorted(frames)), flush=True)
            continue
        if name not in frames:
            print(f"error unknown case {name}", flush=True)
            continue
        sendp([Raw(frames[name])] * count, iface=iface, verbose=False)
        print(f"ok {name}", flush=True)


if __name__ == "__main__":
    main()
