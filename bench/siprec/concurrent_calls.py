"""Part 2: N concurrent SIPREC calls recorded with zero loss.

callrec-callgen places N calls (both streams, 20 ms G.711, --duration s, all
started within ~2 s so they overlap) against a fresh callrec-server
--auto-record ALL. Afterwards every recording's counters are compared with what
callgen says it sent; CPU and RSS are sampled in the steady window (every call
up, before the first BYE). The peer: the same callgen load answered by SIPp
(peer_uas.xml) and sent to a plain UDP sink (udp_sink.py, Python: it receives
and counts, nothing else), so the ratio says what recording costs over merely
receiving the packets on this machine.
"""

import json
import os
import statistics
import time
from pathlib import Path

from processes import (HOST, CallrecServer, Child, cpu_seconds, fsync_probe,
                       machine_cpu_seconds, rss_kib, start_sink, two_free_udp_ports,
                       udp_ports_in_use, udp_receive_buffer_errors)
from recordings import lateness, load_metadata, tally, tally_sink
from sipp_runs import start_peer_uas, stop_peer_uas

RAMP_SECONDS = 2.0  # every call started within this
PRELOAD_SECONDS = 10.0  # --s3: the calls whose recordings upload during the measured ones


class LoadSampler:
    """CPU and peak RSS of some processes over the steady part of a run."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.cpu0, self.cpu1 = {}, {}
        self.t0 = self.t1 = self.machine0 = self.machine1 = 0.0
        self.peak_rss = {k: 0 for k in pids}

    def _cpu(self) -> dict[str, float]:
        out = {}
        for k, pid in self.pids.items():
            try:
                out[k] = cpu_seconds(pid)
            except OSError:
                out[k] = 0.0
        return out

    def sample_rss(self) -> None:
        for k, pid in self.pids.items():
            try:
                self.peak_rss[k] = max(self.peak_rss[k], rss_kib(pid))
            except OSError:
                pass

    def start(self) -> None:
        self.cpu0, self.t0, self.machine0 = self._cpu(), time.monotonic(), machine_cpu_seconds()

    def stop(self) -> None:
        self.cpu1, self.t1, self.machine1 = self._cpu(), time.monotonic(), machine_cpu_seconds()

    def core_share(self, key: str) -> float:
        """Share of one core the process used in the window."""
        return (self.cpu1[key] - self.cpu0[key]) / (self.t1 - self.t0)

    def other_share(self) -> float:
        """Share of one core every other process of the machine used in the window."""
        ours = sum(self.cpu1[k] - self.cpu0[k] for k in self.pids)
        return max(0.0, (self.machine1 - self.machine0 - ours) / (self.t1 - self.t0))


def drive(callgen_bin: Path, work: Path, sip_port: int, n: int, duration: float, name: str,
          pids: dict[str, int], gauge=None):
    """Runs callgen; returns (report, sampler, calls up at once per the gauge)."""
    rate = max(n / RAMP_SECONDS, 10.0)
    ramp = n / rate
    report_path = work / f"{name}.json"
    child = Child([callgen_bin, "--target", f"{HOST}:{sip_port}", "--sessions", n, "--rate", rate,
                   "--duration", duration, "--contact-id-prefix", f"{name}-{os.getpid()}",
                   "--json"], work / f"{name}.log", stdout_path=report_path)
    sampler = LoadSampler({**pids, "callgen": child.pid})
    started = time.monotonic()
    steady_from, steady_to = ramp + 1.0, duration - 0.5
    up = None
    while time.monotonic() - started < steady_from:
        time.sleep(0.05)
    sampler.start()
    while time.monotonic() - started < steady_to:
        sampler.sample_rss()
        if gauge and up is None:
            up = gauge()
        time.sleep(0.25)
    sampler.stop()
    finished = child.wait(duration + ramp + 90)
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"callgen gave no report (exit {finished.returncode}):\n{child.tail()}")
    return report, sampler, up


def run(args, work: Path, server_bin: Path, callgen_bin: Path) -> bool:
    low, high = args.rtp_range
    print(f"== Part 2: concurrent SIPREC calls, both streams (2 x 50 packets/s), "
          f"{args.duration:g} s each, started within {RAMP_SECONDS:g} s; callrec-server "
          "--auto-record ALL, a fresh one per N")
    used = {p for p in udp_ports_in_use() if low <= p <= high}
    room = ((high - low + 1) // 2 - len(used)) // 2
    print(f"   RTP ports {low}-{high}: room for about {room} contacts (two even ports each; "
          f"{len(used)} ports of the range bound by other processes, which the server skips)")
    print("   CPU: share of one core in the steady window; 'other': every other process of the "
          "machine in that window (others work on this machine too)\n", flush=True)
    ok = True
    for n in args.counts:
        if n > room:
            print(f"-- N={n}: the RTP port range is the limit; stopping here")
            break
        good, lossless = _callrec(args, work, server_bin, callgen_bin, n)
        ok &= good
        if args.s3_args:
            good, lossless_s3 = _callrec(args, work, server_bin, callgen_bin, n,
                                         tuple(args.s3_args), "s3", uploading=True)
            ok &= good
            lossless &= lossless_s3
        if args.dtmf_cost:
            ok &= _dtmf_cost(args, work, server_bin, callgen_bin, n)
        if args.receive_cost:
            ok &= _receive_cost(args, work, server_bin, callgen_bin, n)
        _peer(args, work, callgen_bin, n)
        if not lossless:
            print(f"   loss at N={n}: stopping here")
            break
    print()
    return ok


def _dtmf_cost(args, work, server_bin, callgen_bin, n) -> bool:
    """The in-band DTMF detector's cost: the same load with it off (record) and
    on (mask, the default; its run above is the first)."""
    return _alternate(args, work, server_bin, callgen_bin, n, args.dtmf_rounds,
                      ("mask", "with it (mask, the default)"),
                      ("record", "without (record)", ("--dtmf-policy", "record")),
                      "DTMF detector")


def _receive_cost(args, work, server_bin, callgen_bin, n) -> bool:
    """The receive path's cost: io_uring (the default; its run above is the
    first) against Asio's reactor, a read per datagram."""
    return _alternate(args, work, server_bin, callgen_bin, n, args.receive_rounds,
                      ("uring", "io_uring (the default)"),
                      ("asio", "asio", ("--media-receive", "asio")),
                      "receive path")


def _alternate(args, work, server_bin, callgen_bin, n, rounds, base, other, what) -> bool:
    """The same load with the default flags (`base`, its first run the one
    above) and with `other`'s flags, alternating so that the machine's drift
    falls on both; the ratio of the medians of server CPU."""
    base_label, base_text = base
    other_label, other_text, other_flags = other
    ok = True
    first = [args.part2_server_share[n]]
    second = []
    for k in range(rounds):
        good, _ = _callrec(args, work, server_bin, callgen_bin, n, other_flags,
                           f"{other_label}{k}")
        ok &= good
        second.append(args.part2_server_share[(n, f"{other_label}{k}")])
        if k + 1 < rounds:
            good, _ = _callrec(args, work, server_bin, callgen_bin, n, (),
                               f"{base_label}{k + 1}")
            ok &= good
            first.append(args.part2_server_share[(n, f"{base_label}{k + 1}")])
    m, r = statistics.median(first), statistics.median(second)
    print(f"   {what} at N={n}: server CPU {base_text} "
          f"{', '.join(f'{x * 100:.1f}%' for x in first)} vs {other_text} "
          f"{', '.join(f'{x * 100:.1f}%' for x in second)} of a core; medians "
          f"{m * 100:.1f}% vs {r * 100:.1f}% = {(m / r - 1) * 100 if r else float('nan'):+.1f}% "
          f"per stream", flush=True)
    return ok


def _preload(callgen_bin, work, server, n, name) -> None:
    """--s3: a wave of calls that ends just before the measured one, so that
    their recordings upload while the measured calls record."""
    sessions, duration = max(n // 2, 10), PRELOAD_SECONDS
    rate = max(sessions / RAMP_SECONDS, 10.0)
    child = Child([callgen_bin, "--target", f"{HOST}:{server.sip_port}", "--sessions", sessions,
                   "--rate", rate, "--duration", duration, "--contact-id-prefix",
                   f"{name}-pre-{os.getpid()}", "--json"], work / f"{name}-pre.log",
                  stdout_path=work / f"{name}-pre.json")
    child.wait(duration + RAMP_SECONDS + 90)
    server.wait_sessions_ended(30)
    print(f"   preload: {sessions} calls of {duration:g} s ended; their recordings upload "
          "during the measured run", flush=True)


def _upload_figures(server, m0, m1, n) -> None:
    """--s3: what went up during the measured run, and how long the rest took."""
    def delta(name):
        return m1.get(name, 0) - m0.get(name, 0)
    up_bytes = delta("callrec_uploaded_bytes_total")
    up_count = delta("callrec_uploads_total")
    failures = {k.split('"')[1]: v - m0.get(k, 0) for k, v in m1.items()
                if k.startswith("callrec_upload_failures_total{") and v - m0.get(k, 0) > 0}
    print(f"   uploads while the {n} calls recorded: {up_count:.0f} recordings, "
          f"{up_bytes / 1e6:.1f} MB; pending at the start {m0.get('callrec_uploads_pending', 0):.0f}"
          f", at the end {m1.get('callrec_uploads_pending', 0):.0f}; failed attempts "
          f"{failures or 'none'}", flush=True)
    started = time.monotonic()
    pending = m1.get("callrec_uploads_pending", 0)
    while pending > 0 and time.monotonic() - started < 600:
        time.sleep(0.5)
        m = server.metrics()
        pending = m.get("callrec_uploads_pending", 0)
    m2 = server.metrics()
    drained = time.monotonic() - started
    print(f"   then every recording uploaded {drained:.1f} s later (pending {pending:.0f}): "
          f"{m2.get('callrec_uploads_total', 0):.0f} in all, "
          f"{m2.get('callrec_uploaded_bytes_total', 0) / 1e6:.1f} MB", flush=True)


def _callrec(args, work, server_bin, callgen_bin, n, extra=(), label="",
             uploading=False) -> tuple[bool, bool]:
    name = f"p2-callrec-{n}" + (f"-{label}" if label else "")
    fsync_p50, fsync_max = fsync_probe(work)
    server = CallrecServer(server_bin, work / name, args.rtp_range, True, name, extra)
    if uploading:
        print(f"-- N={n} with recordings to S3: a preload wave, then the measured calls",
              flush=True)
        _preload(callgen_bin, work, server, n, name)
    base_rss, base_cpu = rss_kib(server.pid), cpu_seconds(server.pid)
    drops0 = udp_receive_buffer_errors()
    m0 = server.metrics()
    report, s, up = drive(callgen_bin, work, server.sip_port, n, args.duration, name,
                          {"server": server.pid},
                          gauge=lambda: int(server.metrics().get("callrec_siprec_sessions", -1)))
    m_calls = server.metrics()
    server.wait_sessions_ended(30)
    ids = [x["contact_id"] for x in report.get("sessions", [])]
    meta = _wait_complete(server, ids, 30)
    details = {c: server.contact(c) or {} for c in ids}
    m1 = server.metrics()
    total_cpu = cpu_seconds(server.pid) - base_cpu
    drops = udp_receive_buffer_errors() - drops0
    if uploading:
        _upload_figures(server, m0, m_calls, n)
    finished = server.stop(30)
    ok = finished.returncode == 0
    if not ok:
        print(f"   callrec-server exited with {finished.returncode}:\n{server.tail()}")
    t = tally(report, meta, details)
    dropped = int(m1.get("callrec_recording_dropped_frames_total", 0)
                  - m0.get("callrec_recording_dropped_frames_total", 0))
    lossless = t.zero_loss and dropped == 0 and int(report.get("failed_sessions", 0)) == 0
    p99, worst, worst_stream = lateness(report)
    share = s.core_share("server")
    whole_run = total_cpu / (n * args.duration) * 1000
    shown = "--recordings-store s3:// (the RGW above)" if uploading else " ".join(extra)
    print(f"-- N={n}: callrec-server {shown}; calls up at once (callrec_siprec_sessions): {up}; "
          f"callgen failed sessions: {report.get('failed_sessions')}")
    print(f"   packets sent {t.sent}, recorded {t.recorded}, never counted {t.missing}; lost "
          f"{t.lost}, late {t.late}, duplicates {t.duplicates}, gated {t.gated}, invalid "
          f"{t.invalid}; storage dropped {t.storage_dropped_frames} frames = "
          f"{t.storage_dropped_frames / 8000:.1f} s of audio (/metrics {dropped}); "
          f"recordings {t.contacts_found}/{t.contacts_expected}, incomplete {t.incomplete}; "
          f"kernel rcvbuf drops (machine) {drops}")
    print(f"   ZERO LOSS: {'yes' if lossless else 'NO'}" + (
        "" if not t.worst else "; worst contacts (missing, id, sent, recorded): "
        + ", ".join(str(w) for w in t.worst[:3])))
    print(f"   callgen send lateness p99 {p99:.2f} ms, max {worst:.2f} ms (worst stream p99 "
          f"{worst_stream:.2f} ms); callgen CPU {s.core_share('callgen') * 100:.0f}%")
    print(f"   server CPU {share * 100:.1f}% = {share / n * 1000:.3f} ms per call-second "
          f"(steady); whole run with setup, teardown, finalising {whole_run:.3f} ms per "
          f"call-second; RSS {base_rss / 1024:.1f} -> "
          f"{s.peak_rss['server'] / 1024:.1f} MiB = {(s.peak_rss['server'] - base_rss) / n:.0f} "
          f"KiB per call; other {s.other_share() * 100:.0f}%; disk before the run: 4 KiB "
          f"write+fdatasync p50 {fsync_p50:.2f} ms, max {fsync_max:.2f} ms", flush=True)
    args.part2_server_share[(n, label) if label else n] = share
    return ok, lossless


def _peer(args, work, callgen_bin, n) -> None:
    ports = two_free_udp_ports()
    sink = start_sink(work, ports, f"p2-sink-{n}")
    peer, sip_port = start_peer_uas(args.sipp, work, ports, f"p2-peer-{n}")
    drops0 = udp_receive_buffer_errors()
    try:
        report, s, _ = drive(callgen_bin, work, sip_port, n, args.duration, f"p2-peer-{n}",
                             {"sink": sink.pid, "sipp": peer.pid})
    finally:
        stop_peer_uas(peer)
        sink.stop()
    drops = udp_receive_buffer_errors() - drops0
    st = tally_sink(report, json.loads(sink.result_path.read_text()))
    p99, worst, _ = lateness(report)
    share = s.core_share("sink")
    print(f"   peer (SIPp UAS + Python UDP sink): sent {st.sent}, received {st.received}, short "
          f"streams {st.short_streams}/{st.streams}, callgen failed sessions "
          f"{report.get('failed_sessions')}; kernel rcvbuf drops {drops}; callgen lateness p99 "
          f"{p99:.2f} ms, max {worst:.2f} ms; sink CPU {share * 100:.1f}% = "
          f"{share / n * 1000:.3f} ms per call-second; other {s.other_share() * 100:.0f}%")
    server_share = args.part2_server_share.get(n)
    if server_share and share > 0:
        print(f"   ratio callrec / sink, CPU per call-second: {server_share / share:.2f}x",
              flush=True)


def _wait_complete(server: CallrecServer, contact_ids, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        meta = load_metadata(server.data_dir)
        if all(meta.get(c, {}).get("Complete") for c in contact_ids) or \
                time.monotonic() > deadline:
            return meta
        time.sleep(0.2)
