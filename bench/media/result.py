"""One system at one N: what was sent, recorded, lost, late, and what it cost."""

import os
from dataclasses import dataclass
from pathlib import Path

from recordings import lateness


@dataclass
class Result:
    system: str
    n: int
    duration: float
    sent: int = 0  # packets, the generator's report
    recorded: int = 0  # packets in the recordings (callrec: Counters.Packets; rtpengine: pcap)
    lost: int = 0  # sent - recorded
    late: int = 0  # callrec: Counters.Late (not in the file: part of lost); rtpengine: out
    # of order in the pcap (in the file all the same: not a loss)
    short_streams: int = 0  # streams (rtpengine), contacts (callrec) short of what was sent
    files_expected: int = 0
    files_found: int = 0
    zero_loss: bool = False
    cpu: float = 0.0  # server, share of one core in the steady window
    generator_cpu: float = 0.0
    other_cpu: float = 0.0  # every other process of the machine
    base_rss_kib: int = 0
    peak_rss_kib: int = 0
    disk_bytes: int = 0  # bytes of the files the server wrote
    lateness_p99_ms: float = 0.0  # the generator's send lateness
    lateness_max_ms: float = 0.0
    load_before: str = ""
    fsync_before: tuple[float, float] = (0.0, 0.0)  # 4 KiB write + fdatasync p50, max (ms)
    note: str = ""
    extra: str = ""

    @property
    def streams(self) -> int:
        return 2 * self.n

    @property
    def cpu_per_1000_streams(self) -> float:
        return self.cpu / self.streams * 1000

    @property
    def rss_per_call_kib(self) -> float:
        return (self.peak_rss_kib - self.base_rss_kib) / self.n

    @property
    def disk_bytes_per_s(self) -> float:
        return self.disk_bytes / self.duration

    def fill_load(self, sampler, base_rss_kib: int, report: dict | None = None) -> None:
        self.cpu = sampler.core_share("server")
        self.generator_cpu = sampler.core_share("generator") if "generator" in sampler.pids \
            else sampler.core_share("callgen")
        self.other_cpu = sampler.other_share()
        self.base_rss_kib = base_rss_kib
        self.peak_rss_kib = sampler.peak_rss["server"]
        if report is not None:
            self.lateness_p99_ms, self.lateness_max_ms, _ = lateness(report)

    def finish(self, also: bool = True) -> None:
        """also: the system's own conditions (callrec: every recording complete,
        nothing dropped by storage)."""
        self.lost = self.sent - self.recorded
        self.zero_loss = (self.sent > 0 and self.lost == 0
                          and self.files_found == self.files_expected
                          and self.short_streams == 0 and also)


def disk_bytes(directory: Path) -> int:
    total = 0
    for root, _, files in os.walk(directory):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
