# SPDX-License-Identifier: BSD-3-Clause
"""802.1Q: a VLAN interface (id 100) on the inside port, next to the untagged one.

 ns P-a (client)                                 sallyport                        ns P-b (server)
 a0 (kernel)    10.1.0.2/24   fd01::2/64     --- veth P-a1 [inside     10.1.0.1/24   fd01::1/64]
 a0 (vlanhost)  10.1.100.2/24 fd01:100::2/64 (tag 100)    [inside.100 10.1.100.1/24 fd01:100::1/64]
                                                          [outside    10.2.0.1/24   fd02::1/64] --- b0 10.2.0.2/24

These kernels have no 802.1Q support (no CONFIG_VLAN_8021Q, no bridge VLAN filtering), so the
VLAN's host is vlanhost.py: a small scapy stack on a0 that tags its frames with VLAN 100 and
answers ARP, NDP and ping for 10.1.100.2 / fd01:100::2.
"""

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ENV, PYTHON

GATEWAY_OPTS = {
    "inside_vlans": [{"id": 100, "addresses": ["10.1.100.1/24", "fd01:100::1/64"]}],
}
VMAC = "02:00:00:00:64:02"


class VlanHost:
    def __init__(self, topo, gw_mac):
        script = Path(__file__).with_name("vlanhost.py")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", topo.ns_a, PYTHON, str(script), "a0", "100", VMAC,
             "10.1.100.2", "fd01:100::2", gw_mac],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=ENV)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", line

    def cmd(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "ok", line
        return line[1:]

    def ping(self, dst, count=3):
        sent, recv = map(int, self.cmd(f"ping {dst} {count}"))
        return recv

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def vhost(gateway, topo):
    assert topo.ping(topo.ns_a, "10.1.0.1", count=1).returncode == 0
    neigh = topo.sh(topo.ns_a, ["ip", "neigh", "show", "10.1.0.1", "dev", "a0"]).stdout.split()
    h = VlanHost(topo, neigh[neigh.index("lladdr") + 1])
    yield h
    h.close()


def test_vlan_interface_listed(gw_alive):
    text = gw_alive.spctl_ok("show", "interfaces")
    assert "inside.100" in text and "10.1.100.1" in text, text
    doc = json.dumps(gw_alive.json("show", "interfaces"))
    assert "inside.100" in doc, doc


@pytest.mark.parametrize("dst", ["10.1.100.1", "fd01:100::1"])
def test_ping_vlan_address(gw_alive, vhost, dst):
    before = gw_alive.ctr("echo-replies")
    assert vhost.ping(dst, 3) == 3
    assert gw_alive.ctr("echo-replies") - before >= 3


@pytest.mark.parametrize("dst", ["10.2.0.2", "fd02::2"])
def test_ping_from_vlan_across(gw_alive, vhost, dst):
    """VLAN host -> server: the replies come back tagged, after the gateway resolved the VLAN
    host with ARP/NDP on VLAN 100."""
    assert vhost.ping(dst, 3) == 3


@pytest.mark.parametrize("dst", ["10.1.100.2", "fd01:100::2"])
def test_ping_to_vlan_from_server(gw_alive, topo, vhost, dst):
    p = topo.ping(topo.ns_b, dst, count=3)
    assert p.returncode == 0, p.stdout


def test_neighbor_on_vlan(gw_alive, topo, vhost):
    assert topo.ping(topo.ns_b, "10.1.100.2", count=1).returncode == 0
    text = gw_alive.spctl_ok("show", "neighbors")
    line = [ln for ln in text.splitlines() if ln.split()[:1] == ["10.1.100.2"]]
    assert line and "inside.100" in line[0] and VMAC in line[0].lower(), text
    arp, nd, echo = (int(x.split("=")[1]) for x in vhost.cmd("stats"))
    assert arp >= 1 and echo >= 1


def test_untagged_still_works(gw_alive, topo, vhost):
    p = topo.ping(topo.ns_a, "10.1.0.1", count=2)
    assert p.returncode == 0, p.stdout
    p = topo.ping(topo.ns_b, "10.1.0.2", count=2)
    assert p.returncode == 0, p.stdout


def test_untagged_does_not_reach_vlan(gw_alive, topo, vhost):
    """10.1.100.0/24 lives on VLAN 100 only: the kernel's untagged a0 cannot reach it
    on-link (no ARP answer for 10.1.100.1 untagged)."""
    a = topo.ns_a
    topo.sh(a, ["ip", "route", "add", "10.1.100.1/32", "dev", "a0"], check=True)
    try:
        assert topo.ping(a, "10.1.100.1", count=2, wait=1).returncode != 0
    finally:
        topo.sh(a, ["ip", "route", "del", "10.1.100.1/32", "dev", "a0"])
