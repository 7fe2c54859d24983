# SPDX-License-Identifier: BSD-3-Clause
"""The exception path: TCP/UDP to the gateway's own addresses reaches its kernel side.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
                                         [exception net_tap] --- P-x in ns P-gw
                                                                 10.1.0.1 fd01::1 10.2.0.1 fd02::1
                                                                 http.server on each, port 8080
"""

import hashlib
import os

import pytest

from conftest import PYTHON, wait_for

ADDRS = ["10.1.0.1", "fd01::1", "10.2.0.1", "fd02::1"]


def kernel_side_ready(topo):
    out = topo.addrs(topo.ns_gw, topo.tap)
    return all(f" {a}/" in out for a in ADDRS) and "tentative" not in out


def test_kernel_side_has_the_addresses(gw_alive, topo):
    assert wait_for(lambda: kernel_side_ready(topo), 10), topo.addrs(topo.ns_gw)
    # The kernel side lives only in the gateway's namespace.
    assert not os.path.exists(f"/sys/class/net/{topo.tap}")


@pytest.fixture(scope="module")
def web_gw(gateway, topo, tmp_path_factory):
    """One http.server per gateway address inside the gateway's kernel namespace."""
    assert wait_for(lambda: kernel_side_ready(topo), 10), topo.addrs(topo.ns_gw)
    d = tmp_path_factory.mktemp("web-gw")
    data = os.urandom(4 << 20)
    (d / "blob").write_bytes(data)
    servers = []
    try:
        for i, a in enumerate(ADDRS):
            servers.append(topo.bg(topo.ns_gw, [PYTHON, "-m", "http.server", "--bind", a,
                                                "8080", "--directory", str(d)],
                                   log_path=str(d.parent / f"web-gw{i}.log")))
        assert wait_for(lambda: topo.sh(topo.ns_gw, ["ss", "-Hltn", "sport = :8080"])
                        .stdout.count("LISTEN") == len(ADDRS), 10), \
            [s.output() for s in servers]
        yield hashlib.sha256(data).hexdigest()
    finally:
        for s in servers:
            s.close()


@pytest.mark.parametrize("src,addr", [
    ("a", "10.1.0.1"), ("a", "fd01::1"), ("b", "10.2.0.1"), ("b", "fd02::1"),
    # An address of the other segment's interface, reached through the gateway's own routing.
    ("a", "10.2.0.1"),
])
def test_http_to_gateway_kernel(gw_alive, topo, web_gw, tmp_path, src, addr):
    ns = topo.ns_a if src == "a" else topo.ns_b
    host = f"[{addr}]" if ":" in addr else addr
    before = gw_alive.stats()["counters"]
    out = tmp_path / "blob"
    p = topo.sh(ns, ["curl", "-sS", "--fail", "--max-time", "30", "-o", str(out),
                     f"http://{host}:8080/blob"], timeout=45)
    assert p.returncode == 0, p.stdout + p.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == web_gw
    after = gw_alive.stats()["counters"]
    assert after["to-kernel"] > before["to-kernel"]
    assert after["from-kernel"] > before["from-kernel"]


def test_udp_to_gateway_kernel(gw_alive, topo, tmp_path):
    assert wait_for(lambda: kernel_side_ready(topo), 10)
    srv = topo.bg(topo.ns_gw, ["nc", "-u", "-l", "-W", "1", "10.1.0.1", "9999"],
                  log_path=str(tmp_path / "nc.log"))
    with srv:
        assert wait_for(lambda: topo.listening(topo.ns_gw, 9999, proto="u"), 10)
        topo.sh(topo.ns_a, ["sh", "-c", "echo sallyport-udp | nc -u -w 1 -q 1 10.1.0.1 9999"],
                timeout=10)
        assert wait_for(lambda: "sallyport-udp" in srv.output(), 5), srv.output()


def test_unused_port_gets_reset(gw_alive, topo):
    """Nothing listens on 10.1.0.1:9: the kernel's RST comes back through the gateway."""
    p = topo.sh(topo.ns_a, ["curl", "-sS", "--max-time", "5", "http://10.1.0.1:9/"],
                timeout=15)
    assert p.returncode == 7, p.stdout + p.stderr   # 7: connection refused, not a timeout
