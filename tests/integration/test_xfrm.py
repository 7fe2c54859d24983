# SPDX-License-Identifier: BSD-3-Clause
"""Interop with Linux XFRM (the kernel's IPsec) as the peer gateway, where the kernel has ESP
and rfc4106(gcm(aes)): gateway 1 of the mesh topology with manual keys, and the transit
namespace's kernel as the other end (tunnel mode, the same SPIs and keys). Skipped, with the
kernel's own error, on kernels without ESP (such as the CI machines')."""

import os

import pytest

from conftest import Gateway, run, stop_gateway
from mesh import KEYS, MeshTopo, manual_peer, mesh_conf


def xfrm(ns, *args):
    return run(["ip", "-n", ns, "xfrm"] + list(args))


def kernel_has_esp_gcm():
    ns = f"spxchk{os.getpid() % 1000}"
    run(["ip", "netns", "add", ns])
    try:
        p = xfrm(ns, "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp",
                 "spi", "0x100", "mode", "tunnel", "aead", "rfc4106(gcm(aes))",
                 "0x" + KEYS[128][0], "128")
        return p.returncode == 0, (p.stderr or p.stdout).strip()
    finally:
        run(["ip", "netns", "del", ns])


HAS_ESP, WHY = kernel_has_esp_gcm()
pytestmark = pytest.mark.skipif(not HAS_ESP, reason=f"kernel XFRM cannot do ESP AES-GCM: {WHY}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    t = MeshTopo(f"sxf{os.getpid() % 1000}")
    t.up()
    gw = None
    try:
        ns = t.ns_t
        k12, k21 = KEYS[128]
        for argv in (["addr", "add", "10.3.0.2/24", "dev", "br0"],
                     ["addr", "add", "10.2.0.2/32", "dev", "lo"],
                     ["route", "add", "10.1.0.0/24", "via", "10.3.0.1", "src", "10.2.0.2"]):
            p = run(["ip", "-n", ns] + argv)
            assert p.returncode == 0, p.stderr
        # the kernel is "g2": it sends on g1's inbound SPI 0x2001, receives on 0x1001
        for argv in (
            ["state", "add", "src", "10.3.0.2", "dst", "10.3.0.1", "proto", "esp", "spi",
             "0x2001", "reqid", "1", "mode", "tunnel", "aead", "rfc4106(gcm(aes))",
             "0x" + k21, "128"],
            ["state", "add", "src", "10.3.0.1", "dst", "10.3.0.2", "proto", "esp", "spi",
             "0x1001", "reqid", "2", "mode", "tunnel", "replay-window", "64", "aead",
             "rfc4106(gcm(aes))", "0x" + k12, "128"],
            ["policy", "add", "src", "10.2.0.0/24", "dst", "10.1.0.0/24", "dir", "out", "tmpl",
             "src", "10.3.0.2", "dst", "10.3.0.1", "proto", "esp", "reqid", "1", "mode",
             "tunnel"],
            ["policy", "add", "src", "10.1.0.0/24", "dst", "10.2.0.0/24", "dir", "in", "tmpl",
             "src", "10.3.0.1", "dst", "10.3.0.2", "proto", "esp", "reqid", "2", "mode",
             "tunnel"]):
            p = xfrm(ns, *argv)
            assert p.returncode == 0, f"ip xfrm {' '.join(argv)}: {p.stderr}"
        d = tmp_path_factory.mktemp("xfrm-g1")
        gw = Gateway(t.view(1), d, "g1")
        gw.write_conf(mesh_conf(gw, 1, manual_peer(1, 128, prefixes=["10.2.0.0/24"])))
        gw.start()
        yield t, gw
    finally:
        if gw is not None and gw.proc is not None:
            stop_gateway(gw)
        t.down()


def test_ping_both_ways_with_kernel_xfrm(setup):
    t, gw = setup
    assert t.ping_until(t.ns_a, "10.2.0.2", timeout=15), gw.log_tail(20)
    p = t.ping(t.ns_a, "10.2.0.2", count=5, interval=0.1)
    assert " 0% packet loss" in p.stdout, p.stdout
    # the kernel's echo requests towards segment A are encrypted by XFRM, decrypted by us
    p = t.sh(t.ns_t, ["ping", "-n", "-c", "3", "-i", "0.2", "-I", "10.2.0.2", "10.1.0.2"])
    assert " 0% packet loss" in p.stdout, p.stdout
    sas = {s["dir"]: s for s in gw.json("show", "sa")["sas"]}
    assert sas["in"]["packets"] >= 8 and sas["out"]["packets"] >= 8, sas
    assert all(v == 0 for s in sas.values() for v in s["drops"].values()), sas
    st = xfrm(t.ns_t, "-s", "state", "list").stdout
    assert "0x00001001" in st and "0x00002001" in st
