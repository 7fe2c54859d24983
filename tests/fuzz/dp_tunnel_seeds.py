#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seeds for fuzz_dp's tunnel paths (tests/fuzz/corpus/dp/esp-*, tun-*), made with scapy's ESP.

fuzz_dp runs dp_env_setup_tunnel(): peer "p" at 10.2.0.9 behind which are 10.9.0.0/16 and
fd09::/48, sending to us on SPI 0x1001 with AES-GCM-128 key + salt DP_ENV_P_KEY_IN and
extended sequence numbers (tests/unit/dp_env.h). The first byte of a seed is the port (0 = A,
the inside; 1 = B, towards the peer); frames go to the broadcast MAC, which every port takes.
test_dp_tunnel checks that each seed still does what its name says.

Run once; the output is committed:  /usr/bin/python3 tests/fuzz/dp_tunnel_seeds.py
"""
import os
import struct

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus', 'dp')
KEY_IN = bytes.fromhex('00112233445566778899aabbccddeeff0a0b0c0d')   # DP_ENV_P_KEY_IN
BCAST = 'ff:ff:ff:ff:ff:ff'
PEER_MAC = '02:00:00:00:bb:09'
HOST_MAC = '02:00:00:00:aa:01'


def esp(inner, seq, udp=False):
    sa = SecurityAssociation(ESP, spi=0x1001, crypt_algo='AES-GCM', crypt_key=KEY_IN,
                             auth_algo='NULL',
                             tunnel_header=IP(src='10.2.0.9', dst='10.2.0.1', flags='DF',
                                              id=0, ttl=64),
                             nat_t_header=UDP(sport=4500, dport=4500) if udp else None,
                             esn_en=True, esn=0)
    wire = bytes(sa.encrypt(inner, seq_num=seq, iv=struct.pack('!Q', seq)))
    if udp:
        # scapy 2.5.0 writes 8 as the UDP length (see tests/unit/esp_vectors/gen.py)
        wire = wire[:24] + struct.pack('!H', len(wire) - 20) + wire[26:]
    assert bytes(sa.decrypt(IP(wire))) == bytes(inner)
    return bytes(Ether(dst=BCAST, src=PEER_MAC, type=0x0800)) + wire


def payload(n):
    return bytes((i * 7 + 3) & 0xff for i in range(n))


def main():
    udp4 = IP(src='10.9.1.1', dst='10.1.0.2', ttl=64) / UDP(sport=4000, dport=5000) / payload(64)
    echo4 = IP(src='10.9.1.1', dst='10.1.0.1', ttl=64) / ICMP(id=7, seq=1) / payload(32)
    echo6 = IPv6(src='fd09::1', dst='fd01::1', hlim=64) / ICMPv6EchoRequest(id=7, seq=1) / \
        payload(32)
    # ESP to us inside the tunnel: refused as tunnel-loop
    nested = IP(src='10.9.1.1', dst='10.2.0.1', ttl=64, proto=50) / \
        (struct.pack('!II', 0x1001, 1) + payload(40))
    seeds = {
        'esp-udp4': (1, esp(IP(bytes(udp4)), 100)),
        'esp-echo4': (1, esp(IP(bytes(echo4)), 101)),
        'esp-echo6': (1, esp(IPv6(bytes(echo6)), 102)),
        'esp-natt-udp4': (1, esp(IP(bytes(udp4)), 103, udp=True)),
        'esp-in-esp': (1, esp(IP(bytes(nested)), 104)),
        'tun-udp4': (0, bytes(Ether(dst=BCAST, src=HOST_MAC) /
                              IP(src='10.1.0.2', dst='10.9.1.1', ttl=64) /
                              UDP(sport=4000, dport=5000) / payload(100))),
        'tun-frag4': (0, bytes(Ether(dst=BCAST, src=HOST_MAC) /
                               IP(src='10.1.0.2', dst='10.9.1.1', ttl=64) /
                               UDP(sport=4000, dport=5000) / payload(1450))),
        'tun-big6': (0, bytes(Ether(dst=BCAST, src=HOST_MAC) /
                              IPv6(src='fd01::2', dst='fd09::1', hlim=64) /
                              UDP(sport=4000, dport=5000) / payload(1400))),
    }
    os.makedirs(CORPUS, exist_ok=True)
    for name, (port, frame) in sorted(seeds.items()):
        with open(os.path.join(CORPUS, name), 'wb') as f:
            f.write(bytes([port]) + frame)
    print('%d seeds in %s' % (len(seeds), CORPUS))


if __name__ == '__main__':
    main()
