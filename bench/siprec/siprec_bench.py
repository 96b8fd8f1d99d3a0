#!/usr/bin/env python3
"""bench/siprec: SIPREC sessions set up per second, and concurrent SIPREC calls
recorded with zero loss, each compared with a peer measured in the same run.

    make bench-siprec                                               # ~5 minutes
    python3 bench/siprec/siprec_bench.py --build-dir build --quick  # ~1 minute

Part 1 (setup_rate.py): SIPp places sessions at increasing rates against a SIPp
UAS (the peer), callrec-server and callrec-server --auto-record ALL; then
callrec-callgen as a second client. Part 2 (concurrent_calls.py): callgen places
N overlapping calls with both streams; every recording's counters are compared
with what callgen sent; the peer is the same load sent to a plain UDP sink.

Prints figures and never asserts a timing. Exit status 1 only when something is
wrong (a process that did not start or stop cleanly); slowness or loss is a
finding, printed.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import concurrent_calls
import setup_rate
from processes import HOST, finish_run, fsync_probe, server_binaries, stop_all

REPO = Path(__file__).resolve().parent.parent.parent


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.environ.get("CALLREC_BUILD_DIR", str(REPO / "build")),
                   help="holds src/callrec-server and src/callrec-callgen (default: build)")
    p.add_argument("--sipp", default=shutil.which("sipp") or "sipp")
    p.add_argument("--quick", action="store_true", help="a ~1 minute run")
    p.add_argument("--only", choices=["setup", "concurrent"], help="run one part")
    p.add_argument("--rates", help="part 1: SIPp offered rates, calls/s, comma-separated")
    p.add_argument("--step-seconds", type=float, help="part 1: load window per rate")
    p.add_argument("--drain-seconds", type=float,
                   help="part 1: how long to watch recordings being finalised after a step")
    p.add_argument("--callgen-rate", type=float, help="part 1: callgen's rate, sessions/s")
    p.add_argument("--counts", help="part 2: concurrent calls, comma-separated")
    p.add_argument("--duration", type=float, help="part 2: call length, seconds")
    p.add_argument("--dtmf-cost", action="store_true",
                   help="part 2: each N also with --dtmf-policy record (the DTMF detector off), "
                        "alternating with mask")
    p.add_argument("--dtmf-rounds", type=int, default=3,
                   help="--dtmf-cost: runs of each policy per N")
    p.add_argument("--receive-cost", action="store_true",
                   help="part 2: each N also with --media-receive asio (a read per datagram), "
                        "alternating with io_uring (the default)")
    p.add_argument("--receive-rounds", type=int, default=3,
                   help="--receive-cost: runs of each receive path per N")
    p.add_argument("--s3", action="store_true",
                   help="part 2: each N also with --recordings-store s3:// against a real Ceph "
                        "RGW (started here), after a wave of calls whose recordings upload "
                        "while the measured ones record")
    p.add_argument("--rtp-ports", default="20000-29999", help="callrec-server's RTP range")
    p.add_argument("--temp-dir", help="parent of the run's data (default: the system's)")
    p.add_argument("--keep", action="store_true", help="keep the run's data and logs")
    a = p.parse_args()
    quick = a.quick
    a.rates = [float(r) for r in (a.rates or ("2000" if quick else "1000,2000,4000,8000")
                                  ).split(",")]
    a.step_seconds = a.step_seconds or (3.0 if quick else 5.0)
    a.drain_seconds = a.drain_seconds if a.drain_seconds is not None else (3.0 if quick else 6.0)
    a.callgen_rate = a.callgen_rate or 1000.0
    a.callgen_seconds = 1.5 if quick else 3.0
    a.counts = [int(n) for n in (a.counts or ("100" if quick else "100,200,400,800,1200")).split(",")]
    a.duration = a.duration or (6.0 if quick else 12.0)
    a.rtp_range = tuple(int(x) for x in a.rtp_ports.split("-"))
    a.part2_server_share = {}
    a.s3_args = []
    return a


def start_rgw(args):
    """--s3: a one-node Ceph RGW (tests/interop/ceph_rgw.py) and a bucket."""
    sys.path.insert(0, str(REPO / "tests" / "interop"))
    import ceph_rgw  # noqa: E402
    cluster = ceph_rgw.CephRgw().start()
    bucket = f"bench-siprec-{os.getpid()}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID=cluster.access_key,
               AWS_SECRET_ACCESS_KEY=cluster.secret_key, AWS_DEFAULT_REGION="us-east-1",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    subprocess.run(["aws", "--endpoint-url", cluster.endpoint, "s3api", "create-bucket",
                    "--bucket", bucket], check=True, env=env, stdout=subprocess.DEVNULL)
    args.s3_args = ["--recordings-store", f"s3://{bucket}/bench", "--s3-endpoint",
                    cluster.endpoint, "--s3-path-style", "--s3-access-key",
                    f"{cluster.access_key}:{cluster.secret_key}"]
    print(f"Ceph RGW (memstore, one OSD) on {cluster.endpoint}, started in "
          f"{cluster.started_seconds:.1f} s; bucket {bucket}", flush=True)
    return cluster


def print_context(args, work: Path) -> None:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    fs = max((m for m in mounts if str(work).startswith(m[1])), key=lambda m: len(m[1]))
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    sipp = subprocess.run([args.sipp, "-v"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} CPUs, load average {load} before the run (shared: other "
          f"work runs beside this), {platform.system()} {platform.release()}")
    print(f"data: {work} on {fs[2]} ({fs[0]}); repo HEAD {head}; {sipp.splitlines()[0]}")
    fsync_p50, fsync_max = fsync_probe(work)
    print(f"disk under the data: 4 KiB write + fdatasync p50 {fsync_p50:.2f} ms, max "
          f"{fsync_max:.2f} ms (40 writes)")
    print(f"binaries: {args.build_dir}/src; everything on {HOST}\n", flush=True)


def main() -> int:
    args = parse_args()
    binaries = server_binaries(args.build_dir)
    if binaries is None:
        return 1
    server_bin, callgen_bin = binaries
    if not shutil.which(args.sipp):
        print("sipp is not installed (Debian package sip-tester)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="callrec-bench-siprec-", dir=args.temp_dir))
    started = time.monotonic()
    ok = True
    cluster = None
    try:
        print_context(args, work)
        if args.only in (None, "setup"):
            ok &= setup_rate.run(args, work, server_bin, callgen_bin)
        if args.only in (None, "concurrent"):
            if args.s3:
                cluster = start_rgw(args)
            ok &= concurrent_calls.run(args, work, server_bin, callgen_bin)
    finally:
        stop_all()
        if cluster is not None:
            cluster.stop()
        finish_run(work, args.keep, started)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
