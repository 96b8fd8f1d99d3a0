"""The callrec side: a fresh callrec-server --auto-record ALL per N, callgen
placing N SIPREC calls (bench/siprec's drive()), then every recording's
counters against what callgen sent (bench/siprec's tally())."""

from pathlib import Path

from concurrent_calls import _wait_complete, drive
from processes import CallrecServer, rss_kib
from recordings import sent_by_contact, tally
from result import Result, disk_bytes


def run(args, work: Path, server_bin: Path, callgen_bin: Path, n: int) -> Result:
    name = f"callrec-{n}"
    # --max-contacts 0: its default (2,000 contacts not ended at once) would
    # refuse the rest with 503 and callgen would retry them past its deadline
    server = CallrecServer(server_bin, work / name, args.callrec_range, True, name,
                           ("--max-contacts", "0"))
    try:
        base_rss = rss_kib(server.pid)
        m0 = server.metrics()
        report, sampler, _ = drive(callgen_bin, work, server.sip_port, n, args.duration,
                                   f"{name}-callgen",  # its log beside the server's
                                   {"server": server.pid})
        server.wait_sessions_ended(30)
        ids = [s["contact_id"] for s in report.get("sessions", [])]
        meta = _wait_complete(server, ids, 60)
        details = {c: server.contact(c) or {} for c in ids}
        m1 = server.metrics()
    finally:
        finished = server.stop(30)
    if finished.returncode != 0:
        raise RuntimeError(f"callrec-server exited with {finished.returncode}:\n{server.tail()}")
    t = tally(report, meta, details)
    dropped = int(m1.get("callrec_recording_dropped_frames_total", 0)
                  - m0.get("callrec_recording_dropped_frames_total", 0))
    r = Result("callrec", n, args.duration)
    r.sent, r.recorded, r.late = t.sent, t.recorded, t.late
    r.files_expected, r.files_found = t.contacts_expected, t.contacts_found
    r.short_streams = sum(  # contacts, not streams: the server counts per contact
        1 for c, sent in sent_by_contact(report).items()
        if int(meta.get(c, {}).get("Counters", {}).get("Packets", 0)) < sent)
    r.fill_load(sampler, base_rss, report)
    r.disk_bytes = disk_bytes(server.data_dir / "recordings")
    r.finish(t.zero_loss and dropped == 0 and int(report.get("failed_sessions", 0)) == 0)
    r.note = (f"counters match: {'yes' if t.zero_loss else 'NO'} (seq gaps {t.lost}, duplicates "
              f"{t.duplicates}, gated {t.gated}, invalid {t.invalid}, incomplete {t.incomplete}, "
              f"storage dropped {t.storage_dropped_frames} frames, /metrics {dropped}); callgen "
              f"failed sessions {report.get('failed_sessions')}")
    if t.worst:
        r.note += "; worst (missing, contact, sent, recorded): " + \
            ", ".join(str(w) for w in t.worst[:3])
    return r
