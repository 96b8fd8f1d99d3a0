"""SIPp on both sides of the setup-rate runs, and what its files say.

The client (setup_uac.xml) runs for a fixed load window, then gets SIGUSR1: SIPp
stops placing calls, lets the running ones end and exits, so no call is cut
short by the benchmark. Its statistics come from -trace_stat (the last line is
the cumulative total) and -trace_rtt (every response time, in whole
milliseconds: SIPp's clock ticks in milliseconds, so 0 means "under 1 ms").
"""

import csv
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from processes import HOST, Child, free_port

HERE = Path(__file__).resolve().parent
UAC_SCENARIO = HERE / "setup_uac.xml"
PEER_SCENARIO = HERE / "peer_uas.xml"


def percentile(sorted_values, q: float):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(q * 1000) * len(sorted_values) // 1000))  # ceil(q * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class SetupRun:
    offered_rate: float  # -r
    limit: int  # -l
    window_seconds: float  # load window (before SIGUSR1)
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    timeouts: int = 0
    completed_in_window: int = 0
    invite_ms: list = field(default_factory=list)
    bye_ms: list = field(default_factory=list)
    client_cpu_seconds: float = 0.0
    returncode: int = 0
    failure_detail: str = ""

    @property
    def completed_per_second(self) -> float:
        return self.completed_in_window / self.window_seconds

    def invite_percentiles(self):
        return [percentile(self.invite_ms, q) for q in (0.5, 0.9, 0.99, 1.0)]

    def bye_percentiles(self):
        return [percentile(self.bye_ms, q) for q in (0.5, 0.9, 0.99, 1.0)]


def start_peer_uas(sipp: str, workdir: Path, rtp_ports: tuple[int, int], name: str):
    """SIPp as the stand-in recorder; returns (child, SIP port)."""
    port = free_port((2,))  # SOCK_DGRAM: SIPp listens on UDP here
    child = Child([sipp, "-sf", PEER_SCENARIO, "-i", HOST, "-p", port,
                   "-key", "cport", rtp_ports[0], "-key", "aport", rtp_ports[1],
                   "-nostdin", "-max_recv_loops", 10000],
                  workdir / f"{name}.log", cwd=workdir)
    time.sleep(0.3)
    if child.process.poll() is not None:
        raise RuntimeError(f"SIPp peer exited at start:\n{child.tail()}")
    return child, port


def stop_peer_uas(child: Child) -> None:
    child.signal(signal.SIGUSR1)  # soft quit: finish running calls
    finished = child.wait(10)
    if finished.returncode not in (0, 1, -signal.SIGKILL):
        print(f"  (SIPp peer exited with {finished.returncode})")


def run_setup(sipp: str, workdir: Path, target_port: int, rate: float, limit: int,
              seconds: float, name: str) -> SetupRun:
    """One load step: SIPp places calls at `rate` (at most `limit` at once) for `seconds`."""
    run_dir = workdir / f"{name}-sipp"
    run_dir.mkdir()
    stat_file = run_dir / "stat.csv"
    child = Child([sipp, "-sf", UAC_SCENARIO, "-s", "recorder", "-i", HOST,
                   "-p", free_port((2,)), "-r", rate, "-l", limit, "-d", 0,
                   "-recv_timeout", "5s", "-max_recv_loops", 10000, "-max_sched_loops", 10000,
                   "-nostdin", "-trace_stat", "-stf", stat_file, "-fd", 3600,
                   "-trace_rtt", "-rtt_freq", 1, "-trace_err",
                   f"{HOST}:{target_port}"],
                  run_dir / "sipp.log", cwd=run_dir)
    time.sleep(seconds)
    child.signal(signal.SIGUSR1)
    finished = child.wait(30)
    run = SetupRun(rate, limit, seconds, client_cpu_seconds=finished.cpu_seconds,
                   returncode=finished.returncode)
    _read_stats(run, stat_file)
    _read_rtts(run, run_dir, seconds)
    if run.failed or finished.returncode not in (0, 1):
        errors = sorted(run_dir.glob("*_errors.log"))
        if errors:
            lines = errors[0].read_text(errors="replace").splitlines()
            run.failure_detail = "\n".join(lines[:4])
    return run


def _read_stats(run: SetupRun, stat_file: Path) -> None:
    try:
        rows = list(csv.reader(stat_file.open(newline=""), delimiter=";"))
    except OSError:
        return
    if len(rows) < 2:
        return
    last = dict(zip(rows[0], rows[-1]))

    def number(key: str) -> int:
        try:
            return int(float(last.get(key, "0") or 0))
        except ValueError:
            return 0

    run.successful = number("SuccessfulCall(C)")
    run.failed = number("FailedCall(C)")
    run.retransmissions = number("Retransmissions(C)")
    run.timeouts = number("FailedTimeoutOnRecv(C)") + number("FailedMaxUDPRetrans(C)")


def _read_rtts(run: SetupRun, run_dir: Path, seconds: float) -> None:
    files = sorted(run_dir.glob("*_rtt.csv"))
    if not files:
        return
    window_ms = seconds * 1000
    for line in files[0].read_text().splitlines()[1:]:
        parts = line.split(";")
        if len(parts) != 3:
            continue
        at_ms, value, which = float(parts[0]), int(float(parts[1])), parts[2]
        if which == "invite":
            run.invite_ms.append(value)
        elif which == "bye":
            run.bye_ms.append(value)
            if at_ms <= window_ms:
                run.completed_in_window += 1
    run.invite_ms.sort()
    run.bye_ms.sort()
