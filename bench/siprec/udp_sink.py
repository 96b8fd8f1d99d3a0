#!/usr/bin/env python3
"""A plain UDP sink: the floor that the recorder's packet path is compared with.

Binds the given loopback ports, counts every datagram by (local port, source
address, source port) and, on SIGTERM or SIGINT, writes the counts as JSON to
--out and exits. It does nothing with the bytes: receiving is all it costs.

    udp_sink.py --ports 27000,27002 --out counts.json
"""

import argparse
import json
import selectors
import signal
import socket
import sys

RECEIVE_BUFFER = 4 * 1024 * 1024  # asked for; the kernel caps it at rmem_max


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ports", required=True, help="comma-separated UDP ports")
    parser.add_argument("--out", required=True, help="where to write the counts (JSON)")
    args = parser.parse_args()

    selector = selectors.DefaultSelector()
    sockets = []
    for port in (int(p) for p in args.ports.split(",")):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind((args.host, port))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, port)
        sockets.append(sock)

    counts: dict[tuple[int, str, int], int] = {}
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)

    while not stopping:
        for key, _ in selector.select(timeout=0.2):
            sock = key.fileobj
            port = key.data
            # Drain the socket: one select, many datagrams.
            while True:
                try:
                    _, (address, source_port) = sock.recvfrom(2048)
                except BlockingIOError:
                    break
                except InterruptedError:
                    continue
                k = (port, address, source_port)
                counts[k] = counts.get(k, 0) + 1

    rows = [{"port": p, "source": f"{a}:{s}", "packets": n} for (p, a, s), n in counts.items()]
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump({"streams": rows, "rcvbuf": sockets[0].getsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF)}, out)
    for sock in sockets:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
