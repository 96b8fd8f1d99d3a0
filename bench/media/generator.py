"""The RTP-only generator both systems' media comes from: `callrec-callgen
--rtp-only` when the build's callgen has that mode, else rtp_sender.py (the
same command line and report, in Python: small N only)."""

import json
import subprocess
import sys
import time
from pathlib import Path

from concurrent_calls import RAMP_SECONDS, LoadSampler
from processes import Child


class Generator:
    def __init__(self, callgen: Path, send_batch: str | None):
        help_text = subprocess.run([str(callgen), "--help"], capture_output=True,
                                   text=True).stdout
        self.native = "--rtp-only" in help_text
        self.argv = [str(callgen)] if self.native else \
            [sys.executable, str(Path(__file__).resolve().parent / "rtp_sender.py")]
        if send_batch and "--send-batch" in help_text:
            self.argv += ["--send-batch", send_batch]
        self.name = ("callrec-callgen --rtp-only" if self.native
                     else "bench/media/rtp_sender.py (Python stand-in for callgen --rtp-only)")
        self.batch = "--send-batch" in help_text

    def run(self, plan: Path, n: int, duration: float, work: Path, name: str,
            pids: dict[str, int]):
        """Sends the calls of `plan`; samples CPU and RSS in the steady window
        (every call up: from the end of the ramp + 1 s to 0.5 s before the first
        stream ends), as bench/siprec's drive() does. Returns (report, sampler)."""
        rate = max(n / RAMP_SECONDS, 10.0)
        ramp = n / rate
        report_path = work / f"{name}.gen.json"
        child = Child(self.argv + ["--rtp-only", plan, "--duration", duration, "--rate", rate,
                                   "--json"], work / f"{name}.gen.log", stdout_path=report_path)
        sampler = LoadSampler({**pids, "generator": child.pid})
        started = time.monotonic()
        while time.monotonic() - started < ramp + 1.0:
            time.sleep(0.05)
        sampler.start()
        while time.monotonic() - started < duration - 0.5:
            sampler.sample_rss()
            time.sleep(0.25)
        sampler.stop()
        finished = child.wait(duration + ramp + 90)
        try:
            return json.loads(report_path.read_text()), sampler
        except (OSError, ValueError):
            raise RuntimeError(f"the generator gave no report (exit {finished.returncode}):\n"
                               f"{child.tail()}")
