#!/usr/bin/env python3
"""The control API on one node with SQLite, on one node with PostgreSQL and on
two nodes sharing PostgreSQL, in one run: build/bench/control_api_bench three
times with the same options, the second with --store on a fresh database of a
PostgreSQL 15 started for the run (tests/interop/postgres.py: loopback, unix
socket, fsync on), the third with --nodes 2 on another fresh database (every
contact owned by node b, half the connections sending to node a, which
forwards to b). Prints the reports and the comparison with the targets
(PostgreSQL >= 1/2 of SQLite's ops/s, at p99 <= 5 ms; forwarding adds <= 2 ms
at p99). Exits non-zero only if a bench run failed, never because of the
figures.

    python3 bench/pg/store_bench.py --build-dir build [-- control_api_bench options]
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "interop"))
import postgres  # noqa: E402

FORWARDING = re.compile(r"^forwarding adds: p50 (\S+) ms, p99 (\S+) ms", re.M)
ROW = re.compile(r"^PAUSE/RESUME \(SigV4\)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)",
                 re.M)


def run(bench, extra, store=None):
    args = [bench] + extra + (["--store", store] if store else [])
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = proc.stdout.decode("utf-8", "replace")
    print(text)
    rows = ROW.findall(text)
    if proc.returncode != 0 or not rows:
        raise SystemExit("control_api_bench failed (%d)" % proc.returncode)
    # The last round's row: ops/s, p50, p90, p99, max, errors.
    ops, p50, _, p99, _, errors = rows[-1]
    forwarding = FORWARDING.findall(text)
    added = float(forwarding[-1][1]) if forwarding else None
    return float(ops), float(p50), float(p99), int(errors), added


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("bench_args", nargs="*", help="passed to control_api_bench")
    options = parser.parse_args()
    bench = os.path.join(options.build_dir, "bench", "control_api_bench")
    cluster = postgres.Postgres()
    try:
        cluster.start()
        db = cluster.create_database("bench")
        print("== SQLite (the data directory) ==")
        sqlite = run(bench, options.bench_args)
        print("== PostgreSQL 15 (%s, started in %.1f s) ==" % (cluster.uri(db),
                                                              cluster.started_seconds))
        pg = run(bench, options.bench_args, cluster.uri(db))
        print("== two nodes on PostgreSQL 15, half the operations forwarded ==")
        two = run(bench, options.bench_args + ["--nodes", "2"],
                  cluster.uri(cluster.create_database("bench2")))
    finally:
        cluster.destroy()
    print("%-22s %10s %8s %8s" % ("store", "ops/s", "p50 ms", "p99 ms"))
    for name, (ops, p50, p99, _, _) in (("sqlite", sqlite), ("postgresql", pg),
                                        ("postgresql, 2 nodes", two)):
        print("%-22s %10.0f %8.3f %8.3f" % (name, ops, p50, p99))
    ratio = pg[0] / max(sqlite[0], 1e-9)
    met = ratio >= 0.5 and pg[2] <= 5.0
    print("postgresql/sqlite ops/s %.2fx, p99 %.3f ms: target (>= 0.5x at p99 <= 5 ms) %s"
          % (ratio, pg[2], "met" if met else "NOT met"))
    if two[4] is not None:
        print("two nodes/one node ops/s %.2fx; forwarding adds %.3f ms at p99: target "
              "(<= 2 ms) %s" % (two[0] / max(pg[0], 1e-9), two[4],
                                "met" if two[4] <= 2.0 else "NOT met"))


if __name__ == "__main__":
    main()
