"""The rtpengine side: Debian's rtpengine-daemon in userspace (no kernel
module), recording every call with --recording-method=pcap, the calls set up
through its ng protocol, the media sent by the RTP-only generator.

Per call: an offer with the customer's SDP (its address: the customer sink),
an answer with the agent's (the agent sink). rtpengine answers each with its
own port: media arriving at the port of its returned answer comes from the
caller (the customer) and goes on to the agent's address, media arriving at
the port of its returned offer comes from the callee (the agent) and goes on
to the customer's. So the customer stream is sent to the answer's port, the
agent stream to the offer's. Both sinks are bound sockets that never read
(small receive buffers, no ICMP unreachable), one per side for every call.
"""

import socket
import time
from pathlib import Path

from ng import NgClient, NgError, audio_sdp, sdp_media_address
from pcap import pcaps_by_call, read_pcap
from processes import HOST, Child, free_port, rss_kib
from result import Result, disk_bytes


class RtpEngine(Child):
    def __init__(self, binary: str, work: Path, name: str, threads: int,
                 ports: tuple[int, int]):
        self.recording_dir = work / name
        self.recording_dir.mkdir(parents=True)
        self.ng_port = free_port((socket.SOCK_DGRAM,))
        # setsid: a session of its own, so that Ctrl-C reaches the bench only,
        # which deletes the calls before it stops rtpengine (see delete_all);
        # setsid execs in place (same pid) as the child is no group leader
        argv = ["setsid", binary, "--config-file=none", "--foreground", "--log-stderr",
                "--log-level=5",  # notice: no line per packet or per command
                "--table=-1",  # userspace only: no kernel forwarding module
                "--interface=127.0.0.1", f"--listen-ng={HOST}:{self.ng_port}",
                f"--port-min={ports[0]}", f"--port-max={ports[1]}",
                "--recording-method=pcap", f"--recording-dir={self.recording_dir}",
                "--recording-format=raw", f"--num-threads={threads}",
                "--delete-delay=0",  # a deleted call is gone (and its pcap closed) at once
                "--timeout=60"]
        # cwd: a core file (see delete_all) lands in the run's directory
        super().__init__(argv, work / f"{name}.log", cwd=self.recording_dir)
        self.ng = NgClient(HOST, self.ng_port, timeout=0.5, attempts=20)
        try:
            self.ng.ping()
        except Exception:
            self.stop(5)
            raise RuntimeError(f"rtpengine did not answer ng ping:\n{self.tail()}")

    def delete_all(self, call_ids, quick: bool = False) -> None:
        """Deletes the calls, which closes their pcaps. Also before stopping
        after an error: rtpengine 10.5 stopped with recorded calls still up
        crashes in recording_finish (SIGSEGV, seen when a run was interrupted)."""
        if quick:
            self.ng.timeout, self.ng.attempts = 0.2, 1
            self.ng.sock.settimeout(0.2)
        for call_id in call_ids:
            try:
                self.ng.request("delete", call_id=call_id)
            except NgError:
                if not quick:
                    raise


def run(args, work: Path, generator, n: int, threads: int) -> Result:
    name = f"rtpengine-t{threads}-{n}"
    engine = RtpEngine(args.rtpengine, work, name, threads, args.rtpengine_range)
    sinks = []
    calls = []  # (call id, customer's destination, agent's), each (host, port)
    deleted = False
    try:
        for _ in range(2):  # customer, agent
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.bind((HOST, 0))
            sinks.append(s)
        customer_sink, agent_sink = (s.getsockname()[1] for s in sinks)
        time.sleep(0.5)
        base_rss = rss_kib(engine.pid)
        setup_started = time.monotonic()
        for i in range(n):
            call_id = f"{name}-{i + 1}"
            common = {"call_id": call_id, "from_tag": f"c{i}", "record_call": "yes",
                      "ICE": "remove", "flags": ["asymmetric"]}
            offer = engine.ng.request("offer", sdp=audio_sdp(2 * i + 1, customer_sink),
                                      **common)
            answer = engine.ng.request("answer", to_tag=f"a{i}",
                                       sdp=audio_sdp(2 * i + 2, agent_sink), **common)
            calls.append((call_id, sdp_media_address(answer["sdp"]),
                          sdp_media_address(offer["sdp"])))
        setup = time.monotonic() - setup_started
        errors0 = udp_errors()
        plan = work / f"{name}.calls"
        plan.write_text("".join(f"{c} {ch}:{cp} {ah}:{ap}\n" for c, (ch, cp), (ah, ap) in calls))
        report, sampler = generator.run(plan, n, args.duration, work, name,
                                        {"server": engine.pid})
        received = sum(engine.ng.request("query", call_id=c[0]).get("totals", {})
                       .get("RTP", {}).get("packets", 0) for c in calls)
        kernel_drops = udp_drops(args.rtpengine_range)
        errors = {k: v - errors0[k] for k, v in udp_errors().items()}
        sink_drops = sum(udp_drops((p, p)) for p in (customer_sink, agent_sink))
        engine.delete_all(c[0] for c in calls)
        deleted = True
        time.sleep(1.0)  # pcaps are closed as the calls go
    finally:
        if not deleted and engine.process.poll() is None:
            engine.delete_all((c[0] for c in calls), quick=True)
        for s in sinks:
            s.close()
        finished = engine.stop(15)
        engine.ng.close()
    if finished.returncode not in (0, -15):
        raise RuntimeError(f"rtpengine exited with {finished.returncode}:\n{engine.tail()}")
    r = Result(f"rtpengine {threads} thread" + ("s" if threads > 1 else ""), n, args.duration)
    r.note = (f"rtpengine's own count (ng query totals): {received:,} RTP packets received; "
              f"dropped by the kernel at its sockets (full receive buffers): {kernel_drops:,}; "
              f"machine's UDP errors during the run {errors} of which the two sinks' "
              f"(never read, by design) {sink_drops:,}; "
              f"ng setup of {n} calls {setup:.1f} s")
    count_pcaps(r, report, calls, engine.recording_dir)
    r.fill_load(sampler, base_rss, report)
    r.disk_bytes = disk_bytes(engine.recording_dir / "pcaps")
    return r


def udp_drops(ports: tuple[int, int]) -> int:
    """Datagrams the kernel dropped at the UDP sockets bound to these local
    ports (the drops column of /proc/net/udp: full receive buffers), now."""
    total = 0
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        port = int(fields[1].rsplit(":", 1)[1], 16)
        if ports[0] <= port <= ports[1]:
            total += int(fields[-1])
    return total


def udp_errors() -> dict[str, int]:
    """The machine's UDP counters (/proc/net/snmp): InErrors, RcvbufErrors, MemErrors."""
    rows = [l.split() for l in Path("/proc/net/snmp").read_text().splitlines()
            if l.startswith("Udp:")]
    values = dict(zip(rows[0][1:], (int(v) for v in rows[1][1:])))
    return {k: values.get(k, 0) for k in ("InErrors", "RcvbufErrors", "MemErrors")}


def count_pcaps(r: Result, report: dict, calls, recording_dir: Path) -> None:
    """Packets per stream in rtpengine's pcaps against the generator's report."""
    files = pcaps_by_call(recording_dir)
    ports = {c: (cp, ap) for c, (_, cp), (_, ap) in calls}
    r.files_expected = len(calls)
    for session in report.get("sessions", []):
        call_id = session.get("contact_id") or session.get("call_id")
        path = files.get(call_id)
        counts = read_pcap(path) if path else {}
        if path:
            r.files_found += 1
        customer_port, agent_port = ports.get(call_id, (None, None))
        for st in session.get("streams", []):
            port = customer_port if st.get("role") == "customer" else agent_port
            got = counts.get(port)
            sent = int(st.get("packets", 0))
            r.sent += sent
            r.recorded += got.packets if got else 0
            r.late += got.out_of_order if got else 0
            if not got or got.packets < sent:
                r.short_streams += 1
    r.finish()
