# SPDX-License-Identifier: BSD-3-Clause
"""The mesh topology (scripts/lib/topo.sh, topo_mesh_up): two segments, each behind its own
gateway, and a transit bridge between the gateways that a capture can watch.

 ns P-a 10.1.0.2 --- P-a1 [g1 inside 10.1.0.1 | transit 10.3.0.1] P-t1 --- br0 (ns P-t) ---
     P-t2 [g2 transit 10.3.0.2 | inside 10.2.0.1] P-b1 --- ns P-b 10.2.0.2
 exception taps: g1 -> ns P-g1, g2 -> ns P-g2
"""

import copy
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, SPCTL, Gateway, Topo, run, wait_for

MESH_SH = ROOT / "scripts" / "netns-mesh.sh"

# Manual keys of the test mesh: key || salt, AES-128-GCM (20 bytes) and AES-256-GCM (36).
KEYS = {
    128: ("00112233445566778899aabbccddeeff01020304",
          "ffeeddccbbaa99887766554433221100a1a2a3a4"),
    256: ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fc0c1c2c3",
          "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100d0d1d2d3"),
}


class MeshTopo(Topo):
    def __init__(self, prefix):
        super().__init__(prefix)
        self.ns_t = f"{prefix}-t"
        self.bridge = "br0"

    def up(self):
        run(["bash", str(MESH_SH), "up", self.prefix], timeout=60, check=True)

    def down(self):
        run(["bash", str(MESH_SH), "down", self.prefix], timeout=60)

    def view(self, n):
        """What conftest.Gateway needs to know about gateway n (1 or 2)."""
        v = copy.copy(self)
        v.tap = f"{self.prefix}-x{n}"
        v.ns_gw = f"{self.prefix}-g{n}"
        return v


def mesh_fixture(tag):
    """A module-scoped `mesh` fixture: the topology under prefix tag<pid % 1000>, removed at
    the end of the module."""
    @pytest.fixture(scope="module")
    def mesh():
        t = MeshTopo(f"{tag}{os.getpid() % 1000}")
        t.up()
        try:
            yield t
        finally:
            t.down()
    return mesh


def mesh_conf(gw, n, peer_block, *, workers="[1]", lcores="0-1", engine="ipsec_mb",
              engine_args="", pki="", tunnels_extra="", inside_mtu=1500, transit_mtu=1500,
              extra_eal="", qpairs=1):
    """Configuration of gateway n (1: segment A, 10.1.0.0/24; 2: segment B, 10.2.0.0/24)."""
    p = gw.topo.prefix
    seg = "a" if n == 1 else "b"
    args = f'args = "{engine_args}";' if engine_args else ""
    return f"""# sallyport mesh test gateway {n} (tests/integration/mesh.py)
name = "{gw.name}";
eal = {{ lcores = "{lcores}"; main_lcore = 0; file_prefix = "{gw.file_prefix}"; in_memory = true;
        no_pci = true; no_telemetry = true; {extra_eal} }};
workers = {{ lcores = {workers}; idle = "adaptive"; idle_max_us = 200; }};
ports = (
  {{ name = "inside"; device = "net_af_packet{n}0,iface={p}-{seg}1,qpairs={qpairs}"; mtu = {inside_mtu};
    addresses = ["10.{n}.0.1/24", "fd0{n}::1/64"]; }},
  {{ name = "transit"; device = "net_af_packet{n}1,iface={p}-t{n},qpairs={qpairs}"; mtu = {transit_mtu};
    addresses = ["10.3.0.{n}/24", "fd03::{n}/64"]; }}
);
exception = {{ enabled = true; iface = "{gw.topo.tap}"; netns = "{gw.topo.ns_gw}"; }};
log = {{ level = "info"; }};
console = {{ socket = "{gw.sock}"; }};
{pki}
crypto = {{ engine = "{engine}"; {args} }};
tunnels = {{
  {tunnels_extra}
  peers = ( {peer_block} );
}};
"""


def manual_peer(n, bits=128, *, udp_encap=False, esn=False, outer6=False, prefixes=None,
                extra=""):
    """Peer block for gateway n's view of the other gateway, with the shared manual keys."""
    other = 2 if n == 1 else 1
    k12, k21 = KEYS[bits]
    key_out, key_in = (k12, k21) if n == 1 else (k21, k12)
    spi_out, spi_in = (0x1001, 0x2001) if n == 1 else (0x2001, 0x1001)
    addr = f"fd03::{other}" if outer6 else f"10.3.0.{other}"
    if prefixes is None:
        prefixes = [f"10.{other}.0.0/24", f"fd0{other}::/64"]
    pl = ", ".join(f'"{x}"' for x in prefixes)
    return f"""{{ name = "g{other}"; address = "{addr}"; prefixes = [ {pl} ];
      udp_encap = {"true" if udp_encap else "false"}; esn = {"true" if esn else "false"}; {extra}
      manual = ( {{ spi_in = {spi_in}; spi_out = {spi_out}; key_in = "{key_in}";
                    key_out = "{key_out}"; }} ); }}"""


class Capture:
    """tshark on the transit bridge, into a pcap file."""

    def __init__(self, topo, path, bpf=None):
        self.path = str(path)
        argv = ["ip", "netns", "exec", topo.ns_t, "tshark", "-q", "-i", topo.bridge, "-w",
                self.path]
        if bpf:
            argv += ["-f", bpf]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=dict(os.environ, LC_ALL="C"))
        # tshark says "Capturing on" once the socket is open.
        wait_for(lambda: os.path.exists(self.path) and os.path.getsize(self.path) > 0, 10)
        time.sleep(0.5)

    def stop(self):
        time.sleep(1)   # dumpcap writes what is in flight before it is told to stop
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def fields(self, display_filter, *fields):
        argv = ["tshark", "-r", self.path, "-Y", display_filter, "-T", "fields"]
        for f in fields:
            argv += ["-e", f]
        p = run(argv, timeout=60)
        return [ln for ln in p.stdout.splitlines() if ln.strip()]


# ---- key exchange: a CA for the mesh and keyed gateways ----

TD = "td.mesh"


def spctl_ca(*args):
    p = run([str(SPCTL), "ca"] + [str(a) for a in args], timeout=30)
    assert p.returncode == 0, f"spctl ca {' '.join(map(str, args))}:\n{p.stdout}{p.stderr}"
    return p


class MeshPki:
    """A root, an intermediate, CRLs, and one gateway certificate per name."""

    def __init__(self, d, td=TD):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        self.td = td
        spctl_ca("init", "--trust-domain", td, "--out", self.d / "root")
        spctl_ca("intermediate", "--root-cert", self.d / "root/root.crt", "--root-key",
                 self.d / "root/root.key", "--out", self.d / "int")
        spctl_ca("bundle", "--out", self.d / "bundle.pem", self.d / "root/root.crt")
        self.crls()

    def crls(self):
        spctl_ca("crl", "--ca-cert", self.d / "root/root.crt", "--ca-key",
                 self.d / "root/root.key", "--out", self.d / "root.crl")
        spctl_ca("crl", "--ca-cert", self.d / "int/intermediate.crt", "--ca-key",
                 self.d / "int/intermediate.key", "--out", self.d / "int.crl")

    def issue(self, name, out_name=None, seconds=3600):
        out = self.d / (out_name or name)
        spctl_ca("issue", "gateway", "--ca-cert", self.d / "int/intermediate.crt", "--ca-key",
                 self.d / "int/intermediate.key", "--name", name, "--out", out,
                 "--seconds", seconds, "--force")
        return out / f"{name}.crt", out / f"{name}.key"

    def revoke(self, crt):
        info = spctl_ca("show", crt).stdout
        serial = next(ln.split()[-1] for ln in info.splitlines() if "serial" in ln.lower())
        spctl_ca("revoke", "--ca-cert", self.d / "int/intermediate.crt", "--ca-key",
                 self.d / "int/intermediate.key", "--serial", serial, "--reason",
                 "keyCompromise")
        self.crls()

    def ident(self, name):
        return f"spiffe://{self.td}/segment/{name}"

    def conf(self, crt, key, name, bundle=None):
        return f"""pki = {{ cert = "{crt}"; key = "{key}"; bundle = "{bundle or self.d / 'bundle.pem'}";
  crls = [ "{self.d / 'root.crl'}", "{self.d / 'int.crl'}" ];
  identity = "{self.ident(name)}"; }};"""


def keyed_peer(n, pki, extra=""):
    other = 2 if n == 1 else 1
    return f"""{{ name = "g{other}"; address = "10.3.0.{other}";
      identity = "{pki.ident(f'g{other}')}";
      prefixes = [ "10.{other}.0.0/24", "fd0{other}::/64" ]; {extra} }}"""


TUN = "dpd_interval_ms = 300; dpd_timeout_ms = 1500; drain_ms = 1000; retry_ms = 200;"


def make_gw(mesh, d, n, pki, cert_name=None, bundle=None, tunnels_extra=TUN, peer_extra=""):
    gw = Gateway(mesh.view(n), d, f"g{n}")
    crt, key = pki.issue(cert_name or f"g{n}", out_name=f"g{n}-{cert_name or 'own'}")
    gw.write_conf(mesh_conf(gw, n, keyed_peer(n, pki, peer_extra),
                            pki=pki.conf(crt, key, cert_name or f"g{n}", bundle),
                            tunnels_extra=tunnels_extra))
    gw.crt = crt
    return gw


def peer_state(gw):
    rc, out = gw.spctl("show", "peers", json_out=True)
    if rc != 0:
        return None
    return json.loads(out)["peers"][0]


def established(gw):
    p = peer_state(gw)
    return p is not None and p["state"] == "established" and p["active_epoch"] >= 1


def pki_fixture():
    """A module-scoped `pki` fixture: one MeshPki in a temporary directory."""
    @pytest.fixture(scope="module")
    def pki(tmp_path_factory):
        return MeshPki(tmp_path_factory.mktemp("mesh-pki"))
    return pki
