# SPDX-License-Identifier: BSD-3-Clause
"""Key exchange refusals and several workers: a peer whose certificate names another identity
or comes from another CA is refused (counted by cause, logged once, no SA, never plaintext);
a gateway with two workers keys one SA per worker towards a one-worker peer (RFC 9611 style)
and both workers' SAs carry traffic. Mesh topology of mesh.py; gateways start per test."""

import hashlib
import os
import time

import pytest

from conftest import PYTHON, Gateway, stop_gateway, wait_for
from mesh import (TUN, MeshPki, established, keyed_peer, make_gw, mesh_conf, mesh_fixture,
                  peer_state, pki_fixture)


mesh = mesh_fixture("skp")


pki = pki_fixture()


@pytest.mark.parametrize("case", ["wrong-identity", "unknown-ca"])
def test_bad_peer_certificates_refused(mesh, pki, tmp_path, case):
    (tmp_path / "g1").mkdir()
    (tmp_path / "g2").mkdir()
    if case == "wrong-identity":
        g2 = make_gw(mesh, tmp_path / "g2", 2, pki, cert_name="g7")
        # g2 itself expects to be g7 (its pki.identity), but g1 expects g2
    else:
        other = MeshPki(tmp_path / "other")
        g2 = Gateway(mesh.view(2), tmp_path / "g2", "g2")
        crt, key = other.issue("g2")
        g2.write_conf(mesh_conf(g2, 2, keyed_peer(2, pki),
                                pki=other.conf(crt, key, "g2"),
                                tunnels_extra=TUN))
    g1 = make_gw(mesh, tmp_path / "g1", 1, pki)
    started = []
    try:
        for g in (g1, g2):
            g.start()
            started.append(g)
        assert wait_for(lambda: (peer_state(g1) or {}).get("state") == "refused", 15), \
            (peer_state(g1), g1.log_tail(20))
        assert case in peer_state(g1)["detail"], peer_state(g1)
        kx = g1.json("show", "keyx")
        assert kx["running"] and kx["peers"][0]["refused"][case] >= 1, kx
        assert kx["total"]["epochs"] == 0 and kx["peers"][0]["role"] == "client", kx
        assert "refused " + case in g1.spctl_ok("show", "keyx")
        assert g1.json("show", "sa")["sas"] == [] and g2.json("show", "sa")["sas"] == []
        # logged once per cause, not per retry
        time.sleep(2)
        assert g1.log_text().count(case) <= 3, g1.log_tail(20)
        assert g1.alive() and g2.alive()
    finally:
        for g in reversed(started):
            stop_gateway(g)


def test_two_workers_key_one_sa_each(mesh, pki, tmp_path):
    """g1 runs two workers (lcores 1 and 2 share CPU 1), g2 one: g1 sends on two SAs, one per
    worker, and receives on one (g2's single sender); g2 receives on two. A packet that
    reaches the worker not owning its SA is handed over, never dropped."""
    (tmp_path / "g1").mkdir()
    (tmp_path / "g2").mkdir()
    g1 = Gateway(mesh.view(1), tmp_path / "g1", "g1",
                 cli_args=["--log-format", "text", "--", "--lcores=0@0,1@1,2@1"])
    crt, key = pki.issue("g1", out_name="g1-w2")
    g1.write_conf(mesh_conf(g1, 1, keyed_peer(1, pki), pki=pki.conf(crt, key, "g1"),
                            tunnels_extra=TUN, workers="[1, 2]", lcores="0-2", qpairs=2))
    g2 = make_gw(mesh, tmp_path / "g2", 2, pki)
    data = os.urandom(2 << 20)
    (tmp_path / "blob").write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    started = []
    try:
        for g in (g1, g2):
            g.start()
            started.append(g)
        assert wait_for(lambda: established(g1) and established(g2), 20), \
            (peer_state(g1), g1.log_tail(20))
        s1 = g1.json("show", "sa")["sas"]
        out1 = [s for s in s1 if s["dir"] == "out"]
        in1 = [s for s in s1 if s["dir"] == "in"]
        assert sorted(s["worker"] for s in out1) == [0, 1] and len(in1) == 1, s1
        in2 = [s for s in g2.json("show", "sa")["sas"] if s["dir"] == "in"]
        assert len(in2) == 2 and {s["worker"] for s in in2} == {0}
        srv = mesh.bg(mesh.ns_b, [PYTHON, "-m", "http.server", "--bind", "10.2.0.2", "8003",
                                  "--directory", str(tmp_path)])
        with srv:
            assert wait_for(lambda: mesh.listening(mesh.ns_b, 8003), 10)
            # many connections: af_packet's fanout spreads flows over g1's two queues
            for i in range(16):
                got = tmp_path / f"got{i}"
                p = mesh.sh(mesh.ns_a, ["curl", "-sS", "--fail", "--max-time", "30", "-o",
                                        str(got), "http://10.2.0.2:8003/blob"], timeout=60)
                assert p.returncode == 0, p.stderr
                assert hashlib.sha256(got.read_bytes()).hexdigest() == want
            ping = mesh.ping(mesh.ns_a, "fd02::2", count=20, interval=0.05)
            assert " 0% packet loss" in ping.stdout, ping.stdout
        out1 = [s for s in g1.json("show", "sa")["sas"] if s["dir"] == "out"]
        assert all(s["packets"] > 0 for s in out1), out1
        d = g1.stats()["drops"]
        assert d["tunnel-handoff-full"] == 0 and d["esp-replay"] == 0, d
        assert g2.stats()["drops"]["esp-replay"] == 0
    finally:
        for g in reversed(started):
            stop_gateway(g)
