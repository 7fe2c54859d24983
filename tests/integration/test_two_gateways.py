# SPDX-License-Identifier: BSD-3-Clause
"""Two gateways in a row over a memif link: several DPDK processes share the two cores
(adaptive idle), any DPDK device works as a port, and routing crosses both.

 ns P-a (client)            gateway m1                       gateway m2              ns P-b (server)
 a0 10.1.0.2 --- veth P-a1 [inside 10.1.0.1/24]     [mesh 10.3.0.2/30 fd03::2/64]
     fd01::2                [mesh 10.3.0.1/30 ] ==memif== [                  ]
                            [     fd03::1/64  ]           [outside 10.2.0.1/24] veth P-b1 --- b0 10.2.0.2
 m1: 10.2.0.0/24 via 10.3.0.2, fd02::/64 via fd03::2;  m2: 10.1.0.0/24 via 10.3.0.1, fd01::/64 via fd03::1
"""

import hashlib
import os

import pytest

from conftest import PYTHON, Gateway, stop_gateway, wait_for


def conf(gw, ports, routes):
    return f"""name = "{gw.name}";
eal = {{ lcores = "0-1"; main_lcore = 0; file_prefix = "{gw.file_prefix}"; in_memory = true;
        no_pci = true; no_telemetry = true; }};
workers = {{ lcores = [1]; idle = "adaptive"; idle_max_us = 200; }};
ports = ( {ports} );
routes = ( {routes} );
log = {{ level = "info"; }};
console = {{ socket = "{gw.sock}"; }};
"""


@pytest.fixture(scope="module")
def pair(topo, tmp_path_factory):
    d1 = tmp_path_factory.mktemp("gw-m1")
    d2 = tmp_path_factory.mktemp("gw-m2")
    memif = str(d1 / "mesh.memif")
    m1 = Gateway(topo, d1, "m1")
    m2 = Gateway(topo, d2, "m2")
    m1.write_conf(conf(
        m1,
        f'{{ name = "inside"; device = "net_af_packet0,iface={topo.if_a},qpairs=1";'
        f' addresses = ["10.1.0.1/24", "fd01::1/64"]; }},'
        f'{{ name = "mesh"; device = "net_memif0,role=server,socket={memif},socket-abstract=no";'
        f' mac = "02:00:00:00:03:01"; addresses = ["10.3.0.1/30", "fd03::1/64"]; }}',
        '{ prefix = "10.2.0.0/24"; via = "10.3.0.2"; }, { prefix = "fd02::/64"; via = "fd03::2"; }'))
    m2.write_conf(conf(
        m2,
        f'{{ name = "mesh"; device = "net_memif0,role=client,socket={memif},socket-abstract=no";'
        f' mac = "02:00:00:00:03:02"; addresses = ["10.3.0.2/30", "fd03::2/64"]; }},'
        f'{{ name = "outside"; device = "net_af_packet1,iface={topo.if_b},qpairs=1";'
        f' addresses = ["10.2.0.1/24", "fd02::1/64"]; }}',
        '{ prefix = "10.1.0.0/24"; via = "10.3.0.1"; }, { prefix = "fd01::/64"; via = "fd03::1"; }'))
    started = []
    try:
        for gw in (m1, m2):
            gw.start()
            started.append(gw)
        assert topo.ping_until(topo.ns_a, "10.2.0.2", timeout=20), \
            "no path through both gateways:\n" + m1.log_tail(20) + "\n" + m2.log_tail(20)
        yield m1, m2
    finally:
        for gw in reversed(started):
            stop_gateway(gw)


@pytest.mark.parametrize("dst", ["10.2.0.2", "fd02::2"])
def test_ping_across_two_gateways(pair, topo, dst):
    topo.ping_until(topo.ns_a, dst, timeout=10)
    p = topo.ping(topo.ns_a, dst, count=5)
    assert " 0% packet loss" in p.stdout, p.stdout + p.stderr


def test_ttl_expires_at_second_gateway(pair, topo):
    """TTL 2: the first gateway forwards with TTL 1, the second answers from its mesh side."""
    p = topo.ping(topo.ns_a, "10.2.0.2", count=1, ttl=2)
    assert "From 10.3.0.2" in p.stdout and "Time to live exceeded" in p.stdout, p.stdout


def test_forwarded_counts_on_both(pair, topo):
    m1, m2 = pair
    f1, f2 = m1.ctr("forwarded"), m2.ctr("forwarded")
    p = topo.ping(topo.ns_a, "10.2.0.2", count=4, interval=0.1)
    assert " 0% packet loss" in p.stdout, p.stdout
    # 4 requests one way and 4 replies the other, through each gateway.
    assert m1.ctr("forwarded") - f1 >= 8
    assert m2.ctr("forwarded") - f2 >= 8


def test_tcp_bulk_across_two_gateways(pair, topo, tmp_path):
    data = os.urandom(8 << 20)
    (tmp_path / "blob").write_bytes(data)
    srv = topo.bg(topo.ns_b, [PYTHON, "-m", "http.server", "--bind", "10.2.0.2", "8001",
                              "--directory", str(tmp_path)], log_path=str(tmp_path / "web.log"))
    with srv:
        assert wait_for(lambda: topo.listening(topo.ns_b, 8001), 10), srv.output()
        out = tmp_path / "got"
        p = topo.sh(topo.ns_a, ["curl", "-sS", "--fail", "--max-time", "60", "-o", str(out),
                                "http://10.2.0.2:8001/blob"], timeout=90)
        assert p.returncode == 0, p.stdout + p.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
