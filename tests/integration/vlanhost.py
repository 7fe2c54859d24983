# SPDX-License-Identifier: BSD-3-Clause
"""A host on an 802.1Q VLAN, in user space, for test_vlan.py.

The test kernels have no 802.1Q support (CONFIG_VLAN_8021Q and bridge VLAN filtering are off),
so the VLAN's client is this small scapy stack on the client's veth end:

    ip netns exec P-a /usr/bin/python3 vlanhost.py IFACE VLAN MAC IPV4 IPV6 GATEWAY_MAC

It answers ARP, neighbour solicitations and echo requests for IPV4/IPV6 on VLAN, and takes
commands on stdin, one answer line each on stdout:
    ping DST COUNT    send COUNT echo requests from our address, answer "ok SENT RECEIVED"
    stats             answer "ok arp=N nd=N echo=N"
"""

import select
import socket
import sys
import threading
import time

from scapy.all import (ARP, ICMP, IP, Dot1Q, Ether, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IPv6, Raw, conf)

ECHO_ID = 0x5a17


class Host:
    def __init__(self, iface, vlan, mac, ip4, ip6, gw_mac):
        self.vlan, self.mac, self.ip4, self.ip6, self.gw = vlan, mac, ip4, ip6, gw_mac
        self.sock = conf.L2socket(iface=iface)
        self.lock = threading.Lock()
        self.replies = set()
        self.stats = {"arp": 0, "nd": 0, "echo": 0}
        self.stop = False

    def l2(self, dst):
        return Ether(src=self.mac, dst=dst) / Dot1Q(vlan=self.vlan)

    def send(self, pkt):
        with self.lock:
            self.sock.send(pkt)

    def handle(self, p):
        if Dot1Q not in p or p[Dot1Q].vlan != self.vlan or p[Ether].src == self.mac:
            return
        if ARP in p and p[ARP].op == 1 and p[ARP].pdst == self.ip4:
            a = p[ARP]
            self.send(self.l2(a.hwsrc) / ARP(op=2, hwsrc=self.mac, psrc=self.ip4,
                                              hwdst=a.hwsrc, pdst=a.psrc))
            self.stats["arp"] += 1
        elif ICMPv6ND_NS in p and p[ICMPv6ND_NS].tgt == self.ip6 and p[IPv6].src != "::":
            self.send(self.l2(p[Ether].src) /
                      IPv6(src=self.ip6, dst=p[IPv6].src, hlim=255) /
                      ICMPv6ND_NA(tgt=self.ip6, R=0, S=1, O=1) /
                      ICMPv6NDOptDstLLAddr(lladdr=self.mac))
            self.stats["nd"] += 1
        elif IP in p and ICMP in p and p[IP].dst == self.ip4:
            i = p[ICMP]
            if i.type == 8:
                self.send(self.l2(p[Ether].src) / IP(src=self.ip4, dst=p[IP].src) /
                          ICMP(type=0, id=i.id, seq=i.seq) / Raw(bytes(i.payload)))
                self.stats["echo"] += 1
            elif i.type == 0 and i.id == ECHO_ID:
                self.replies.add((p[IP].src, i.seq))
        elif IPv6 in p and p[IPv6].dst == self.ip6:
            if ICMPv6EchoRequest in p:
                e = p[ICMPv6EchoRequest]
                self.send(self.l2(p[Ether].src) / IPv6(src=self.ip6, dst=p[IPv6].src) /
                          ICMPv6EchoReply(id=e.id, seq=e.seq, data=e.data))
                self.stats["echo"] += 1
            elif ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == ECHO_ID:
                self.replies.add((p[IPv6].src, p[ICMPv6EchoReply].seq))

    def rx_loop(self):
        while not self.stop:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            try:
                p = self.sock.recv()
            except (OSError, socket.error):
                continue
            if p is not None:
                try:
                    self.handle(p)
                except Exception as e:  # a frame scapy cannot dissect: not ours
                    print(f"# ignored frame: {e}", file=sys.stderr, flush=True)

    def ping(self, dst, count):
        self.replies = set()
        v6 = ":" in dst
        for seq in range(count):
            if v6:
                pkt = IPv6(src=self.ip6, dst=dst) / ICMPv6EchoRequest(id=ECHO_ID, seq=seq,
                                                                      data=b"vlan" * 8)
            else:
                pkt = IP(src=self.ip4, dst=dst) / ICMP(id=ECHO_ID, seq=seq) / Raw(b"vlan" * 8)
            self.send(self.l2(self.gw) / pkt)
            time.sleep(0.2)
        end = time.monotonic() + 2
        while len(self.replies) < count and time.monotonic() < end:
            time.sleep(0.05)
        return len({s for d, s in self.replies if d == dst})


def main():
    iface, vlan, mac, ip4, ip6, gw = sys.argv[1:7]
    conf.verb = 0
    h = Host(iface, int(vlan), mac, ip4, ip6, gw)
    t = threading.Thread(target=h.rx_loop, daemon=True)
    t.start()
    print("ready", flush=True)
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "ping":
            n = int(w[2])
            print(f"ok {n} {h.ping(w[1], n)}", flush=True)
        elif w[0] == "stats":
            s = h.stats
            print(f"ok arp={s['arp']} nd={s['nd']} echo={s['echo']}", flush=True)
        else:
            print(f"error unknown command {w[0]}", flush=True)
    h.stop = True
    t.join(timeout=2)


if __name__ == "__main__":
    main()
