"""Part 1: SIPREC sessions set up per second.

SIPp (setup_uac.xml) places sessions at each offered rate for a fixed window:
INVITE -> 200 -> ACK, then at once BYE -> 200; no RTP. Targets: the peer (SIPp
as the recorder, peer_uas.xml, reused for every step), callrec-server, and
callrec-server --auto-record ALL (each step on a fresh server, so one step's
leftovers do not slow the next). Then callrec-callgen places sessions as a
second client (0.2 s of RTP each).

With --auto-record ALL every session is a recording whose WAV and metadata are
finalised by the storage thread after the BYE. SIP can be answered faster than
files are finalised, so the step also watches the metadata files for a while
after the load (the drain) and reports how many were final and at what rate.
"""

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from processes import (HOST, CallrecServer, Child, cpu_seconds, rss_kib, start_sink,
                       two_free_udp_ports, udp_receive_buffer_errors)
from recordings import FinalisationWatch
from sipp_runs import run_setup, start_peer_uas, stop_peer_uas

SERVER_STOP_WAIT = 5.0  # s; a server still finalising a backlog is killed after this


@dataclass
class StepFigures:
    done_per_second: float = 0.0
    finalised_per_second: float | None = None


def fmt_ms(values) -> str:
    return "/".join("-" if v is None else str(v) for v in values)


HEADER = (f"{'target':<26} {'client':<7} {'offered/s':>9} {'done/s':>7} {'ok':>6} {'failed':>6} "
          f"{'retrans':>7} {'INVITE→200':>13} {'BYE→200':>12} {'srv µs':>7} {'KiB':>5} "
          f"{'rcvbuf':>6}  files final")


def run(args, work: Path, server_bin: Path, callgen_bin: Path) -> bool:
    print("== Part 1: SIPREC sessions set up per second (INVITE/200/ACK, then BYE/200 at once; "
          "no RTP)")
    print(f"   SIPp UAC, {args.step_seconds:g} s per offered rate, -l 1000. done/s: sessions whose "
          "BYE was answered inside the window. Response times p50/p90/p99/max in ms, as SIPp "
          "gives them (whole ms, its clock ticks coarsely: 0 = under 1 ms, 4 = a few ms).")
    print("   srv µs: server CPU per session; KiB: server RSS growth per session; rcvbuf: UDP "
          "datagrams the kernel dropped (full receive buffer, whole machine) during the step.")
    print(HEADER, flush=True)
    ok = True
    figures: dict[str, dict[str, StepFigures]] = {}
    targets = [("peer: SIPp UAS", None), ("callrec", False), ("callrec --auto-record ALL", True)]
    sink = peer = None
    sink_ports = two_free_udp_ports()
    sink = start_sink(work, sink_ports, "p1-sink")
    peer, peer_port = start_peer_uas(args.sipp, work, sink_ports, "p1-peer")
    try:
        for t_index, (label, auto) in enumerate(targets):
            figures[label] = {}
            steps = [("sipp", rate) for rate in args.rates] + [("callgen", args.callgen_rate)]
            for s_index, (client, rate) in enumerate(steps):
                name = f"p1-{t_index}-{s_index}"
                if auto is None:
                    fig, good = _step(args, work, callgen_bin, client, rate, name, label,
                                      peer_port, peer.pid, None)
                else:
                    server = CallrecServer(server_bin, work / name, args.rtp_range, auto, name)
                    fig, good = _step(args, work, callgen_bin, client, rate, name, label,
                                      server.sip_port, server.pid, server)
                ok &= good
                figures[label][f"{client} {rate:g}"] = fig
    finally:
        stop_peer_uas(peer)
        sink.stop()
    _print_ratios(figures, targets)
    print()
    return ok


def _step(args, work, callgen_bin, client, rate, name, label, sip_port, pid, server):
    """One load step against one target; prints its row. Returns (figures, ok)."""
    ok = True
    cpu0, rss0 = cpu_seconds(pid), rss_kib(pid)
    drops0 = udp_receive_buffer_errors()
    watch = FinalisationWatch(server.data_dir) if server else None
    started = time.monotonic()
    if client == "sipp":
        r = run_setup(args.sipp, work, sip_port, rate, 1000, args.step_seconds, name)
        done_per_second, good, failed = r.completed_per_second, r.successful, r.failed
        retrans, inv, bye = r.retransmissions, fmt_ms(r.invite_percentiles()), fmt_ms(
            r.bye_percentiles())
        detail = r.failure_detail
    else:
        n = int(rate * args.callgen_seconds)
        done_per_second, good, failed, detail = _callgen(callgen_bin, work, sip_port, n, rate,
                                                         name)
        retrans, inv, bye = "-", "-", "-"
    load_end = time.monotonic()
    final_text = ""
    fig = StepFigures(done_per_second)
    if server:
        server.wait_sessions_ended(10)
        if server.auto_record:
            at_end = watch.count()
            deadline = time.monotonic() + args.drain_seconds
            final = at_end
            while final < good + failed and time.monotonic() < deadline:
                time.sleep(0.5)
                final = watch.count()
            waited = time.monotonic() - load_end
            fig.finalised_per_second = final / (time.monotonic() - started)
            final_text = (f"{at_end}/{good} at the end, {final} after +{waited:.0f} s "
                          f"= {fig.finalised_per_second:.0f}/s")
    sessions = good + failed
    srv_us = (cpu_seconds(pid) - cpu0) / sessions * 1e6 if sessions else 0.0
    kib = (rss_kib(pid) - rss0) / sessions if sessions else 0.0
    drops = udp_receive_buffer_errors() - drops0
    if server:
        stop_started = time.monotonic()
        finished = server.stop(SERVER_STOP_WAIT)
        if finished.returncode == -signal.SIGKILL:
            final_text += f"; server still finalising after {SERVER_STOP_WAIT:.0f} s: killed"
        elif finished.returncode != 0:
            print(f"   callrec-server exited with {finished.returncode}:\n{server.tail()}")
            ok = False
        elif server.auto_record:
            final_text += f"; stopped in {time.monotonic() - stop_started:.1f} s"
    print(f"{label:<26} {client:<7} {rate:>9.0f} {done_per_second:>7.0f} {good:>6} {failed:>6} "
          f"{retrans:>7} {inv:>13} {bye:>12} {srv_us:>7.0f} {kib:>5.1f} {drops:>6}  "
          f"{final_text}", flush=True)
    if detail:
        print("     " + detail.replace("\n", "\n     ")[:1200])
    return fig, ok


def _callgen(callgen_bin: Path, work: Path, sip_port: int, n: int, rate: float, name: str):
    """callgen places n sessions at rate; done/s = n / (time to the last BYE's answer - 0.2 s)."""
    report_path = work / f"{name}.json"
    child = Child([callgen_bin, "--target", f"{HOST}:{sip_port}", "--sessions", n, "--rate", rate,
                   "--duration", 0.2, "--contact-id-prefix", f"{name}-{os.getpid()}", "--json"],
                  work / f"{name}.log", stdout_path=report_path)
    child.wait(n / rate + 90)
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return 0.0, 0, n, f"callgen gave no report:\n{child.tail()}"
    failed = int(report.get("failed_sessions", 0))
    busy = float(report.get("elapsed_seconds", 0)) - 0.2
    reasons = {}
    for s in report.get("sessions", []):
        if not s.get("ok"):
            reasons[s.get("failure", "?")] = reasons.get(s.get("failure", "?"), 0) + 1
    detail = "; ".join(f"{k} x{v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    return ((n - failed) / busy if busy > 0 else 0.0), n - failed, failed, detail


def _print_ratios(figures, targets) -> None:
    peer = figures[targets[0][0]]
    for label, _ in targets[1:]:
        parts = []
        for step, fig in figures[label].items():
            if peer.get(step) and peer[step].done_per_second:
                parts.append(f"{step}/s {fig.done_per_second / peer[step].done_per_second:.2f}x")
        print(f"ratio {label} / peer, done/s: " + ", ".join(parts))
    auto = figures[targets[2][0]]
    finals = [f"{step}/s: {fig.finalised_per_second:.0f}/s" for step, fig in auto.items()
              if fig.finalised_per_second is not None]
    if finals:
        print("recordings finalised per second (--auto-record ALL, load window + drain): "
              + ", ".join(finals))
