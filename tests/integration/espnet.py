# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the ESP interop tests (test_esp_scapy.py, test_interop_secgw.py).

- own_topo(): a Topo with a prefix of the module's own (so its namespaces, veths and DPDK file
  prefixes never meet the session topology of the other modules), removed at the end, and the
  leftovers of interrupted runs of the same kind removed first;
- L2Pipe: frames in and out of an interface inside a namespace (l2pipe.py runs there);
- EspPeer: one peer gateway played by scapy's ESP (scapy.layers.ipsec), keys given by hand.
"""

import os
import signal
import socket
import struct
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from conftest import ENV, HUGE_DIR, PYTHON, STATE_DIR, Topo

HERE = Path(__file__).resolve().parent


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _remove_stale(kind):
    """Undo interrupted runs of this kind: their pytest is gone but namespaces, veths,
    daemons or hugepage files may be left."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    for marker in STATE_DIR.glob(f"{kind}[0-9][0-9][0-9].pid"):
        try:
            pid = int(marker.read_text().strip() or 0)
        except ValueError:
            pid = 0
        if pid and _alive(pid):
            continue
        prefix = marker.name[:-4]
        procs = marker.with_suffix(".procs")
        for word in procs.read_text().split() if procs.exists() else []:
            try:
                comm = Path(f"/proc/{word}/comm").read_text().strip()
                if comm in ("sallyport", "ipsec-secgw"):
                    os.kill(int(word), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        Topo(prefix).down()
        if HUGE_DIR.is_dir():
            for p in HUGE_DIR.glob(f"{prefix}*map_*"):
                p.unlink(missing_ok=True)
        procs.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)


def record_pid(topo, pid):
    """Remember a daemon of this run, so that a later run can kill it if this one dies."""
    with open(STATE_DIR / f"{topo.prefix}.procs", "a") as f:
        f.write(f"{pid}\n")
    # conftest's stop/cleanup reads this file for gateways.
    with open(STATE_DIR / f"{topo.prefix}.gateways", "a") as f:
        f.write(f"{pid}\n")


@contextmanager
def own_topo(kind):
    """The two-segment topology (scripts/netns-demo.sh) under the prefix KIND<pid % 1000>."""
    _remove_stale(kind)
    prefix = f"{kind}{os.getpid() % 1000:03d}"
    marker = STATE_DIR / f"{prefix}.pid"
    marker.write_text(str(os.getpid()))
    t = Topo(prefix)
    try:
        t.up()
        yield t
    finally:
        t.down()
        for suffix in (".procs", ".gateways"):
            marker.with_suffix(suffix).unlink(missing_ok=True)
        marker.unlink(missing_ok=True)


class L2Pipe:
    """Raw frames on IFACE in namespace NS (see l2pipe.py)."""

    def __init__(self, ns, iface):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, PYTHON,
                                      str(HERE / "l2pipe.py"), iface],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=ENV)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise AssertionError(f"l2pipe.py on {ns}/{iface} did not start: {line}")

    def _cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def send(self, frame):
        ans = self._cmd("send " + bytes(frame).hex())
        assert ans == "ok", ans

    def flush(self):
        assert self._cmd("flush") == "ok"

    def recv(self, timeout, max_frames=64):
        head = self._cmd(f"recv {timeout} {max_frames}")
        assert head.startswith("n "), head
        return [bytes.fromhex(self.proc.stdout.readline().strip())
                for _ in range(int(head[2:]))]

    def wait_for(self, pred, timeout=3.0):
        """Frames until pred(frame) returns something true: (that value, frames seen)."""
        seen = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None, seen
            for f in self.recv(min(left, 0.5), 16):
                seen.append(f)
                v = pred(f)
                if v:
                    return v, seen

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def ip_bytes(addr):
    """The packed form of an IPv4 or IPv6 address string."""
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def keymat(seed, bits):
    """Deterministic key material: the AES key followed by the 4-byte salt (RFC 4106)."""
    n = bits // 8 + 4
    return bytes((seed * 37 + i * 11 + 1) & 0xff for i in range(n))


class EspPeer:
    """A peer gateway as scapy sees it. Directions are named from the peer's side:
    tx = what it sends to sallyport (sallyport's spi_in/key_in), rx = what sallyport sends it
    (spi_out/key_out)."""

    def __init__(self, name, addr, local, bits, udp, spi_tx, spi_rx, key_tx, key_rx,
                 prefixes=()):
        from scapy.layers.inet import IP, UDP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.ipsec import ESP, SecurityAssociation

        self.name, self.addr, self.local = name, addr, local
        self.bits, self.udp = bits, udp
        self.outer = 6 if ":" in addr else 4
        self.spi_tx, self.spi_rx = spi_tx, spi_rx
        self.key_tx, self.key_rx = key_tx, key_rx
        self.prefixes = list(prefixes)
        self.seq = 0
        if self.outer == 4:
            tx_hdr = IP(src=addr, dst=local, ttl=64)
            rx_hdr = IP(src=local, dst=addr)
        else:
            tx_hdr = IPv6(src=addr, dst=local, hlim=64)
            rx_hdr = IPv6(src=local, dst=addr)
        nat = UDP(sport=4500, dport=4500) if udp else None
        self.sa_tx = SecurityAssociation(ESP, spi=spi_tx, crypt_algo="AES-GCM",
                                         crypt_key=key_tx, auth_algo="NULL",
                                         tunnel_header=tx_hdr, nat_t_header=nat)
        # Received packets are handed to scapy as outer IP / ESP: the UDP header (checked
        # separately) plays no part in ESP's cryptography.
        self.sa_rx = SecurityAssociation(ESP, spi=spi_rx, crypt_algo="AES-GCM",
                                         crypt_key=key_rx, auth_algo="NULL",
                                         tunnel_header=rx_hdr)

    def conf(self, replay_window=None):
        """This peer as sallyport's tunnels.peers entry (manual keys)."""
        pfx = ", ".join(f'"{p}"' for p in self.prefixes)
        return (f'{{ name = "{self.name}"; address = "{self.addr}"; local = "{self.local}";\n'
                f'      prefixes = [ {pfx} ]; udp_encap = {str(self.udp).lower()}; '
                f'esn = false;\n'
                f'      manual = ( {{ spi_in = {self.spi_tx:#x}; spi_out = {self.spi_rx:#x};\n'
                f'                   key_in = "{self.key_tx.hex()}";\n'
                f'                   key_out = "{self.key_rx.hex()}"; }} ); }}')

    def next_seq(self):
        self.seq += 1
        return self.seq

    def encrypt(self, inner, seq=None, spi=None):
        """Outer IP bytes of inner (a scapy IP/IPv6 packet) sealed with the tx SA. The IV is
        the sequence number, as sallyport does (any unique IV would do)."""
        from scapy.layers.inet import IP
        from scapy.layers.inet6 import IPv6

        if seq is None:
            seq = self.next_seq()
        inner = (IP if inner.version == 4 else IPv6)(bytes(inner))
        old = self.sa_tx.spi
        if spi is not None:
            self.sa_tx.spi = spi
        try:
            enc = self.sa_tx.encrypt(inner, seq_num=seq, iv=struct.pack("!Q", seq))
        finally:
            self.sa_tx.spi = old
        wire = bytearray(bytes(enc))
        if self.udp and self.outer == 4:
            # scapy 2.5.0 writes 8 as the UDP length over IPv4 (see tests/unit/esp_vectors/
            # gen.py); the rest of the packet is right.
            wire[24:26] = struct.pack("!H", len(wire) - 20)
        if self.udp and self.outer == 6:
            wire[44:46] = struct.pack("!H", len(wire) - 40)
        return bytes(wire)

    def esp_of(self, outer_ip):
        """(ESP bytes, outer header length incl. UDP) of outer IP bytes, or None when the
        packet is not ESP from sallyport to this peer as configured."""
        if self.outer == 4:
            if len(outer_ip) < 20 or outer_ip[0] >> 4 != 4:
                return None
            hl = (outer_ip[0] & 15) * 4
            proto, src, dst = outer_ip[9], outer_ip[12:16], outer_ip[16:20]
        else:
            if len(outer_ip) < 40 or outer_ip[0] >> 4 != 6:
                return None
            hl = 40
            proto, src, dst = outer_ip[6], outer_ip[8:24], outer_ip[24:40]
        if src != ip_bytes(self.local) or dst != ip_bytes(self.addr):
            return None
        if self.udp:
            if proto != 17 or len(outer_ip) < hl + 8:
                return None
            if struct.unpack("!H", outer_ip[hl + 2:hl + 4])[0] != 4500:
                return None
            hl += 8
        elif proto != 50:
            return None
        return outer_ip[hl:], hl

    def decrypt(self, frame):
        """The inner packet (scapy) of an Ethernet frame sallyport sent this peer, with the
        ESP sequence number: (inner, seq); None when it is not ESP for this peer's rx SPI.
        A frame with the right SPI that does not verify raises."""
        from scapy.layers.inet import IP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.ipsec import ESP

        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype not in (0x0800, 0x86dd):
            return None
        got = self.esp_of(frame[14:])
        if got is None:
            return None
        esp, _ = got
        if len(esp) < 8 or struct.unpack("!I", esp[:4])[0] != self.spi_rx:
            return None
        if self.outer == 4:
            pkt = IP(src=self.local, dst=self.addr, proto=50) / ESP(esp)
            pkt = IP(bytes(pkt))
        else:
            pkt = IPv6(src=self.local, dst=self.addr, nh=50) / ESP(esp)
            pkt = IPv6(bytes(pkt))
        seq = struct.unpack("!I", esp[4:8])[0]
        return self.sa_rx.decrypt(pkt), seq


def show_sa(gw):
    """Every SA of `show sa --json`: a list of dicts (spi, dir, peer, engine, counters...)."""
    return gw.json("show", "sa")["sas"]
