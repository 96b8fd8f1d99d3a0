"""Printing: one block per run as it ends, then the table and the ratios."""

from result import Result


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def print_result(r: Result) -> None:
    print(f"-- {r.system}, N={r.n} (before: load average {r.load_before}, disk 4 KiB write + "
          f"fdatasync p50 {r.fsync_before[0]:.2f} ms, max {r.fsync_before[1]:.2f} ms): "
          f"ZERO LOSS {'yes' if r.zero_loss else 'NO'}")
    print(f"   packets sent {r.sent:,}, recorded {r.recorded:,}, lost {r.lost:,}, late "
          f"{r.late:,}; short {r.short_streams}; files {r.files_found}/{r.files_expected}")
    print(f"   server CPU {r.cpu * 100:.1f}% of a core = {r.cpu_per_1000_streams:.3f} cores per "
          f"1,000 streams; RSS {_mib(r.base_rss_kib)} -> {_mib(r.peak_rss_kib)} = "
          f"{r.rss_per_call_kib:.0f} KiB per call; disk {r.disk_bytes_per_s / 1e6:.2f} MB/s "
          f"({r.disk_bytes / r.n / r.duration:.0f} B/s per call)")
    print(f"   generator CPU {r.generator_cpu * 100:.0f}%, send lateness p99 "
          f"{r.lateness_p99_ms:.2f} ms, max {r.lateness_max_ms:.2f} ms; other "
          f"{r.other_cpu * 100:.0f}%")
    if r.note:
        print(f"   {r.note}")
    print(flush=True)


def print_summary(results: list[Result], generator: str) -> None:
    if not results:
        return
    print("== Summary (CPU: share of one core, steady window; lost = sent - recorded; "
          "late: callrec Counters.Late, rtpengine out of order in its pcap)")
    print(f"   rtpengine's media from {generator}; callrec's from callrec-callgen (SIPREC)\n")
    print("| system | N | load before | sent | recorded | lost | late | zero loss | server CPU "
          "| cores per 1,000 streams | RSS per call | disk MB/s | generator p99 late |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: "
          "| ---: |")
    for r in results:
        print(f"| {r.system} | {r.n:,} | {r.load_before} | {r.sent:,} | {r.recorded:,} | "
              f"{r.lost:,} | {r.late:,} | {'yes' if r.zero_loss else 'no'} | "
              f"{r.cpu * 100:.1f} % | {r.cpu_per_1000_streams:.3f} | "
              f"{r.rss_per_call_kib:.0f} KiB | {r.disk_bytes_per_s / 1e6:.2f} | "
              f"{r.lateness_p99_ms:.1f} ms |")
    print()
    callrec = {r.n: r for r in results if r.system == "callrec"}
    for r in results:
        c = callrec.get(r.n)
        if r.system.startswith("rtpengine") and c and r.cpu_per_1000_streams > 0:
            caveat = "" if c.lost == 0 and r.lost == 0 else \
                " (packets were lost: a server that reads fewer spends less, not comparable)"
            print(f"   N={r.n:,}: callrec / {r.system}, CPU per 1,000 streams "
                  f"{_ratio(c.cpu_per_1000_streams, r.cpu_per_1000_streams)}{caveat}; RSS per "
                  f"call {_ratio(c.rss_per_call_kib, r.rss_per_call_kib)}; disk bytes/s "
                  f"{_ratio(c.disk_bytes_per_s, r.disk_bytes_per_s)}")
    systems = list(dict.fromkeys(r.system for r in results))
    for s in systems:
        clean = [r.n for r in results if r.system == s and r.zero_loss]
        print(f"   largest N with zero loss, {s}: {max(clean):,}" if clean else
              f"   largest N with zero loss, {s}: none of those run")
    print(flush=True)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"
