# SPDX-License-Identifier: BSD-3-Clause
"""The console over spctl: every show command (text and --json), bad input, runtime routes.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
                                                                          lo 10.9.0.1/32 fd09::1/128 (route tests)
"""

import json
import os
import socket
import stat

import pytest

from conftest import SPCTL, run, stats_names, version

SHOWS = ["version", "config", "ports", "workers", "stats", "routes", "neighbors", "interfaces"]


@pytest.mark.parametrize("what", SHOWS)
def test_show_text(gw_alive, what):
    rc, out = gw_alive.spctl("show", what)
    assert rc == 0, out
    assert out.strip(), f"show {what}: empty output"


@pytest.mark.parametrize("what", SHOWS)
def test_show_json(gw_alive, what):
    doc = gw_alive.json("show", what)
    assert isinstance(doc, (dict, list)), doc


def test_show_version(gw_alive):
    assert version() in gw_alive.spctl_ok("show", "version")
    assert version() in json.dumps(gw_alive.json("show", "version"))


def test_show_ports_names(gw_alive, topo):
    doc = json.dumps(gw_alive.json("show", "ports"))
    assert '"inside"' in doc and '"outside"' in doc, doc
    text = gw_alive.spctl_ok("show", "ports")
    assert "inside" in text and "outside" in text


def test_show_interfaces_addresses(gw_alive):
    doc = json.dumps(gw_alive.json("show", "interfaces"))
    for a in ("10.1.0.1", "fd01::1", "10.2.0.1", "fd02::1"):
        assert a in doc, doc


def test_show_config_is_the_file(gw_alive, topo):
    text = gw_alive.spctl_ok("show", "config")
    assert topo.if_a in text and topo.if_b in text and "10.2.0.1/24" in text


def test_show_neighbors_learned(gw_alive, topo):
    assert topo.ping(topo.ns_a, "10.2.0.2", count=1).returncode == 0
    doc = json.dumps(gw_alive.json("show", "neighbors"))
    assert "10.1.0.2" in doc and "10.2.0.2" in doc, doc


def test_show_stats_schema(gw_alive):
    """Every counter and drop reason of lib/stats/sp_stats.h is in the JSON, as a number."""
    drops, ctrs = stats_names()
    doc = gw_alive.stats()
    for n in ctrs:
        assert isinstance(doc["counters"][n], int), n
    for n in drops:
        assert isinstance(doc["drops"][n], int), n


def test_show_workers(gw_alive):
    doc = json.dumps(gw_alive.json("show", "workers"))
    assert "adaptive" in doc, doc


def test_help(gw_alive):
    out = gw_alive.spctl_ok("help")
    for word in ("show", "route", "clear", "config", "log"):
        assert word in out, out


def test_clear_stats(gw_alive, topo):
    assert topo.ping(topo.ns_a, "10.2.0.2", count=5, interval=0.05).returncode == 0
    assert gw_alive.ctr("rx-packets") >= 10
    gw_alive.spctl_ok("clear", "stats")
    doc = gw_alive.stats()
    assert doc["counters"]["rx-packets"] < 10, doc["counters"]
    assert doc["counters"]["forwarded"] < 10, doc["counters"]


def test_log_level(gw_alive):
    gw_alive.spctl_ok("log", "level", "sp.*", "debug")
    gw_alive.spctl_ok("log", "level", "sp.*", "info")
    rc, out = gw_alive.spctl("log", "level", "sp.*", "loudest")
    assert rc in (1, 2), out
    assert out.strip(), "no message for a bad level"


def test_show_log(gw_alive):
    rc, out = gw_alive.spctl("show", "log")
    assert rc == 0, out


@pytest.mark.parametrize("cmd", [
    ["frobnicate"],
    ["show", "nothing"],
    ["route", "add", "10.9.0.0/24", "via"],
    ["route", "del"],
    ["log", "level"],
    ["x" * 4000],
])
def test_bad_command(gw_alive, cmd):
    rc, out = gw_alive.spctl(*cmd)
    assert rc == 2, f"{cmd[:4]} -> {rc}: {out}"
    assert out.strip(), f"{cmd[:4]}: no message"


@pytest.mark.parametrize("cmd", [
    ["route", "add", "notaprefix", "via", "10.2.0.2"],   # well-formed command, bad value
    ["route", "add", "10.9.0.0/33", "via", "10.2.0.2"],
    ["route", "add", "10.9.0.1/24", "via", "10.2.0.2"],  # host bits set
    ["route", "add", "10.9.0.0/24", "via", "fd02::2"],   # family mismatch
    ["route", "del", "10.123.0.0/24"],                    # no such route
    ["route", "add", "10.9.0.0/24", "via", "10.77.0.1"],  # next hop not on a connected subnet
    ["route", "add", "10.9.0.0/24", "dev", "nosuchif"],
])
def test_failed_command(gw_alive, cmd):
    rc, out = gw_alive.spctl(*cmd)
    assert rc == 1, f"{cmd} -> {rc}: {out}"
    assert "error" in out.lower(), out
    rc, out = gw_alive.spctl("show", "routes")
    assert "10.9.0.0/24" not in out and "10.123.0.0/24" not in out, out


def test_no_daemon_status_3(tmp_path):
    p = run([str(SPCTL), "-s", str(tmp_path / "none.sock"), "show", "version"])
    assert p.returncode == 3, p.stdout + p.stderr
    assert (p.stdout + p.stderr).strip()


def test_socket_mode(gw_alive):
    st = os.stat(gw_alive.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)


def _raw(sock_path, payload, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        if payload:
            s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
        return data
    except (BrokenPipeError, ConnectionResetError):
        return b""
    finally:
        s.close()


def test_garbage_on_socket(gw_alive):
    """Raw junk on the console socket never hurts the daemon."""
    payloads = [
        b"",
        b"\x00\xff" * 100,
        b"GET / HTTP/1.0\r\n\r\n",
        b"SPCTL/9 exec\nshow version\n",
        b"SPCTL/1 exec\n" + b"A" * (1 << 20) + b"\n",
        b"SPCTL/1 exec\n\x1b[A\x1b[B\t\t\x04\n",
        b"SPCTL/1 interactive\n" + b"\t" * 50 + b"show ver\t\n" + b"\x03\x04",
    ]
    for p in payloads:
        _raw(gw_alive.sock, p)
    # Many idle connections, then closed.
    socks = []
    for _ in range(64):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(gw_alive.sock)
        except OSError:
            s.close()
            break
        socks.append(s)
    for s in socks:
        s.close()
    rc, out = gw_alive.spctl("show", "version")
    assert rc == 0, out


def test_exec_protocol(gw_alive):
    """The documented socket protocol: output, NUL, status line."""
    data = _raw(gw_alive.sock, b"SPCTL/1 exec\nshow version\n")
    out, _, status = data.partition(b"\x00")
    assert status.strip() == b"0", data
    assert version().encode() in out
    data = _raw(gw_alive.sock, b"SPCTL/1 exec\nfrobnicate\n")
    assert data.partition(b"\x00")[2].strip() == b"2", data


@pytest.fixture
def extra_lo(topo):
    """10.9.0.1/32 and fd09::1/128 on P-b's loopback: reachable only with a route to P-b."""
    topo.sh(topo.ns_b, ["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"], check=True)
    topo.sh(topo.ns_b, ["ip", "-6", "addr", "add", "fd09::1/128", "dev", "lo"], check=True)
    yield
    topo.sh(topo.ns_b, ["ip", "addr", "del", "10.9.0.1/32", "dev", "lo"])
    topo.sh(topo.ns_b, ["ip", "-6", "addr", "del", "fd09::1/128", "dev", "lo"])


@pytest.mark.parametrize("prefix,via,dst,dev", [
    ("10.9.0.0/24", "10.2.0.2", "10.9.0.1", None),
    ("fd09::/64", "fd02::2", "fd09::1", None),
    ("10.9.0.0/24", "10.2.0.2", "10.9.0.1", "outside"),
    ("fd09::/64", "fd02::2", "fd09::1", "outside"),
])
def test_route_add_del_runtime(gw_alive, topo, extra_lo, prefix, via, dst, dev):
    assert topo.ping(topo.ns_a, dst, count=1).returncode != 0, "reachable before the route"
    gw_alive.spctl_ok("route", "add", prefix, "via", via, *(["dev", dev] if dev else []))
    try:
        assert prefix in gw_alive.spctl_ok("show", "routes")
        assert prefix in json.dumps(gw_alive.json("show", "routes"))
        p = topo.ping(topo.ns_a, dst, count=3)
        assert p.returncode == 0, p.stdout
    finally:
        rc, out = gw_alive.spctl("route", "del", prefix)
    assert rc == 0, out
    assert prefix not in gw_alive.spctl_ok("show", "routes")
    assert topo.ping(topo.ns_a, dst, count=1).returncode != 0, "reachable after route del"


def test_route_dev(gw_alive, topo, extra_lo):
    """An on-link route: the gateway resolves 10.9.0.1 itself with ARP on the outside port
    (Linux answers ARP for any of its addresses; it answers NS only for the interface's own, so
    there is no IPv6 twin of this test)."""
    assert topo.ping(topo.ns_a, "10.9.0.1", count=1).returncode != 0
    gw_alive.spctl_ok("route", "add", "10.9.0.0/24", "dev", "outside")
    try:
        p = topo.ping(topo.ns_a, "10.9.0.1", count=3)
        assert p.returncode == 0, p.stdout
    finally:
        gw_alive.spctl_ok("route", "del", "10.9.0.0/24")


@pytest.mark.parametrize("prefix,dst", [("10.9.0.0/24", "10.9.0.1"), ("fd09::/64", "fd09::1")])
def test_route_blackhole(gw_alive, topo, extra_lo, prefix, dst):
    before = gw_alive.drop("blackhole")
    gw_alive.spctl_ok("route", "add", prefix, "blackhole")
    try:
        assert topo.ping(topo.ns_a, dst, count=2).returncode != 0
        assert gw_alive.drop("blackhole") - before >= 2
    finally:
        gw_alive.spctl_ok("route", "del", prefix)


def test_route_via_wrong_dev_refused(gw_alive):
    """The next hop must be on the named interface's subnet."""
    rc, out = gw_alive.spctl("route", "add", "10.9.0.0/24", "via", "10.2.0.2", "dev", "inside")
    assert rc == 1, out
    assert "10.9.0.0/24" not in gw_alive.spctl_ok("show", "routes")


def test_route_add_twice_refused(gw_alive):
    gw_alive.spctl_ok("route", "add", "10.7.0.0/24", "via", "10.2.0.2")
    try:
        rc, out = gw_alive.spctl("route", "add", "10.7.0.0/24", "via", "10.2.0.2")
        assert rc == 1, out
    finally:
        gw_alive.spctl_ok("route", "del", "10.7.0.0/24")


@pytest.mark.parametrize("ip", ["10.2.0.99", "fd02::99"])
def test_static_neighbor(gw_alive, ip):
    gw_alive.spctl_ok("neighbor", "add", ip, "02:00:00:00:00:99", "dev", "outside")
    try:
        text = gw_alive.spctl_ok("show", "neighbors")
        line = [ln for ln in text.splitlines() if ln.split()[:1] == [ip]]
        assert line and "02:00:00:00:00:99" in line[0].lower(), text
        assert ip in json.dumps(gw_alive.json("show", "neighbors"))
    finally:
        gw_alive.spctl_ok("neighbor", "del", ip, "dev", "outside")
    text = gw_alive.spctl_ok("show", "neighbors")
    assert not [ln for ln in text.splitlines() if ln.split()[:1] == [ip]], text
