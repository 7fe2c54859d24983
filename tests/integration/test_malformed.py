# SPDX-License-Identifier: BSD-3-Clause
"""Malformed and unusual frames: each is counted under its drop reason (or forwarded, for IP
options and fragments, RFC 1812), and the gateway keeps forwarding.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
  scapy sendp() on a0                    [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
"""

import subprocess
from pathlib import Path

import pytest

from conftest import ENV, PYTHON, wait_for

COUNT = 3

# case in craft.py -> drop reason it must be counted under
CASES = {
    "runt_ip4": "ipv4-truncated",
    "runt_ip6": "ipv6-truncated",
    "runt_arp": "arp-malformed",
    "eth_not_for_us": "eth-not-for-us",
    "ethertype_unknown": "ethertype-unknown",
    "vlan_unknown": "vlan-unknown",
    "qinq": "vlan-unknown",
    "ip4_no_header": "ipv4-truncated",
    "ip4_truncated": "ipv4-truncated",
    "ip4_total_length": "ipv4-truncated",
    "ip4_bad_checksum": "ipv4-bad-checksum",
    "ip4_bad_version": "ipv4-bad-header",
    "ip4_ihl_short": "ipv4-bad-header",
    "ip4_total_below_ihl": "ipv4-bad-header",
    "ip4_martian_src": "ipv4-martian-source",
    "ip4_multicast_dst": "multicast",
    "icmp4_bad_checksum": "icmp-malformed",
    "arp_garbage": "arp-malformed",
    "arp_bad_hwlen": "arp-malformed",
    "arp_not_for_us": "arp-not-for-us",
    "ip6_truncated": "ipv6-truncated",
    "ip6_bad_plen": "ipv6-truncated",
    "ip6_bad_version": "ipv6-bad-header",
    "ip6_martian_src": "ipv6-martian-source",
    "ndp_bad_hlim": "ndp-malformed",
    "ndp_not_for_us": "ndp-not-for-us",
}


class Crafter:
    def __init__(self, topo, gw_mac):
        script = Path(__file__).with_name("craft.py")
        self.proc = subprocess.Popen(["ip", "netns", "exec", topo.ns_a, PYTHON, str(script),
                                      "a0", gw_mac], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=ENV)

    def send(self, case, count):
        self.proc.stdin.write(f"{case} {count}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line.strip() == f"ok {case}", line + (self.proc.stdout.read() if
                                                     self.proc.poll() is not None else "")

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def crafter(gateway, topo):
    # The gateway's MAC as the client learnt it through ARP.
    assert topo.ping(topo.ns_a, "10.1.0.1", count=1).returncode == 0
    neigh = topo.sh(topo.ns_a, ["ip", "neigh", "show", "10.1.0.1", "dev", "a0"]).stdout.split()
    mac = neigh[neigh.index("lladdr") + 1]
    c = Crafter(topo, mac)
    yield c
    c.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_counted(gw_alive, crafter, case):
    reason = CASES[case]
    before = gw_alive.drop(reason)
    crafter.send(case, COUNT)
    grown = wait_for(lambda: gw_alive.drop(reason) - before >= COUNT, 3, interval=0.2)
    assert grown, f"{case}: drop counter {reason} went {before} -> {gw_alive.drop(reason)}, " \
        f"expected +{COUNT}"


def test_ip4_options_forwarded(gw_alive, topo):
    """Record Route (RFC 791): forwarded, not dropped (the gateway need not fill it in)."""
    p = topo.ping(topo.ns_a, "10.2.0.2", count=2, extra=["-R"])
    assert p.returncode == 0, p.stdout
    assert "RR:" in p.stdout, p.stdout


def test_ip6_fragments_forwarded(gw_alive, topo):
    """A 4000-byte ping leaves P-a as IPv6 fragments (MTU 1500); they are routed, and the
    server reassembles and answers with fragments that come back the same way. (IPv4
    fragments are in test_fragments.py: the af_packet PMD's socket reassembles them.)"""
    before = gw_alive.ctr("forwarded")
    p = topo.ping(topo.ns_a, "fd02::2", count=2, size=4000)
    assert p.returncode == 0, p.stdout
    assert "4008 bytes from" in p.stdout, p.stdout
    assert gw_alive.ctr("forwarded") - before >= 2 * 2 * 3


def test_still_forwarding_after_junk(gw_alive, topo, crafter):
    for case in sorted(CASES):
        crafter.send(case, 20)
    for dst in ("10.2.0.2", "fd02::2", "10.1.0.1"):
        p = topo.ping(topo.ns_a, dst, count=2)
        assert p.returncode == 0, p.stdout
