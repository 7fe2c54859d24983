# SPDX-License-Identifier: BSD-3-Clause
"""ESP interop with DPDK's ipsec-secgw (built by scripts/secgw.sh from Debian's dpdk-doc
example sources) as the peer gateway, manual keys, AES-GCM-128 and -256.

 ns S-a (client)          sallyport                        ipsec-secgw          ns S-b (server)
 a0 10.1.0.2 -- veth -- [inside 10.1.0.1/24 fd01::1/64]
    fd01::2             [mesh 10.3.0.1/24 fd03::1/64] ==memif== [port 0, -u: ESP]
                                                                [port 1] -- veth -- b0 10.2.0.2
                                                                                       fd02::2
 sallyport: peer "secgw" 10.3.0.2 (behind it 10.2.0.0/24), peer "secgw6" fd03::2 (fd02::/64)
 ipsec-secgw: one SA pair per inner family (its policies bind an SPI to one family):
   IPv4 in an IPv4 tunnel 10.3.0.1 <-> 10.3.0.2, IPv6 in an IPv6 tunnel fd03::1 <-> fd03::2

S is "sps<pid % 1000>", a topology of this module's own. Neither gateway answers ARP/ND
for the other: sallyport gets static neighbours over the console, ipsec-secgw `neigh` rules,
and ns S-b a permanent neighbour entry for its gateway 10.2.0.1 / fd02::1 (ipsec-secgw
answers neither). ipsec-secgw drops what does not verify, so traffic in both directions
proves that each side opens what the other seals.

Environment: SP_SECGW_DIR, where scripts/secgw.sh builds the peer (default build-secgw/).
"""

import hashlib
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, Bg, Gateway, run, stop_gateway, wait_for
from espnet import keymat, own_topo, record_pid, show_sa

SECGW_DIR = Path(os.environ.get("SP_SECGW_DIR", ROOT / "build-secgw"))
if not SECGW_DIR.is_absolute():
    SECGW_DIR = ROOT / SECGW_DIR
# sallyport's crypto engine per set-up (each set-up names its own); SP_ESP_ENGINE forces one.
FORCE_ENGINE = os.environ.get("SP_ESP_ENGINE")
SP_MESH_MAC = "02:00:00:00:03:01"
SG_MESH_MAC = "02:00:00:00:03:02"
CLIENT_MTU = 1400   # inner packets that fit both gateways' tunnels without fragmenting

# SPIs, named from sallyport's side: in = ipsec-secgw sends it, out = sallyport sends it.
SPI = {"secgw": (0x2001, 0x1001), "secgw6": (0x2002, 0x1002)}


def secgw_binary():
    src = Path("/usr/share/dpdk/examples/ipsec-secgw/ipsec-secgw.c")
    if not src.exists():
        pytest.skip("ipsec-secgw sources not installed (Debian package dpdk-doc)")
    if run(["pkg-config", "--exists", "libdpdk"]).returncode != 0:
        pytest.skip("pkg-config finds no libdpdk (Debian package libdpdk-dev)")
    p = run(["bash", str(ROOT / "scripts" / "secgw.sh"), str(SECGW_DIR)], timeout=300)
    assert p.returncode == 0, f"scripts/secgw.sh failed:\n{p.stdout}{p.stderr}"
    return Path(p.stdout.strip().splitlines()[-1])


def keys(bits):
    """(sallyport key_in, key_out) per peer: key_in is what ipsec-secgw seals with."""
    return {name: (keymat(0x40 + i, bits), keymat(0x80 + i, bits))
            for i, name in enumerate(SPI)}


def colon_hex(b):
    return ":".join(f"{x:02x}" for x in b)


def crypto_conf(engine):
    """sallyport's crypto section, and the EAL argument a cryptodev engine needs."""
    if engine == "cryptodev":
        return 'crypto = { engine = "cryptodev"; args = "crypto_aesni_mb_sp"; };', \
            'extra = [ "--vdev=crypto_aesni_mb_sp" ];'
    return f'crypto = {{ engine = "{engine}"; args = ""; }};', ""


def sallyport_conf(gw, topo, memif, bits, engine):
    ks = keys(bits)

    def peer(name, addr, local, prefix):
        spi_in, spi_out = SPI[name]
        key_in, key_out = ks[name]
        return (f'{{ name = "{name}"; address = "{addr}"; local = "{local}"; '
                f'prefixes = [ "{prefix}" ];\n'
                f'      manual = ( {{ spi_in = {spi_in:#x}; spi_out = {spi_out:#x}; '
                f'key_in = "{key_in.hex()}"; key_out = "{key_out.hex()}"; }} ); }}')
    crypto, eal_extra = crypto_conf(engine)
    return f"""name = "{gw.name}";
eal = {{ lcores = "0-1"; main_lcore = 0; file_prefix = "{gw.file_prefix}"; in_memory = true;
        no_pci = true; no_telemetry = true; {eal_extra} }};
workers = {{ lcores = [1]; idle = "adaptive"; idle_max_us = 200; }};
ports = (
  {{ name = "inside"; device = "net_af_packet0,iface={topo.if_a},qpairs=1";
    addresses = ["10.1.0.1/24", "fd01::1/64"]; }},
  {{ name = "mesh"; device = "net_memif0,role=server,socket={memif},socket-abstract=no";
    mac = "{SP_MESH_MAC}"; addresses = ["10.3.0.1/24", "fd03::1/64"]; }}
);
log = {{ level = "info"; }};
console = {{ socket = "{gw.sock}"; }};
{crypto}
tunnels = {{
  cipher = "aes-gcm-{bits}";
  esn = false;
  udp_encap = false;
  replay_window = 1024;
  peers = (
    {peer("secgw", "10.3.0.2", "10.3.0.1", "10.2.0.0/24")},
    {peer("secgw6", "fd03::2", "fd03::1", "fd02::/64")}
  );
}};
"""


def secgw_conf(bits, b_mac):
    """ipsec-secgw's rules: its `sa out` is sallyport's inbound SPI and the reverse."""
    ks = keys(bits)
    alg = f"aes-{bits}-gcm"
    s4_in, s4_out = SPI["secgw"]
    s6_in, s6_out = SPI["secgw6"]
    k4_in, k4_out = ks["secgw"]
    k6_in, k6_out = ks["secgw6"]
    ports = "sport 0:65535 dport 0:65535"
    return "\n".join([
        "# generated by tests/integration/test_interop_secgw.py",
        f"sp ipv4 out esp protect {s4_in} pri 1 dst 10.1.0.0/24 {ports}",
        f"sp ipv4 in esp protect {s4_out} pri 1 dst 10.2.0.0/24 {ports}",
        f"sp ipv6 out esp protect {s6_in} pri 1 dst fd01::/64 {ports}",
        f"sp ipv6 in esp protect {s6_out} pri 1 dst fd02::/64 {ports}",
        f"sa out {s4_in} aead_algo {alg} aead_key {colon_hex(k4_in)} "
        f"mode ipv4-tunnel src 10.3.0.2 dst 10.3.0.1",
        f"sa in {s4_out} aead_algo {alg} aead_key {colon_hex(k4_out)} "
        f"mode ipv4-tunnel src 10.3.0.1 dst 10.3.0.2",
        f"sa out {s6_in} aead_algo {alg} aead_key {colon_hex(k6_in)} "
        f"mode ipv6-tunnel src fd03::2 dst fd03::1",
        f"sa in {s6_out} aead_algo {alg} aead_key {colon_hex(k6_out)} "
        f"mode ipv6-tunnel src fd03::1 dst fd03::2",
        "rt ipv4 dst 10.3.0.1/32 port 0",
        "rt ipv4 dst 10.2.0.0/24 port 1",
        "rt ipv6 dst fd03::1/128 port 0",
        "rt ipv6 dst fd02::/64 port 1",
        f"neigh port 0 {SP_MESH_MAC}",
        f"neigh port 1 {b_mac}",
        "",
    ])


class Secgw:
    def __init__(self, binary, topo, workdir, memif, bits, b_mac, librte_ipsec):
        self.prefix = f"{topo.prefix}sg"
        self.cfg = Path(workdir) / "secgw.cfg"
        self.cfg.write_text(secgw_conf(bits, b_mac))
        self.log_path = Path(workdir) / "secgw.log"
        # lcore 0: sallyport's control core, mostly asleep; its worker polls lcore 1.
        self.argv = [str(binary), "-l", "0", "--in-memory", "--no-pci", "--no-telemetry",
                     "--file-prefix", self.prefix, "-m", "256",
                     "--vdev", f"net_memif0,role=client,socket={memif},socket-abstract=no,"
                     f"mac={SG_MESH_MAC}",
                     "--vdev", f"net_af_packet1,iface={topo.if_b},qpairs=1",
                     "--vdev", "crypto_aesni_gcm0",
                     "--", "-p", "0x3", "-P", "-u", "0x1", "--config", "(0,0,0),(1,0,0)",
                     "-f", str(self.cfg)]
        if librte_ipsec:
            # DPDK's librte_ipsec path, with its anti-replay window on
            self.argv += ["-l", "-w", "1024"]
        self.proc = Bg(self.argv, str(self.log_path))
        record_pid(topo, self.proc.proc.pid)

    def log(self, n=40):
        return "\n".join(self.proc.output().splitlines()[-n:])

    def wait_up(self, timeout=30):
        ok = wait_for(lambda: not self.proc.alive() or
                      "entering main loop" in self.proc.output(), timeout)
        assert self.proc.alive() and ok, \
            f"ipsec-secgw did not start ({' '.join(self.argv)}):\n{self.log()}"

    def stop(self):
        if self.proc.alive():
            os.killpg(self.proc.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        self.proc.close()


@pytest.fixture(scope="module")
def secgw_bin():
    return secgw_binary()


@pytest.fixture(scope="module")
def topo_sg():
    with own_topo("sps") as topo:
        for ns, dev in ((topo.ns_a, "a0"), (topo.ns_b, "b0")):
            topo.sh(ns, ["ip", "link", "set", dev, "mtu", str(CLIENT_MTU)], check=True)
        yield topo


# ipsec-secgw has two ESP implementations: its own ("legacy") and librte_ipsec (-l); each
# key size meets both, and every sallyport engine meets ipsec-secgw at least once.
SETUPS = [(128, False, "ipsec_mb"), (256, False, "openssl"), (128, True, "cryptodev"),
          (256, True, "ipsec_mb")]


@pytest.fixture(scope="module", params=SETUPS,
                ids=[f"aes-{b}-gcm-{'librte_ipsec' if lib else 'legacy'}-{e}"
                     for b, lib, e in SETUPS])
def pair(request, secgw_bin, topo_sg, tmp_path_factory):
    bits, librte_ipsec, engine = request.param
    engine = FORCE_ENGINE or engine
    topo = topo_sg
    d = tmp_path_factory.mktemp(f"secgw-{bits}{'-lib' if librte_ipsec else ''}")
    memif = str(d / "mesh.memif")
    gw = Gateway(topo, d, f"sg{bits}")
    gw.write_conf(sallyport_conf(gw, topo, memif, bits, engine))
    b_mac = topo.sh(topo.ns_b, ["cat", "/sys/class/net/b0/address"], check=True).stdout.strip()
    sg = None
    started = False
    try:
        gw.start()
        started = True
        record_pid(topo, gw.proc.pid)
        for addr in ("10.3.0.2", "fd03::2"):
            gw.spctl_ok("neighbor", "add", addr, SG_MESH_MAC, "dev", "mesh")
        sg = Secgw(secgw_bin, topo, d, memif, bits, b_mac, librte_ipsec)
        sg.wait_up()
        # ns S-b's gateway is ipsec-secgw's port 1, which answers no ARP or ND.
        sg_mac = topo.mac(topo.if_b)
        for addr in ("10.2.0.1", "fd02::1"):
            topo.sh(topo.ns_b, ["ip", "neigh", "replace", addr, "lladdr", sg_mac, "nud",
                                "permanent", "dev", "b0"], check=True)
        ok = topo.ping_until(topo.ns_a, "10.2.0.2", timeout=20)
        assert ok, "no path through both gateways:\n" + gw.log_tail(20) + "\n" + sg.log()
        gw.engine = engine
        yield gw, sg, topo, bits
    finally:
        if sg:
            sg.stop()
            print(f"--- ipsec-secgw log ---\n{sg.log()}")
        if started:
            stop_gateway(gw)
        else:
            gw.stop()
            gw.cleanup_files()


def sa_stats(gw, spi, direction):
    found = show_sa(gw)
    for sa in found:
        if sa["spi"] == spi and sa["dir"] == direction:
            return sa
    raise AssertionError(f"no {direction} SA {spi:#x} in show sa: {found}")


@pytest.mark.parametrize("src,dst,peer", [
    ("a", "10.2.0.2", "secgw"), ("b", "10.1.0.2", "secgw"),
    ("a", "fd02::2", "secgw6"), ("b", "fd01::2", "secgw6"),
])
def test_ping(pair, src, dst, peer):
    gw, sg, topo, bits = pair
    ns = topo.ns_a if src == "a" else topo.ns_b
    spi_in, spi_out = SPI[peer]
    in0 = int(sa_stats(gw, spi_in, "in")["packets"])
    out0 = int(sa_stats(gw, spi_out, "out")["packets"])
    topo.ping_until(ns, dst, timeout=10)
    # -w: wait for every reply (without it ping gives the last one only two round-trip times,
    # which a busy machine can exceed); ping then sends until five replies are in.
    p = topo.ping(ns, dst, count=5, extra=("-w", "15"))
    assert re.search(r"\b5 received", p.stdout), p.stdout + p.stderr + "\n" + sg.log(10)
    sa_in, sa_out = sa_stats(gw, spi_in, "in"), sa_stats(gw, spi_out, "out")
    # 5 requests one way, 5 replies the other: each SA counts at least 5.
    assert int(sa_in["packets"]) - in0 >= 5, sa_in
    assert int(sa_out["packets"]) - out0 >= 5, sa_out
    for sa in (sa_in, sa_out):
        assert sa["peer"] == peer and sa["engine"] == gw.engine, sa


# http.server's own start-up looks its address up in DNS (socket.getfqdn), which waits for
# a timeout in ns S-b: its default route leads to ipsec-secgw, which drops the query silently.
WEB_SERVER = """
import functools, http.server, socket, socketserver, sys
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = sys.argv[1], self.server_address[1]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
Server((sys.argv[1], int(sys.argv[2])), handler).serve_forever()
"""


@pytest.mark.parametrize("client,server,addr", [
    ("a", "b", "10.2.0.2"), ("b", "a", "10.1.0.2"), ("a", "b", "fd02::2"),
])
def test_tcp(pair, tmp_path, client, server, addr):
    """An HTTP download through both gateways; the body's SHA-256 must match."""
    gw, sg, topo, bits = pair
    ns_c = topo.ns_a if client == "a" else topo.ns_b
    ns_s = topo.ns_a if server == "a" else topo.ns_b
    data = os.urandom(4 << 20)
    (tmp_path / "blob").write_bytes(data)
    srv = topo.bg(ns_s, [PYTHON, "-c", WEB_SERVER, addr, "8002", str(tmp_path)],
                  log_path=str(tmp_path / "web.log"))
    with srv:
        assert wait_for(lambda: topo.listening(ns_s, 8002), 10), \
            srv.output() + topo.addrs(ns_s) + topo.sh(ns_s, ["ss", "-Hlnt"]).stdout
        out = tmp_path / "got"
        host = f"[{addr}]" if ":" in addr else addr
        p = topo.sh(ns_c, ["curl", "-sS", "--fail", "--max-time", "60", "-o", str(out),
                           f"http://{host}:8002/blob"], timeout=90)
        assert p.returncode == 0, p.stdout + p.stderr + "\n" + sg.log(10)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_no_drops(pair):
    """The traffic above verified everywhere: no ESP drop on sallyport's SAs."""
    gw, sg, topo, bits = pair
    for peer, (spi_in, spi_out) in SPI.items():
        for spi, d in ((spi_in, "in"), (spi_out, "out")):
            sa = sa_stats(gw, spi, d)
            drops = sa.get("drops", {})
            bad = {k: v for k, v in drops.items() if int(v) != 0}
            assert not bad, f"{peer} {d} SA {spi:#x} dropped: {bad}"
