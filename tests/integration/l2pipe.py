# SPDX-License-Identifier: BSD-3-Clause
"""A raw Ethernet pipe for tests that play a peer from inside a namespace, run there:

    ip netns exec NS /usr/bin/python3 l2pipe.py IFACE

The test keeps all packet logic (scapy, keys) in its own process and uses this only to put
frames on IFACE and take frames off it. Commands on stdin, one per line; answers on stdout:

    send HEX            -> "ok"
    recv SECONDS MAX    -> "n K" then K lines of HEX: frames received since the last recv or
                           flush, returned as soon as MAX are there or SECONDS have passed
    flush               -> "ok" (forget what was received)

Frames this socket sends itself are not returned. Plain Python, no scapy.
"""

import socket
import sys
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    iface = sys.argv[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    frames = []
    cond = threading.Condition()

    def reader():
        while True:
            data, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            with cond:
                frames.append(data)
                cond.notify_all()

    threading.Thread(target=reader, daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "send":
            s.send(bytes.fromhex(words[1]))
            print("ok", flush=True)
        elif words[0] == "recv":
            end = time.monotonic() + float(words[1])
            want = int(words[2])
            with cond:
                while len(frames) < want:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    cond.wait(left)
                got = frames[:want]
                del frames[:want]
            print(f"n {len(got)}", flush=True)
            for f in got:
                print(f.hex(), flush=True)
        elif words[0] == "flush":
            with cond:
                frames.clear()
            print("ok", flush=True)
        else:
            print(f"error unknown command {words[0]}", flush=True)


if __name__ == "__main__":
    main()
