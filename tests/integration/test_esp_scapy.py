# SPDX-License-Identifier: BSD-3-Clause
"""ESP interop with scapy's independent ESP implementation (scapy.layers.ipsec, AES-GCM,
RFC 4106) playing eight peer gateways on the transit link, with keys given by hand.

 ns E-a (inside host)              sallyport                           ns E-b (transit, "T")
 a0 10.1.0.2 fd01::2 --- veth E-a1 [inside  10.1.0.1/24 fd01::1/64]
                                   [outside 10.2.0.1/24 fd02::1/64] veth E-b1 --- b0: no address;
                                                                    l2pipe.py + scapy here
 peer k (k = 0..7): AES-GCM-128/256 x ESP/UDP-4500 x IPv4/IPv6 outer
   address 10.2.0.(10+k) or fd02::(10+k); behind it 10.20.k.0/24 and fd20:0:0:k::/64

E is "spe<pid % 1000>", a topology of this module's own. Scapy seals packets from a host
behind peer k to the inside host; the inside host's kernel answers; sallyport seals the
answer back to peer k and scapy opens it. Tampered, replayed, stale, truncated and unknown-SPI
packets must be dropped and counted under their exact reason, and a capture on the transit
link while hosts talk through the tunnels must show nothing but ESP.
"""

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ENV, Gateway, run, stop_gateway, wait_for
from espnet import EspPeer, L2Pipe, keymat, own_topo, record_pid, show_sa

from scapy.layers.inet import ICMP, IP, UDP, UDPerror, IPerror
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                                IPerror6, IPv6, UDPerror as UDPerror6)
from scapy.packet import Raw

INSIDE4, INSIDE6 = "10.1.0.2", "fd01::2"
ENGINE = os.environ.get("SP_ESP_ENGINE", "ipsec_mb")   # or openssl, cryptodev
CRYPTODEV = "crypto_aesni_mb_esp"                        # the vdev of the cryptodev engine
REPLAY_WINDOW = 1024

# (bits, udp, outer) of peer k
KINDS = [(128, False, 4), (256, False, 4), (128, True, 4), (256, True, 4),
         (128, False, 6), (256, False, 6), (128, True, 6), (256, True, 6)]


def make_peer(k):
    bits, udp, outer = KINDS[k]
    addr = f"10.2.0.{10 + k}" if outer == 4 else f"fd02::{10 + k:x}"
    local = "10.2.0.1" if outer == 4 else "fd02::1"
    p = EspPeer(f"scapy{k}", addr, local, bits, udp, spi_tx=0x2000 + k, spi_rx=0x1000 + k,
                key_tx=keymat(k, bits), key_rx=keymat(100 + k, bits),
                prefixes=[f"10.20.{k}.0/24", f"fd20:0:0:{k}::/64"])
    p.host4, p.host6 = f"10.20.{k}.5", str(ipaddress.IPv6Address(f"fd20:0:0:{k}::5"))
    p.kind = f"{bits}-{'udp' if udp else 'esp'}-outer{outer}"
    p.last_rx_seq = 0
    return p


PEERS = [make_peer(k) for k in range(len(KINDS))]


def tunnels_conf():
    peers = ",\n    ".join(p.conf() for p in PEERS)
    args = CRYPTODEV if ENGINE == "cryptodev" else ""
    return f"""crypto = {{ engine = "{ENGINE}"; args = "{args}"; }};
tunnels = {{
  esn = false;
  udp_encap = false;
  replay_window = {REPLAY_WINDOW};
  peers = (
    {peers}
  );
}};
"""


class Net:
    """What the tests need: the gateway, the pipe in T, the MACs."""

    def __init__(self, topo, gw, pipe, gw_mac, t_mac):
        self.topo, self.gw, self.pipe = topo, gw, pipe
        self.gw_mac, self.t_mac = gw_mac, t_mac

    def frame(self, outer_ip_bytes, outer=4):
        et = b"\x08\x00" if outer == 4 else b"\x86\xdd"
        return (bytes.fromhex(self.gw_mac.replace(":", "")) +
                bytes.fromhex(self.t_mac.replace(":", "")) + et + outer_ip_bytes)

    def send(self, peer, wire):
        self.pipe.send(self.frame(wire, peer.outer))

    def expect(self, peer, match, timeout=3.0):
        """Wait for a packet sallyport sealed for peer whose inner packet satisfies match;
        return (inner, seq)."""
        def pred(f):
            got = peer.decrypt(f)
            if got is not None and match(got[0]):
                return got
            return None
        got, seen = self.pipe.wait_for(pred, timeout)
        assert got is not None, (
            f"no matching ESP packet for peer {peer.name} ({peer.kind}) in {timeout}s; "
            f"{len(seen)} other frames: " + "; ".join(describe(f) for f in seen[:5]) +
            "\n" + self.gw.log_tail(15))
        inner, seq = got
        assert seq > peer.last_rx_seq, f"sequence number {seq} after {peer.last_rx_seq}"
        peer.last_rx_seq = seq
        return got

    def nothing(self, peer, timeout=0.7):
        """No packet for peer arrives (it was dropped)."""
        got, _ = self.pipe.wait_for(lambda f: peer.decrypt(f), timeout)
        assert got is None, f"unexpected packet for {peer.name}: {got[0].summary()}"


def describe(frame):
    """A frame for a failure message: opened when it is ESP of one of the peers."""
    for p in PEERS:
        try:
            got = p.decrypt(frame)
        except Exception as e:  # noqa: BLE001 - any failure to open is worth showing
            return f"ESP for {p.name} that scapy cannot open ({e!r}): {frame[:80].hex()}"
        if got is not None:
            return f"ESP for {p.name} seq {got[1]}: {got[0].summary()}"
    return frame[:80].hex()


def echo(peer, inner, ident, seq, payload):
    if inner == 4:
        return IP(src=peer.host4, dst=INSIDE4, ttl=64) / ICMP(type=8, id=ident, seq=seq) / \
            Raw(payload)
    return IPv6(src=peer.host6, dst=INSIDE6, hlim=64) / \
        ICMPv6EchoRequest(id=ident, seq=seq, data=payload)


def is_reply(peer, inner, ident, seq, payload):
    def match(p):
        if inner == 4:
            return (p.haslayer(ICMP) and p[IP].src == INSIDE4 and p[IP].dst == peer.host4 and
                    p[ICMP].type == 0 and p[ICMP].id == ident and p[ICMP].seq == seq and
                    bytes(p[ICMP].payload) == payload)
        return (p.haslayer(ICMPv6EchoReply) and p[IPv6].src == INSIDE6 and
                p[IPv6].dst == peer.host6 and p[ICMPv6EchoReply].id == ident and
                p[ICMPv6EchoReply].seq == seq and p[ICMPv6EchoReply].data == payload)
    return match


def roundtrip(net, peer, inner=4, ident=None, seq=None, wire_hook=None):
    """One echo through the tunnel and back; returns the sealed request bytes."""
    ident = ident if ident is not None else 0x5000 + PEERS.index(peer)
    seq = seq if seq is not None else peer.seq + 1
    payload = os.urandom(24) + peer.name.encode()
    wire = peer.encrypt(echo(peer, inner, ident, seq & 0xffff, payload))
    net.send(peer, wire)
    net.expect(peer, is_reply(peer, inner, ident, seq & 0xffff, payload))
    return wire


def spi_value(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def sa_of(gw, spi, direction):
    for sa in show_sa(gw):
        if spi_value(sa["spi"]) == spi and str(sa["dir"]).startswith(direction):
            return sa
    raise AssertionError(f"no {direction} SA with SPI {spi:#x} in show sa: "
                         f"{json.dumps(show_sa(gw))[:2000]}")


def sa_drops(sa, reason):
    d = sa.get("drops", {})
    for key in (reason, reason.replace("esp-", ""), reason.replace("-", "_"),
                reason.replace("esp-", "").replace("-", "_")):
        if key in d:
            return int(d[key])
    return 0


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with own_topo("spe") as topo:
        workdir = tmp_path_factory.mktemp("gw-esp")
        gw = Gateway(topo, workdir, "esp", exception=False, extra=tunnels_conf())
        if ENGINE == "cryptodev":
            gw.write_conf(gw.conf_text.replace(
                "  no_telemetry = true;\n",
                f'  no_telemetry = true;\n  extra = [ "--vdev={CRYPTODEV}" ];\n', 1))
        pipe = None
        try:
            gw.start()
            record_pid(topo, gw.proc.pid)
            t_mac = topo.sh(topo.ns_b, ["cat", "/sys/class/net/b0/address"],
                            check=True).stdout.strip()
            # T's kernel stays silent: scapy is the only one speaking there.
            topo.sh(topo.ns_b, ["ip", "addr", "flush", "dev", "b0"], check=True)
            topo.sh(topo.ns_b, ["sysctl", "-qw", "net.ipv6.conf.b0.disable_ipv6=1"],
                    check=True)
            # The peers answer no ARP or ND (neither does a real ESP peer need to here).
            for p in PEERS:
                gw.spctl_ok("neighbor", "add", p.addr, t_mac, "dev", "outside")
            assert topo.ping_until(topo.ns_a, "10.1.0.1", timeout=10), gw.log_tail()
            pipe = L2Pipe(topo.ns_b, "b0")
            yield Net(topo, gw, pipe, topo.mac(topo.if_b), t_mac)
        finally:
            if pipe:
                pipe.close()
            stop_gateway(gw)


@pytest.fixture
def alive(net):
    assert net.gw.alive(), "gateway died earlier:\n" + net.gw.log_tail()
    net.pipe.flush()
    yield net
    assert net.gw.alive(), "gateway died during the test:\n" + net.gw.log_tail()


# ---- (a) both directions, every kind of peer, IPv4 and IPv6 inner ----

@pytest.mark.parametrize("inner", [4, 6])
@pytest.mark.parametrize("k", range(len(KINDS)), ids=[p.kind for p in PEERS])
def test_echo_through_tunnel(alive, k, inner):
    """Scapy seals an echo request from behind peer k; the inside host's reply comes back
    sealed by sallyport for peer k, with the right outer header; scapy opens it."""
    peer = PEERS[k]
    in_before = sa_of(alive.gw, peer.spi_tx, "in")
    out_before = sa_of(alive.gw, peer.spi_rx, "out")
    for i in range(3):
        roundtrip(alive, peer, inner, ident=0x4000 + k * 16 + inner, seq=i + 1)
    # show sa: both SAs counted the three packets, and name the peer and the engine.
    sa_in = sa_of(alive.gw, peer.spi_tx, "in")
    sa_out = sa_of(alive.gw, peer.spi_rx, "out")
    for sa, before in ((sa_in, in_before), (sa_out, out_before)):
        assert sa["peer"] == peer.name, sa
        assert sa["engine"] == ENGINE, sa
        assert int(sa["packets"]) - int(before["packets"]) == 3, (before, sa)
        assert int(sa["bytes"]) > int(before["bytes"]), (before, sa)


@pytest.mark.parametrize("inner", [4, 6])
@pytest.mark.parametrize("k", range(len(KINDS)), ids=[p.kind for p in PEERS])
def test_udp_through_tunnel(alive, k, inner):
    """A UDP datagram to a closed port: the inside host's port-unreachable error, quoting our
    datagram, comes back through the tunnel."""
    peer = PEERS[k]
    body = os.urandom(32)
    sport = 33000 + k * 2 + (inner == 6)
    if inner == 4:
        pkt = IP(src=peer.host4, dst=INSIDE4) / UDP(sport=sport, dport=9) / Raw(body)

        def match(p):
            return (p.haslayer(ICMP) and p[ICMP].type == 3 and p[ICMP].code == 3 and
                    p[IP].dst == peer.host4 and p.haslayer(UDPerror) and
                    p[UDPerror].sport == sport and p[IPerror].src == peer.host4)
    else:
        pkt = IPv6(src=peer.host6, dst=INSIDE6) / UDP(sport=sport, dport=9) / Raw(body)

        def match(p):
            return (p.haslayer(ICMPv6DestUnreach) and p[ICMPv6DestUnreach].code == 4 and
                    p[IPv6].dst == peer.host6 and p.haslayer(UDPerror6) and
                    p[UDPerror6].sport == sport and p[IPerror6].src == peer.host6)
    alive.send(peer, peer.encrypt(pkt))
    inner_pkt, _ = alive.expect(peer, match)
    assert body in bytes(inner_pkt), inner_pkt.summary()


def test_outer_headers(alive):
    """What sallyport puts on the wire: outer addresses and protocol, UDP 4500 -> 4500 with the
    right length, DF on IPv4, and an SPI/sequence scapy accepts (checked in decrypt)."""
    import struct
    for peer in (PEERS[0], PEERS[3], PEERS[4], PEERS[7]):
        alive.pipe.flush()
        payload = b"outer" * 8
        net_wire = peer.encrypt(echo(peer, 4, 0x6000, 1, payload))
        alive.send(peer, net_wire)
        frames = []

        def pred(f):
            got = peer.decrypt(f)
            if got is not None and is_reply(peer, 4, 0x6000, 1, payload)(got[0]):
                frames.append(f)
                return got
            return None
        got, _ = alive.pipe.wait_for(pred, 3)
        assert got is not None, f"no reply for {peer.name}"
        peer.last_rx_seq = got[1]
        f = frames[0]
        ip = f[14:]
        if peer.outer == 4:
            assert struct.unpack("!H", f[12:14])[0] == 0x0800
            assert ip[9] == (17 if peer.udp else 50)
            assert struct.unpack("!H", ip[6:8])[0] & 0x4000, "DF not set"
            assert struct.unpack("!H", ip[2:4])[0] == len(ip), "IPv4 total length"
            hl = 20
        else:
            assert struct.unpack("!H", f[12:14])[0] == 0x86dd
            assert ip[6] == (17 if peer.udp else 50)
            assert struct.unpack("!H", ip[4:6])[0] == len(ip) - 40, "IPv6 payload length"
            hl = 40
        if peer.udp:
            sport, dport, ulen = struct.unpack("!HHH", ip[hl:hl + 6])
            assert (sport, dport) == (4500, 4500)
            assert ulen == len(ip) - hl, "UDP length"
            csum = struct.unpack("!H", ip[hl + 6:hl + 8])[0]
            if peer.outer == 4:
                assert csum == 0, "UDP checksum over IPv4 (RFC 3948: zero)"
            else:
                # IPv6 has no zero UDP checksum (RFC 8200): it must be right.
                pkt = IPv6(ip)
                del pkt[UDP].chksum
                assert csum == IPv6(bytes(pkt))[UDP].chksum, "UDP checksum over IPv6"
                assert csum != 0


# ---- (b) bad input: dropped, counted under its exact reason, good traffic still flows ----

DROP_PEERS = [0, 7]   # AES-128 ESP over IPv4; AES-256 UDP over IPv6


def counted(net, reason, before, n):
    """The drop counter `reason` moved by exactly n."""
    got = wait_for(lambda: net.gw.drop(reason) - before >= n, 3)
    now = net.gw.drop(reason)
    assert now - before == n, f"drops[{reason}] moved by {now - before}, expected {n} " \
        f"(got={got})\n" + net.gw.log_tail(10)


@pytest.mark.parametrize("k", DROP_PEERS, ids=[PEERS[k].kind for k in DROP_PEERS])
def test_tampered(alive, k):
    peer = PEERS[k]
    before = alive.gw.drop("esp-auth-failed")
    sa_before = sa_drops(sa_of(alive.gw, peer.spi_tx, "in"), "esp-auth-failed")
    hl = (20 if peer.outer == 4 else 40) + (8 if peer.udp else 0)
    cases = 0
    for where in ("ciphertext", "icv", "spi-seq-aad", "iv"):
        wire = bytearray(peer.encrypt(echo(peer, 4, 0x7000, 1, b"tamper" * 6)))
        pos = {"ciphertext": hl + 16 + 10, "icv": len(wire) - 1,
               "spi-seq-aad": hl + 7, "iv": hl + 9}[where]
        wire[pos] ^= 0x01
        alive.send(peer, bytes(wire))
        cases += 1
    alive.nothing(peer)
    counted(alive, "esp-auth-failed", before, cases)
    assert sa_drops(sa_of(alive.gw, peer.spi_tx, "in"), "esp-auth-failed") - sa_before == \
        cases
    roundtrip(alive, peer)


@pytest.mark.parametrize("k", DROP_PEERS, ids=[PEERS[k].kind for k in DROP_PEERS])
def test_replayed(alive, k):
    peer = PEERS[k]
    wire = roundtrip(alive, peer)
    before = alive.gw.drop("esp-replay")
    alive.send(peer, wire)
    alive.send(peer, wire)
    alive.nothing(peer)
    counted(alive, "esp-replay", before, 2)
    assert sa_drops(sa_of(alive.gw, peer.spi_tx, "in"), "esp-replay") >= 2
    roundtrip(alive, peer)


@pytest.mark.parametrize("k", DROP_PEERS, ids=[PEERS[k].kind for k in DROP_PEERS])
def test_too_old(alive, k):
    """A jump forward is accepted; then a number just left of the window is a replay, one just
    inside it (never seen) is accepted."""
    peer = PEERS[k]
    top = peer.seq + 3 * REPLAY_WINDOW
    peer.seq = top - 1
    roundtrip(alive, peer, ident=0x7100, seq=1)            # sealed with sequence number top
    assert peer.seq == top
    before = alive.gw.drop("esp-replay")
    stale = peer.encrypt(echo(peer, 4, 0x7101, 1, b"stale" * 6), seq=top - REPLAY_WINDOW)
    alive.send(peer, stale)
    alive.nothing(peer)
    counted(alive, "esp-replay", before, 1)
    # top - window + 1 is the window's left edge: new, so accepted.
    payload = b"edge" * 8
    edge = peer.encrypt(echo(peer, 4, 0x7102, 2, payload), seq=top - REPLAY_WINDOW + 1)
    alive.send(peer, edge)
    alive.expect(peer, is_reply(peer, 4, 0x7102, 2, payload))
    peer.seq = top
    roundtrip(alive, peer)


@pytest.mark.parametrize("k", DROP_PEERS, ids=[PEERS[k].kind for k in DROP_PEERS])
def test_unknown_spi(alive, k):
    peer = PEERS[k]
    before = alive.gw.drop("esp-no-sa")
    for spi in (0x9999, 0x1000 + k):   # unknown; our own outbound SPI is no inbound SA
        alive.send(peer, peer.encrypt(echo(peer, 4, 0x7200, 1, b"nosa" * 6), spi=spi))
    alive.nothing(peer)
    counted(alive, "esp-no-sa", before, 2)
    roundtrip(alive, peer)


@pytest.mark.parametrize("k", DROP_PEERS, ids=[PEERS[k].kind for k in DROP_PEERS])
def test_truncated(alive, k):
    """ESP shorter than header + IV + trailer + ICV, with outer (and UDP) lengths that match
    the truncated packet, so that only ESP is at fault."""
    import struct
    peer = PEERS[k]
    hl = (20 if peer.outer == 4 else 40) + (8 if peer.udp else 0)
    before = alive.gw.drop("esp-malformed")
    n = 0
    for esp_len in (4, 8, 16, 17, 33):
        wire = bytearray(peer.encrypt(echo(peer, 4, 0x7300, 1, b"trunc" * 6))[:hl + esp_len])
        if peer.outer == 4:
            wire[2:4] = struct.pack("!H", len(wire))
            wire[10:12] = b"\0\0"
            csum = 0
            for i in range(0, 20, 2):
                csum += (wire[i] << 8) | wire[i + 1]
            while csum >> 16:
                csum = (csum & 0xffff) + (csum >> 16)
            wire[10:12] = struct.pack("!H", ~csum & 0xffff)
        else:
            wire[4:6] = struct.pack("!H", len(wire) - 40)
        if peer.udp:
            base = 20 if peer.outer == 4 else 40
            wire[base + 4:base + 6] = struct.pack("!H", len(wire) - base)
        alive.send(peer, bytes(wire))
        n += 1
    alive.nothing(peer)
    counted(alive, "esp-malformed", before, n)
    roundtrip(alive, peer)


def test_wrong_inner_source(alive):
    """An inner source outside the prefixes of the peer whose SA carried it: tunnel-rpf."""
    peer, other = PEERS[0], PEERS[1]
    before = alive.gw.drop("tunnel-rpf")
    for src in ("10.99.0.5", other.host4):
        pkt = IP(src=src, dst=INSIDE4) / ICMP(type=8, id=0x7400, seq=1) / Raw(b"rpf" * 8)
        alive.send(peer, peer.encrypt(pkt))
    alive.nothing(peer)
    alive.nothing(other, 0.2)
    counted(alive, "tunnel-rpf", before, 2)
    roundtrip(alive, peer)


def test_plaintext_from_peer_prefix(alive):
    """Plaintext claiming to come from behind a peer is not forwarded (tunnel-plaintext)."""
    peer = PEERS[0]
    before = alive.gw.drop("tunnel-plaintext")
    pkt = IP(src=peer.host4, dst=INSIDE4) / ICMP(type=8, id=0x7500, seq=1) / Raw(b"clear" * 8)
    alive.send(peer, bytes(pkt))
    alive.nothing(peer)
    counted(alive, "tunnel-plaintext", before, 1)


# ---- (c) on the wire: nothing but ESP ----

class Responder:
    """Answers echo requests that sallyport seals for any peer (scapy as the far hosts)."""

    def __init__(self, net):
        self.net = net
        self.answered = 0

    def run(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for f in self.net.pipe.recv(0.2, 32):
                for peer in PEERS:
                    got = peer.decrypt(f)
                    if got is None:
                        continue
                    p, seq = got
                    peer.last_rx_seq = max(peer.last_rx_seq, seq)
                    if p.haslayer(ICMP) and p[ICMP].type == 8:
                        rep = IP(src=p[IP].dst, dst=p[IP].src) / \
                            ICMP(type=0, id=p[ICMP].id, seq=p[ICMP].seq) / p[ICMP].payload
                    elif p.haslayer(ICMPv6EchoRequest):
                        q = p[ICMPv6EchoRequest]
                        rep = IPv6(src=p[IPv6].dst, dst=p[IPv6].src) / \
                            ICMPv6EchoReply(id=q.id, seq=q.seq, data=q.data)
                    else:
                        break
                    self.net.send(peer, peer.encrypt(rep))
                    self.answered += 1
                    break


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_capture_shows_only_esp(alive, tmp_path):
    topo = alive.topo
    cap = tmp_path / "transit.pcap"
    # --immediate-mode: else the last packets can sit in an unfinished ring block that tcpdump
    # never reads once it is interrupted.
    dump = subprocess.Popen(["ip", "netns", "exec", topo.ns_b, "tcpdump", "-i", "b0", "-n",
                             "--immediate-mode", "-U", "-w", str(cap)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=ENV,
                            start_new_session=True)
    try:
        assert wait_for(lambda: cap.exists() and cap.stat().st_size > 0, 5), "tcpdump"
        pings = []
        targets = [(PEERS[0], 4), (PEERS[2], 6), (PEERS[5], 4), (PEERS[7], 6)]
        for peer, inner in targets:
            dst = peer.host4 if inner == 4 else peer.host6
            # -w: wait for every reply, not just two round-trip times after the last request
            pings.append(topo.bg(topo.ns_a, ["ping", "-n", "-c", "5", "-i", "0.2", "-w", "8",
                                             dst], log_path=str(tmp_path / f"ping-{dst}")))
        r = Responder(alive)
        deadline = time.monotonic() + 10
        r.run(1.0)
        # Answer until every ping has its five replies (or gives up at its -w deadline).
        while any(p.alive() for p in pings) and time.monotonic() < deadline:
            r.run(0.3)
        outs = [p.output() for p in pings]
        for p in pings:
            p.close()
        time.sleep(0.5)     # tcpdump writes what it has read so far
    finally:
        os.killpg(dump.pid, signal.SIGINT)
        try:
            dump.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(dump.pid, signal.SIGKILL)
            dump.wait()
    for (peer, inner), out in zip(targets, outs):
        # With -w, ping sends until five replies are in (maybe a request more): count replies.
        assert re.search(r"\b5 received", out), f"ping through {peer.name}: {out}"
    clear = run(["tshark", "-n", "-r", str(cap), "-Y", "not esp"], timeout=60)
    assert clear.returncode == 0, clear.stderr
    assert clear.stdout.strip() == "", "frames other than ESP on the transit link:\n" + \
        clear.stdout[:3000]
    esp = run(["tshark", "-n", "-r", str(cap), "-Y", "esp"], timeout=60)
    n = len(esp.stdout.strip().splitlines())
    # 4 pings x 5 requests, each sealed by sallyport and answered sealed by scapy
    assert n >= 40, esp.stdout
    udp = run(["tshark", "-n", "-r", str(cap), "-Y", "udp and not udp.port == 4500"],
              timeout=60)
    assert udp.stdout.strip() == "", udp.stdout
