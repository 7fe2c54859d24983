# SPDX-License-Identifier: BSD-3-Clause
"""Two gateways keyed by the key exchange (lib/keyx): TLS 1.3 with the internal CA's
certificates between their control cores over the exception ports, SAs from the TLS exporter.
Traffic both ways; rekeys forced every few seconds under a long transfer with no failed
request; a gateway killed and restarted; a revoked, a wrong-identity and a foreign-CA peer
refused. Mesh topology of mesh.py."""

import hashlib
import os
import signal
import time

import pytest

from conftest import PYTHON, stop_gateway, wait_for
from mesh import TUN, Capture, established, make_gw, mesh_fixture, peer_state, pki_fixture


mesh = mesh_fixture("skx")


pki = pki_fixture()


@pytest.fixture(scope="module")
def pair(mesh, pki, tmp_path_factory):
    # soft limits low enough for the tests' traffic to trigger rekeys on its own
    life = ("lifetime = { soft_seconds = 600; hard_seconds = 900; soft_packets = 8000; "
            "hard_packets = 1000000; };")
    gws = [make_gw(mesh, tmp_path_factory.mktemp(f"kx-g{n}"), n, pki,
                   tunnels_extra=TUN + life) for n in (1, 2)]
    started = []
    try:
        for gw in gws:
            gw.start()
            started.append(gw)
        assert wait_for(lambda: all(established(g) for g in gws), 20), \
            [peer_state(g) for g in gws] and gws[0].log_tail(30) + "\n" + gws[1].log_tail(30)
        yield gws
    finally:
        for gw in reversed(started):
            if gw.alive():
                stop_gateway(gw)


def test_established_sas_match(pair, mesh):
    g1, g2 = pair
    s1 = g1.json("show", "sa")["sas"]
    s2 = g2.json("show", "sa")["sas"]
    out1 = {s["spi"] for s in s1 if s["dir"] == "out" and s["active"]}
    in2 = {s["spi"] for s in s2 if s["dir"] == "in"}
    out2 = {s["spi"] for s in s2 if s["dir"] == "out" and s["active"]}
    in1 = {s["spi"] for s in s1 if s["dir"] == "in"}
    assert out1 and out1 <= in2 and out2 and out2 <= in1
    assert all(s["cipher"] == "aes-gcm-256" and s["engine"] == "ipsec_mb" for s in s1 + s2)
    p = peer_state(g1)
    assert p["keys"] == "exchange" and "TLSv1.3" in p["detail"], p
    assert mesh.ping_until(mesh.ns_a, "10.2.0.2", timeout=10)


@pytest.mark.parametrize("ns,dst", [("a", "10.2.0.2"), ("a", "fd02::2"), ("b", "10.1.0.2"),
                                    ("b", "fd01::2")])
def test_traffic_both_ways(pair, mesh, ns, dst):
    src = mesh.ns_a if ns == "a" else mesh.ns_b
    assert mesh.ping_until(src, dst, timeout=10)
    p = mesh.ping(src, dst, count=5, interval=0.1)
    assert " 0% packet loss" in p.stdout, p.stdout


def test_transit_carries_only_esp_and_tls(pair, mesh, tmp_path):
    g1, _ = pair
    cap = Capture(mesh, tmp_path / "t.pcap")
    try:
        p1 = mesh.ping(mesh.ns_a, "10.2.0.2", count=5, interval=0.1)
        before = peer_state(g1)
        out = g1.spctl_ok("peer", "rekey", "g2")
        assert out.startswith("peer g2: ") and "peer g2: peer g2" not in out, out
        time.sleep(1.5)
        p2 = mesh.ping(mesh.ns_b, "fd01::2", count=5, interval=0.1)
    finally:
        cap.stop()
    after = peer_state(g1)
    # the peer's totals go on across rekeys (retired epochs' traffic is kept)
    assert after["packets_out"] >= before["packets_out"] + 5, (before, after)
    assert after["active_epoch"] > before["active_epoch"]
    assert " 0% packet loss" in p1.stdout and " 0% packet loss" in p2.stdout, \
        (p1.stdout, p2.stdout, [g.stats()["drops"] for g in pair], peer_state(g1))
    assert len(cap.fields("esp", "esp.spi")) >= 20
    assert cap.fields("ip.addr == 10.1.0.0/24 or ip.addr == 10.2.0.0/24 or "
                      "ipv6.addr == fd01::/64 or ipv6.addr == fd02::/64", "frame.number") == []
    other = cap.fields("not esp and not arp and not icmpv6 and not tcp.port == 4501",
                       "frame.protocols")
    assert other == [], other[:5]
    # the rekey went through TLS 1.3 records only (application data after the handshake)
    tls = cap.fields("tcp.port == 4501 and tls", "tls.record.version")
    assert tls, "no TLS record seen during the rekey"


def test_soft_packet_limit_rekeys_without_loss(pair, mesh):
    """8000 packets on an SA is its soft limit here: the key exchange rekeys by itself,
    make-before-break, while a fast ping runs."""
    g1, g2 = pair
    e0 = peer_state(g1)["active_epoch"]
    kx0 = g1.json("show", "keyx")["total"]["rekeys"]
    p = mesh.ping(mesh.ns_a, "10.2.0.2", count=12000, interval=0.0005, wait=2, timeout=120,
                  extra=("-q",))
    assert ", 0% packet loss" in p.stdout, p.stdout
    assert wait_for(lambda: peer_state(g1)["active_epoch"] > e0, 5), peer_state(g1)
    assert g1.json("show", "keyx")["total"]["rekeys"] + \
        g2.json("show", "keyx")["total"]["rekeys"] > kx0
    assert all(not s["expired"] for s in g1.json("show", "sa")["sas"])


def test_rekey_every_few_seconds_under_load(pair, mesh, tmp_path):
    """Rekeys forced every 2 s during a long transfer and a stream of requests: no request
    fails, the checksums match, and the epoch moves on."""
    g1, g2 = pair
    data = os.urandom(4 << 20)
    (tmp_path / "blob").write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    srv = mesh.bg(mesh.ns_b, [PYTHON, "-m", "http.server", "--bind", "10.2.0.2", "8002",
                              "--directory", str(tmp_path)], log_path=str(tmp_path / "web.log"))
    client = tmp_path / "client.py"
    client.write_text(f"""
import hashlib, subprocess, sys, time
end = time.time() + float(sys.argv[1])
ok = bad = 0
while time.time() < end:
    p = subprocess.run(["curl", "-sS", "--fail", "--max-time", "20", "--limit-rate", "4M",
                        "http://10.2.0.2:8002/blob"], capture_output=True)
    if p.returncode == 0 and hashlib.sha256(p.stdout).hexdigest() == "{want}":
        ok += 1
    else:
        bad += 1
        print("FAILED", p.returncode, p.stderr.decode()[-200:], flush=True)
print("ok", ok, "bad", bad, flush=True)
""")
    e0 = peer_state(g1)["active_epoch"]
    duration = float(os.environ.get("SP_REKEY_SECONDS", "120"))
    with srv:
        assert wait_for(lambda: mesh.listening(mesh.ns_b, 8002), 10), srv.output()
        cl = mesh.bg(mesh.ns_a, [PYTHON, str(client), str(duration)],
                     log_path=str(tmp_path / "client.log"))
        with cl:
            rekeys = 0
            t_end = time.time() + duration
            while time.time() < t_end and cl.alive():
                time.sleep(2)
                who = g1 if rekeys % 2 == 0 else g2
                rc, out = who.spctl("peer", "rekey", "g2" if who is g1 else "g1")
                rekeys += rc == 0
            assert cl.wait(60) == 0, cl.output()
            out = cl.output()
    last = out.strip().splitlines()[-1]
    assert last.startswith("ok ") and last.endswith(" bad 0"), out[-2000:]
    assert int(last.split()[1]) >= 5, out
    e1 = peer_state(g1)["active_epoch"]
    assert rekeys >= duration / 2 - 5 and e1 - e0 >= rekeys - 2, (rekeys, e0, e1)
    for g in pair:
        d = g.stats()["drops"]
        assert d["esp-auth-failed"] == 0 and d["esp-no-sa"] == 0, d


def test_peer_killed_and_restarted(pair, mesh):
    g1, g2 = pair
    g2.signal(signal.SIGKILL)
    g2.proc.wait(timeout=10)
    g2.log.close()
    g2.cleanup_files()
    # g1 notices (DPD or the connection) and tears the tunnel down: nothing in clear
    assert wait_for(lambda: peer_state(g1)["active_epoch"] == 0, 10), peer_state(g1)
    down0 = g1.drop("tunnel-down")
    mesh.ping(mesh.ns_a, "10.2.0.2", count=2, interval=0.2, wait=1)
    assert g1.drop("tunnel-down") >= down0 + 2
    t0 = time.time()
    g2.start()
    assert wait_for(lambda: established(g1) and established(g2), 15), \
        (peer_state(g1), g2.log_tail(30))
    assert mesh.ping_until(mesh.ns_a, "10.2.0.2", timeout=10)
    assert time.time() - t0 < 15


def test_revoked_peer_is_torn_down_and_refused(pair, mesh, pki):
    g1, g2 = pair
    assert wait_for(lambda: established(g1), 10)
    pki.revoke(g2.crt)
    # g1 watches its CRL files: the session ends at once and stays refused
    assert wait_for(lambda: peer_state(g1)["state"] == "refused", 10), peer_state(g1)
    assert peer_state(g1)["active_epoch"] == 0
    assert "revoked" in peer_state(g1)["detail"], peer_state(g1)
    assert g1.json("show", "sa")["sas"] == []
    down0 = g1.drop("tunnel-down")
    p = mesh.ping(mesh.ns_a, "10.2.0.2", count=2, interval=0.2, wait=1)
    assert "100% packet loss" in p.stdout
    assert g1.drop("tunnel-down") >= down0 + 2
    time.sleep(2)
    assert peer_state(g1)["state"] == "refused", peer_state(g1)
