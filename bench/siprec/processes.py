"""The processes bench/siprec runs, and what it reads about them from /proc.

Everything listens on 127.0.0.1. Every process started here is stopped here, by
its own pid; rusage of a child comes from wait4, so a client's CPU time is known
even after it has exited.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port(kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)) -> int:
    """A port that is free for every kind of socket given (SIP takes UDP and TCP)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, kinds[0]) as first:
            first.bind((HOST, 0))
            port = first.getsockname()[1]
            try:
                for kind in kinds[1:]:
                    with socket.socket(socket.AF_INET, kind) as other:
                        other.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def udp_ports_in_use() -> set[int]:
    """Local UDP ports bound on this machine (IPv4 and IPv6), from /proc/net."""
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local = line.split()[1]
            ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def finish_run(work: Path, keep: bool, started: float) -> None:
    """The end of a bench run: its total time, and its data removed unless kept."""
    print(f"total {time.monotonic() - started:.0f} s" + (f"; kept {work}" if keep else ""))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


def server_binaries(build_dir: str) -> tuple[Path, Path] | None:
    """callrec-server and callrec-callgen of a build; None (said why) when missing."""
    build = Path(build_dir).resolve()
    server_bin, callgen_bin = build / "src" / "callrec-server", build / "src" / "callrec-callgen"
    for binary in (server_bin, callgen_bin):
        if not os.access(binary, os.X_OK):
            print(f"missing {binary}: cmake --build {build} --target callrec-server "
                  "callrec-callgen")
            return None
    return server_bin, callgen_bin


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_kib(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB


def machine_cpu_seconds() -> float:
    """CPU time every process of the machine used (user+nice+system+irq+softirq+steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7))
    return busy / CLOCK_TICKS


@dataclass
class Finished:
    returncode: int
    cpu_seconds: float  # user + system, from wait4
    max_rss_kib: int
    wall_seconds: float


class Child:
    """One child process, its output in a log file, reaped with wait4."""

    live: list["Child"] = []  # started and not yet reaped, for stop_all()

    def __init__(self, argv, log_path: Path, cwd=None, stdout_path: Path | None = None):
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.started = time.monotonic()
        self._log = open(log_path, "wb")
        self._out = open(stdout_path, "wb") if stdout_path else self._log
        self.process = subprocess.Popen(self.argv, stdout=self._out, stderr=self._log,
                                        stdin=subprocess.DEVNULL, cwd=cwd)
        self.pid = self.process.pid
        self.finished: Finished | None = None
        Child.live.append(self)

    def signal(self, signum) -> None:
        if self.finished is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> Finished:
        """Reaps the child; SIGKILL if it has not exited after timeout seconds."""
        if self.finished:
            return self.finished
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(self.pid, 0)
                break
            time.sleep(0.02)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self._log.close()
        if self._out is not self._log:
            self._out.close()
        self.finished = Finished(self.process.returncode, usage.ru_utime + usage.ru_stime,
                                 usage.ru_maxrss, time.monotonic() - self.started)
        Child.live.remove(self)
        return self.finished

    def stop(self, timeout: float = 15.0) -> Finished:
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        # The server's banner shows the generated secret key: not for the console.
        kept = [line for line in text if "SECRET" not in line]
        return "\n".join(kept[-lines:])


def stop_all() -> None:
    """Stops every child still running (after an error), each by its own pid."""
    for child in list(Child.live):
        child.stop(timeout=10)


class CallrecServer(Child):
    """callrec-server on loopback with a fresh data directory."""

    ADMIN_TOKEN = "benchtoken"

    def __init__(self, binary: Path, data_dir: Path, rtp_ports: tuple[int, int],
                 auto_record: bool, name: str, extra: tuple = ()):
        data_dir.mkdir(parents=True)
        self.data_dir = data_dir
        self.auto_record = auto_record
        self.http_port = free_port((socket.SOCK_STREAM,))
        self.sip_port = free_port()
        argv = [binary, "--data-dir", data_dir, "--listen", f"{HOST}:{self.http_port}",
                "--sip-listen", f"{HOST}:{self.sip_port}",
                "--rtp-ports", f"{rtp_ports[0]}-{rtp_ports[1]}",
                "--admin-token", self.ADMIN_TOKEN, "--log-level", "warn",
                "--drain-timeout", "0",  # stop() stops now, calls up or not
                # every call comes from callgen's one address: its default limit
                # (500 dialogs per source) would refuse the rest with 503
                "--max-sip-sessions-per-source", "0"]
        if auto_record:
            argv += ["--auto-record", "ALL"]
        argv += list(extra)
        super().__init__(argv, data_dir.parent / f"{name}.log")
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"callrec-server exited at start:\n{self.tail()}")
            try:
                self.get("/healthz")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        raise RuntimeError(f"callrec-server did not answer /healthz:\n{self.tail()}")

    def get(self, path: str, auth: bool = False) -> bytes:
        request = urllib.request.Request(f"http://{HOST}:{self.http_port}{path}")
        if auth:
            request.add_header("Authorization", f"Bearer {self.ADMIN_TOKEN}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.read()

    def metrics(self) -> dict[str, float]:
        values = {}
        for line in self.get("/metrics").decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def contact(self, contact_id: str) -> dict | None:
        try:
            return json.loads(self.get(f"/v1/contacts/{contact_id}", auth=True))
        except urllib.error.HTTPError:
            return None

    def wait_sessions_ended(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metrics().get("callrec_siprec_sessions", 1) == 0:
                return True
            time.sleep(0.1)
        return False


def udp_receive_buffer_errors() -> int:
    """Datagrams the kernel dropped because a socket's receive buffer was full
    (machine-wide: /proc/net/snmp Udp RcvbufErrors). A delta over a run says
    whether anything on the machine overflowed, not whose socket it was."""
    lines = [l.split() for l in Path("/proc/net/snmp").read_text().splitlines()
             if l.startswith("Udp:")]
    header, values = lines[0], lines[1]
    return int(values[header.index("RcvbufErrors")])


def two_free_udp_ports() -> tuple[int, int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
        a.bind((HOST, 0))
        b.bind((HOST, 0))
        return a.getsockname()[1], b.getsockname()[1]


def start_sink(work: Path, ports: tuple[int, int], name: str) -> Child:
    """udp_sink.py on two ports; its counts go to <name>.json when it is stopped."""
    ready = work / f"{name}.ready"
    sink = Child([sys.executable, Path(__file__).resolve().parent / "udp_sink.py",
                  "--ports", f"{ports[0]},{ports[1]}", "--out", work / f"{name}.json"],
                 work / f"{name}.log", stdout_path=ready)
    deadline = time.monotonic() + 5
    while not ready.read_text().startswith("ready"):
        if time.monotonic() > deadline or sink.process.poll() is not None:
            raise RuntimeError(f"udp_sink did not start:\n{sink.tail()}")
        time.sleep(0.02)
    sink.result_path = work / f"{name}.json"
    return sink


def fsync_probe(directory: Path, writes: int = 40) -> tuple[float, float]:
    """p50 and max of write(4 KiB) + fdatasync in `directory`, in ms: how fast the
    disk under the recordings makes data durable right now (it is shared)."""
    path = directory / ".fsync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = b"\0" * 4096
        for i in range(writes):
            t = time.perf_counter()
            os.pwrite(fd, block, i * 4096)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[len(times) // 2], times[-1]
