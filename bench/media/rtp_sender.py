#!/usr/bin/env python3
"""A stand-in for `callrec-callgen --rtp-only` while the build's callgen has no
such mode: the same command line and the same --json report shape, in Python,
so good for small N only (one core sends about 100,000 packets/s at best, and
its lateness is Python's, not callgen's; the bench prints which sender ran).

    rtp_sender.py --rtp-only FILE --duration S [--rate R] [--codec PCMU|PCMA] [--json]

FILE: one line per call, `NAME CUSTOMER_DEST AGENT_DEST` (DEST = HOST:PORT);
each call sends its customer stream to CUSTOMER_DEST and its agent stream to
AGENT_DEST, 20 ms G.711 (172-byte RTP), each stream from its own socket, for
--duration s; calls start --rate per second."""

import argparse
import heapq
import json
import random
import socket
import struct
import sys
import time

PTIME = 0.020
SAMPLES = 160


class Stream:
    __slots__ = ("role", "sock", "dest", "seq", "ts", "ssrc", "packets", "errors",
                 "late_max", "late_buckets", "due", "left", "pt")

    def __init__(self, role, dest, start, duration, pt):
        self.role = role
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        host, port = dest.rsplit(":", 1)
        self.dest = (host, int(port))
        self.seq = random.randrange(1 << 16)
        self.ts = random.randrange(1 << 32)
        self.ssrc = random.randrange(1 << 32)
        self.packets = self.errors = 0
        self.late_max = 0.0
        self.late_buckets = {}  # 0.1 ms buckets
        self.due = start
        self.left = round(duration / PTIME)  # packets still to send
        self.pt = pt

    def p99(self) -> float:
        total = sum(self.late_buckets.values())
        seen = 0
        for bucket in sorted(self.late_buckets):
            seen += self.late_buckets[bucket]
            if seen >= 0.99 * total:
                return bucket / 10
        return 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rtp-only", required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--codec", choices=["PCMU", "PCMA"], default="PCMU")
    p.add_argument("--customer-wav")
    p.add_argument("--agent-wav")
    p.add_argument("--json", action="store_true")
    p.add_argument("--realtime", action="store_true")
    p.add_argument("--send-batch")
    a = p.parse_args()
    pt = 0 if a.codec == "PCMU" else 8
    payload = bytes([0xFF if pt == 0 else 0xD5]) * SAMPLES
    calls = []
    now = time.monotonic()
    with open(a.rtp_only) as f:
        for i, line in enumerate(l.split() for l in f if l.strip()):
            name, customer, agent = line[:3]
            start = now + 0.05 + i / a.rate
            calls.append((name, [Stream("customer", customer, start, a.duration, pt),
                                 Stream("agent", agent, start, a.duration, pt)]))
    heap = [(st.due, n, k) for n, (_, streams) in enumerate(calls)
            for k, st in enumerate(streams)]
    heapq.heapify(heap)
    header = struct.Struct("!BBHII")
    began = time.monotonic()
    while heap:
        due, n, k = heap[0]
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
            continue
        st = calls[n][1][k]
        try:
            st.sock.sendto(header.pack(0x80, st.pt, st.seq, st.ts, st.ssrc) + payload, st.dest)
            st.packets += 1
        except OSError:
            st.errors += 1
        late = (now - due) * 1000
        st.late_max = max(st.late_max, late)
        b = int(late * 10)
        st.late_buckets[b] = st.late_buckets.get(b, 0) + 1
        st.seq = (st.seq + 1) & 0xFFFF
        st.ts = (st.ts + SAMPLES) & 0xFFFFFFFF
        st.due = due + PTIME
        st.left -= 1
        if st.left > 0:
            heapq.heapreplace(heap, (st.due, n, k))
        else:
            heapq.heappop(heap)
    elapsed = time.monotonic() - began
    sessions = []
    all_late = {}
    for name, streams in calls:
        rows = []
        for st in streams:
            for bucket, count in st.late_buckets.items():
                all_late[bucket] = all_late.get(bucket, 0) + count
            rows.append({"role": st.role, "label": st.role,
                         "local_port": st.sock.getsockname()[1],
                         "destination": f"{st.dest[0]}:{st.dest[1]}", "packets": st.packets,
                         "events": 0, "bytes": st.packets * (12 + SAMPLES),
                         "send_errors": st.errors, "lateness_max_ms": round(st.late_max, 3),
                         "lateness_p99_ms": st.p99()})
            st.sock.close()
        sessions.append({"call": name, "call_id": name, "contact_id": name, "streams": rows,
                         "ok": True})
    total = sum(all_late.values())
    seen, p99 = 0, 0.0
    for bucket in sorted(all_late):
        seen += all_late[bucket]
        if seen >= 0.99 * total:
            p99 = bucket / 10
            break
    report = {"sessions": sessions, "failed_sessions": 0, "packets": total,
              "elapsed_seconds": elapsed,
              "lateness_max_ms": max((s["lateness_max_ms"] for c in sessions
                                      for s in c["streams"]), default=0.0),
              "lateness_p99_ms": p99}
    if a.json:
        json.dump(report, sys.stdout)
    else:
        print(f"{len(sessions)} calls, {total} packets in {elapsed:.3f} s; lateness p99 "
              f"{p99:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
