# SPDX-License-Identifier: BSD-3-Clause
"""The mesh topology (scripts/lib/topo.sh, topo_mesh_up): two segments, each behind its own
gateway, and a transit bridge between the gateways that a capture can watch.

 ns P-a 10.1.0.2 --- P-a1 [g1 inside 10.1.0.1 | transit 10.3.0.1] P-t1 --- br0 (ns P-t) ---
     P-t2 [g2 transit 10.3.0.2 | inside 10.2.0.1] P-b1 --- ns P-b 10.2.0.2
 exception taps: g1 -> ns P-g1, g2 -> ns P-g2
"""

import copy
import os
import subprocess
import time

from conftest import ROOT, Topo, run, wait_for

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


def mesh_conf(gw, n, peer_block, *, workers="[1]", lcores="0-1", engine="ipsec_mb",
              engine_args="", pki="", tunnels_extra="", inside_mtu=1500, transit_mtu=1500,
              extra_eal=""):
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
  {{ name = "inside"; device = "net_af_packet{n}0,iface={p}-{seg}1,qpairs=1"; mtu = {inside_mtu};
    addresses = ["10.{n}.0.1/24", "fd0{n}::1/64"]; }},
  {{ name = "transit"; device = "net_af_packet{n}1,iface={p}-t{n},qpairs=1"; mtu = {transit_mtu};
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
