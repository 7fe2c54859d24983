# SPDX-License-Identifier: BSD-3-Clause
"""Routing between the two segments: ping, TCP bulk, TTL expiry, unreachable.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
 default via 10.1.0.1 / fd01::1                                          default via 10.2.0.1 / fd02::1
"""

import hashlib
import json
import os

import pytest

from conftest import PYTHON, wait_for


@pytest.mark.parametrize("src,dst", [
    ("a", "10.2.0.2"), ("b", "10.1.0.2"), ("a", "fd02::2"), ("b", "fd01::2"),
])
def test_ping_through(gw_alive, topo, src, dst):
    ns = topo.ns_a if src == "a" else topo.ns_b
    before = gw_alive.ctr("forwarded")
    p = topo.ping(ns, dst, count=3)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0% packet loss" in p.stdout, p.stdout
    # 3 requests + 3 replies went through the gateway.
    assert gw_alive.ctr("forwarded") - before >= 6


@pytest.mark.parametrize("src,dst", [
    ("a", "10.1.0.1"), ("a", "fd01::1"), ("b", "10.2.0.1"), ("b", "fd02::1"),
    # The far side's addresses belong to the gateway too.
    ("a", "10.2.0.1"), ("a", "fd02::1"),
])
def test_ping_gateway(gw_alive, topo, src, dst):
    ns = topo.ns_a if src == "a" else topo.ns_b
    before = gw_alive.ctr("echo-replies")
    p = topo.ping(ns, dst, count=3)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0% packet loss" in p.stdout, p.stdout
    assert gw_alive.ctr("echo-replies") - before >= 3


@pytest.fixture(scope="module")
def web_b(topo, tmp_path_factory):
    """A 24 MiB random file served over HTTP from P-b on every address (dual stack)."""
    d = tmp_path_factory.mktemp("web-b")
    data = os.urandom(24 << 20)
    (d / "blob").write_bytes(data)
    srv = topo.bg(topo.ns_b, [PYTHON, "-m", "http.server", "--bind", "::", "8000",
                              "--directory", str(d)], log_path=str(d.parent / "web-b.log"))
    try:
        assert wait_for(lambda: topo.listening(topo.ns_b, 8000), 10), srv.output()
        yield hashlib.sha256(data).hexdigest()
    finally:
        srv.close()


@pytest.mark.parametrize("url", ["http://10.2.0.2:8000/blob", "http://[fd02::2]:8000/blob"])
def test_tcp_bulk_curl(gw_alive, topo, web_b, tmp_path, url):
    out = tmp_path / "blob"
    p = topo.sh(topo.ns_a, ["curl", "-sS", "--fail", "--max-time", "60", "-o", str(out),
                            "-w", "%{size_download} %{speed_download}", url], timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr
    got = hashlib.sha256(out.read_bytes()).hexdigest()
    assert got == web_b, f"sha256 mismatch after {p.stdout}"
    print(f"curl {url}: {p.stdout} (bytes, bytes/s)")


def test_tcp_iperf3(gw_alive, topo, tmp_path):
    srv = topo.bg(topo.ns_b, ["iperf3", "-s", "-1", "-B", "10.2.0.2", "-p", "5201"],
                  log_path=str(tmp_path / "iperf3-s.log"))
    with srv:
        assert wait_for(lambda: topo.listening(topo.ns_b, 5201), 10), srv.output()
        p = topo.sh(topo.ns_a, ["iperf3", "-c", "10.2.0.2", "-p", "5201", "-t", "3", "-J"],
                    timeout=30)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr
        res = json.loads(p.stdout)
        received = res["end"]["sum_received"]["bytes"]
        bps = res["end"]["sum_received"]["bits_per_second"]
        print(f"iperf3: {received} bytes, {bps / 1e6:.0f} Mbit/s")
        assert received > 1 << 20


def test_ttl_expired_v4(gw_alive, topo):
    before = gw_alive.stats()
    p = topo.ping(topo.ns_a, "10.2.0.2", count=1, ttl=1)
    assert p.returncode != 0
    assert "From 10.1.0.1" in p.stdout and "Time to live exceeded" in p.stdout, p.stdout
    after = gw_alive.stats()
    assert after["drops"]["ttl-expired"] - before["drops"]["ttl-expired"] >= 1
    assert after["counters"]["icmp-errors"] - before["counters"]["icmp-errors"] >= 1


def test_ttl_expired_v6(gw_alive, topo):
    before = gw_alive.drop("ttl-expired")
    p = topo.ping(topo.ns_a, "fd02::2", count=1, ttl=1)
    assert p.returncode != 0
    assert "From fd01::1" in p.stdout and "Time exceeded" in p.stdout, p.stdout
    assert gw_alive.drop("ttl-expired") - before >= 1


def test_ttl_two_is_forwarded(gw_alive, topo):
    """TTL 2 survives one hop: the gateway decrements, it does not expire it."""
    p = topo.ping(topo.ns_a, "10.2.0.2", count=1, ttl=2)
    assert p.returncode == 0, p.stdout
    assert "ttl=63" in p.stdout, p.stdout   # the server's reply lost one hop on the way back


@pytest.mark.parametrize("dst,msg", [
    ("10.99.0.1", "Destination Net Unreachable"),
    ("fd99::1", "Destination unreachable: No route"),
])
def test_unreachable(gw_alive, topo, dst, msg):
    before = gw_alive.drop("no-route")
    p = topo.ping(topo.ns_a, dst, count=1)
    assert p.returncode != 0
    assert msg in p.stdout, p.stdout
    assert gw_alive.drop("no-route") - before >= 1
