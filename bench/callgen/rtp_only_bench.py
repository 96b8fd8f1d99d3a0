#!/usr/bin/env python3
"""What callrec-callgen costs to send N calls' RTP (--rtp-only), batched or not.

For each call count and each --send-batch mode: a sink binds real UDP sockets
on 127.0.0.1 that never read (tiny receive buffers: the kernel drops, no ICMP),
callgen sends every call's two streams to them for --duration seconds, and
the figures are callgen's CPU (user + sys from wait4), its send lateness
(max, p99) and whether every packet left. Prints figures, asserts no timing;
exits 1 only when callgen fails or a stream is short.
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Sink:
    """`ports` bound UDP sockets that never read; streams share them round-robin."""

    def __init__(self, ports):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.sockets = []
        for _ in range(ports):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.bind(("127.0.0.1", 0))
            self.sockets.append(s)
        self.ports = [s.getsockname()[1] for s in self.sockets]

    def write_calls(self, path, calls):
        with open(path, "w") as f:
            f.write("# NAME CUSTOMER_DEST AGENT_DEST\n")
            for i in range(calls):
                a = self.ports[(2 * i) % len(self.ports)]
                b = self.ports[(2 * i + 1) % len(self.ports)]
                f.write(f"bench-{i + 1} 127.0.0.1:{a} 127.0.0.1:{b}\n")

    def close(self):
        for s in self.sockets:
            s.close()


def run(callgen, calls_file, calls, mode, duration, rate, realtime):
    args = [callgen, "--rtp-only", calls_file, "--duration", str(duration), "--rate", str(rate),
            "--local-ip", "127.0.0.1", "--send-batch", mode, "--json"]
    if realtime:
        args.append("--realtime")
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        print(f"callgen exited {process.returncode}: {stderr.strip()[-2000:]}", file=sys.stderr)
    report = json.loads(stdout) if stdout.strip() else {}
    return {
        "calls": calls, "mode": report.get("send_batch", mode), "exit": process.returncode,
        "cpu": usage.ru_utime + usage.ru_stime, "user": usage.ru_utime, "sys": usage.ru_stime,
        "wall": wall, "packets": report.get("packets", 0),
        "late_max": report.get("lateness_max_ms", 0.0), "late_p99": report.get("lateness_p99_ms", 0.0),
        "failed": report.get("failed_sessions", -1), "warnings": report.get("warnings", []),
        "stderr": stderr.strip(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--counts", default="1000,2500,5000", help="calls at once, comma-separated")
    parser.add_argument("--modes", default="uring,off", help="--send-batch modes compared")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds each call sends")
    parser.add_argument("--rate", type=float, default=1000.0, help="calls started per second")
    parser.add_argument("--sink-ports", type=int, default=1000,
                        help="UDP sockets the streams are spread over (each a real bound socket)")
    parser.add_argument("--realtime", action="store_true", help="callgen --realtime")
    args = parser.parse_args()

    callgen = os.path.join(args.build_dir, "src", "callrec-callgen")
    if not os.access(callgen, os.X_OK):
        sys.exit(f"no {callgen}: build first")
    counts = [int(c) for c in args.counts.split(",")]
    modes = args.modes.split(",")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{args.duration:g} s calls started at {args.rate:g}/s, sink of {args.sink_ports} ports")
    sink = Sink(args.sink_ports)
    wrong = False
    rows = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            for calls in counts:
                calls_file = os.path.join(directory, f"calls-{calls}.txt")
                sink.write_calls(calls_file, calls)
                for mode in modes:
                    row = run(callgen, calls_file, calls, mode, args.duration, args.rate, args.realtime)
                    rows.append(row)
                    expected = calls * 2 * round(args.duration * 50)
                    busy = row["cpu"] / max(row["wall"], 1e-9) * 100
                    print(f"{calls:>6} calls {row['mode']:>5}: {row['packets']:>9} of {expected} packets "
                          f"({expected / args.duration:,.0f}/s), CPU {row['cpu']:6.2f} s "
                          f"(user {row['user']:.2f}, sys {row['sys']:.2f}) = {busy:5.1f} % of a core "
                          f"over {row['wall']:.1f} s, {row['cpu'] * 1e6 / max(row['packets'], 1):.2f} µs "
                          f"a packet; lateness max {row['late_max']:.2f} ms, p99 {row['late_p99']:.2f} ms"
                          + (f"; {row['failed']} sessions short" if row["failed"] else ""), flush=True)
                    for warning in row["warnings"]:
                        print(f"       warning: {warning}")
                    if row["exit"] not in (0, 1) or row["packets"] == 0:
                        wrong = True
                    if row["failed"]:
                        wrong = True
    finally:
        sink.close()
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
