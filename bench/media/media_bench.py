#!/usr/bin/env python3
"""bench/media: callrec-server against sipwise rtpengine (Debian's
rtpengine-daemon, userspace, recording to pcap), each recording N calls of two
20 ms G.711 streams under the same generator.

    make bench-media                                         # N = 500 ... 5,000, 30 s
    python3 bench/media/media_bench.py --quick               # small N, short calls
    python3 bench/media/media_bench.py --counts 500,1000 --duration 30

Per system and N: packets sent / recorded / lost / late, server CPU (cores, and
per 1,000 streams), RSS per call, disk bytes/s, and callrec's CPU per 1,000
streams over rtpengine's. Prints figures and never asserts a timing; exits 1
only when something is broken (a process that did not start, an ng error).
"""

import argparse
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "bench" / "siprec"))  # processes, recordings, concurrent_calls

import callrec_side  # noqa: E402
import rtpengine_side  # noqa: E402
from generator import Generator  # noqa: E402
from ng import NgError  # noqa: E402
from processes import (finish_run, fsync_probe, server_binaries, stop_all,  # noqa: E402
                       udp_ports_in_use)
from report import print_result, print_summary  # noqa: E402
from result import load_average  # noqa: E402


FILES_PER_RTPENGINE_CALL = 6


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.environ.get("CALLREC_BUILD_DIR", str(REPO / "build")))
    p.add_argument("--rtpengine", default=shutil.which("rtpengine") or "/usr/bin/rtpengine")
    p.add_argument("--counts", help="calls, comma-separated (default 500,1000,2500,5000)")
    p.add_argument("--duration", type=float, help="seconds each call sends (default 30)")
    p.add_argument("--quick", action="store_true", help="a smoke run: N = 50,100 for 8 s")
    p.add_argument("--threads", default="1,2", help="rtpengine --num-threads, comma-separated")
    p.add_argument("--only", choices=["callrec", "rtpengine"], help="one system")
    p.add_argument("--rtp-ports", default="10000-30999",
                   help="RTP range of both servers (one runs at a time): callrec takes 4 per "
                        "call (two even ports, each with the odd one), rtpengine 4 (RTP+RTCP "
                        "per side)")
    p.add_argument("--send-batch", help="passed to callgen --rtp-only when it has --send-batch")
    p.add_argument("--temp-dir", help="parent of the run's data (default: the system's)")
    p.add_argument("--keep", action="store_true", help="keep the run's data, pcaps and logs")
    a = p.parse_args()
    a.counts = [int(x) for x in (a.counts or ("50,100" if a.quick else
                                              "500,1000,2500,5000")).split(",")]
    a.duration = a.duration or (8.0 if a.quick else 30.0)
    a.threads = [int(x) for x in a.threads.split(",")]
    low, high = (int(x) for x in a.rtp_ports.split("-"))
    a.callrec_range = a.rtpengine_range = (low, high)
    return a


def raise_open_files(n_max: int) -> str:
    """5,000 calls are 10,000 sockets in the generator and as many in each server."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(FILES_PER_RTPENGINE_CALL * n_max + 4096, soft)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            want = hard
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return f"open files: {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} (soft, inherited)"


def print_context(args, work: Path, generator: Generator) -> None:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    version = subprocess.run([args.rtpengine, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True).stdout.strip()
    version = version.removeprefix("Version: ") or "?"
    low, high = args.callrec_range
    taken = sum(1 for p in udp_ports_in_use() if low <= p <= high)
    print(f"machine: {os.cpu_count()} CPUs, load average {load_average()} (shared: other work "
          f"runs beside this), {platform.system()} {platform.release()}")
    print(f"repo HEAD {head}; binaries {args.build_dir}/src; rtpengine {version}")
    print(f"generator: {generator.name}" + (f", --send-batch {args.send_batch}"
                                            if args.send_batch and generator.batch else ""))
    print(f"calls: {', '.join(str(n) for n in args.counts)}; {args.duration:g} s each, 2 streams "
          f"x 50 packets/s of 172-byte PCMU, started within 2 s; RTP ports {low}-{high} "
          f"({taken} already bound by others)")
    print(f"data: {work}; {raise_open_files(max(args.counts))}")
    print("CPU: share of one core in the steady window (all calls up); 'other': every other "
          "process of the machine then\n", flush=True)


def _interrupted(*_):
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: every process started is stopped


def main() -> int:
    args = parse_args()
    binaries = server_binaries(args.build_dir)
    if binaries is None:
        return 1
    server_bin, callgen_bin = binaries
    if args.only != "callrec" and not os.access(args.rtpengine, os.X_OK):
        print("rtpengine is not installed: bash bench/media/install.sh")
        return 1
    signal.signal(signal.SIGTERM, _interrupted)
    generator = Generator(callgen_bin, args.send_batch)
    work = Path(tempfile.mkdtemp(prefix="callrec-bench-media-", dir=args.temp_dir))
    started = time.monotonic()
    results = []
    ok = True
    try:
        print_context(args, work, generator)
        for n in args.counts:
            runs = [] if args.only == "rtpengine" else [("callrec", lambda: callrec_side.run(
                args, work, server_bin, callgen_bin, n))]
            files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            if args.only != "callrec" and FILES_PER_RTPENGINE_CALL * n + 1000 > files:
                # not broken: the limit of this machine, said as such
                print(f"-- rtpengine, N={n}: not run: it takes about "
                      f"{FILES_PER_RTPENGINE_CALL} open files a call (4 sockets, the pcap, "
                      f"...: at 20,000 it stopped at 3,333 calls, 'Too many open files'), "
                      f"and the limit here is {files}, the hard limit\n",
                      flush=True)
            elif args.only != "callrec":
                runs += [(f"rtpengine {t} thread(s)", lambda t=t: rtpengine_side.run(
                    args, work, generator, n, t)) for t in args.threads]
            for label, run in runs:
                load, disk = load_average(), fsync_probe(work)
                try:
                    r = run()
                except (RuntimeError, NgError, OSError) as e:
                    # broken, not slow: said, and the exit status says it, but the
                    # other systems still run
                    print(f"-- {label}, N={n} (before: load average {load}): BROKEN: {e}\n",
                          flush=True)
                    stop_all()
                    ok = False
                    continue
                r.load_before, r.fsync_before = load, disk
                results.append(r)
                print_result(r)
        print_summary(results, generator.name)
    except (RuntimeError, NgError, OSError) as e:
        print(f"BROKEN: {e}")
        ok = False
    except KeyboardInterrupt:
        print("interrupted")
        ok = False
    finally:
        stop_all()
        finish_run(work, args.keep, started)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
