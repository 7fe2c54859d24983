# SPDX-License-Identifier: BSD-3-Clause
"""IP fragments are forwarded (RFC 1812: a router does not reassemble).

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64

This module's gateway opens the veths with net_af_xdp instead of net_af_packet: the af_packet
PMD joins a PACKET_FANOUT group with the defragment flag, so the kernel reassembles IPv4
fragments before the gateway sees them (and truncates the result to the ring's frame size).
"""

import hashlib
import os

import pytest

from conftest import PYTHON, wait_for

GATEWAY_OPTS = {"driver": "af_xdp"}


@pytest.mark.parametrize("dst", ["10.2.0.2", "fd02::2"])
@pytest.mark.parametrize("size", [1473, 4000, 9000])
def test_fragments_forwarded(gw_alive, topo, dst, size):
    before = gw_alive.stats()
    p = topo.ping(topo.ns_a, dst, count=2, size=size)
    assert p.returncode == 0, p.stdout
    assert f"{size + 8} bytes from" in p.stdout, p.stdout
    after = gw_alive.stats()
    nfrag = -(-(size + 8) // 1480)
    assert after["counters"]["forwarded"] - before["counters"]["forwarded"] >= 2 * 2 * nfrag
    assert after["drops"]["ipv4-truncated"] == before["drops"]["ipv4-truncated"]


def test_tcp_through_af_xdp(gw_alive, topo, tmp_path):
    """The same gateway carries TCP too (the port type is not what makes fragments work)."""
    d = tmp_path / "www"
    d.mkdir()
    data = os.urandom(2 << 20)
    (d / "blob").write_bytes(data)
    with topo.bg(topo.ns_b, [PYTHON, "-m", "http.server", "--bind", "10.2.0.2", "8001",
                             "--directory", str(d)]):
        assert wait_for(lambda: topo.listening(topo.ns_b, 8001), 10)
        out = tmp_path / "got"
        p = topo.sh(topo.ns_a, ["curl", "-sS", "--fail", "--max-time", "30", "-o", str(out),
                                "http://10.2.0.2:8001/blob"], timeout=45)
        assert p.returncode == 0, p.stderr
        assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()
