"""What was sent (callgen's report) against what was recorded (the server's files).

The server counts per contact, not per stream: its metadata (`<ContactId>.json`
beside the WAV) has Counters {Packets, Lost, Late, Gated, Invalid,
StorageDroppedFrames} and Complete; `/v1/contacts/{id}` adds Duplicates. So a
contact's packets sent are the sum of its two streams in callgen's report.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path


def load_metadata(data_dir: Path) -> dict[str, dict]:
    """Every recording's metadata under <data-dir>/recordings, by ContactId."""
    found = {}
    for path in (data_dir / "recordings").rglob("*.json"):
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and "ContactId" in meta:
            found[meta["ContactId"]] = meta
    return found


@dataclass
class LossTally:
    """Totals over every contact of one run."""
    contacts_expected: int = 0
    contacts_found: int = 0
    incomplete: int = 0
    sent: int = 0
    recorded: int = 0  # Counters.Packets: accepted into the recording
    gated: int = 0  # arrived while the recording was not running
    invalid: int = 0
    lost: int = 0  # sequence numbers never received
    late: int = 0  # arrived after their place was written
    duplicates: int = 0
    storage_dropped_frames: int = 0
    recorded_seconds: float = 0.0
    worst: list = field(default_factory=list)  # (missing, contact id, sent, recorded)

    @property
    def missing(self) -> int:
        """Packets sent that the server never counted in any way."""
        return self.sent - self.recorded - self.gated - self.invalid - self.duplicates

    @property
    def zero_loss(self) -> bool:
        return (self.contacts_found == self.contacts_expected and self.incomplete == 0
                and self.recorded == self.sent and self.lost == 0 and self.late == 0
                and self.storage_dropped_frames == 0)


def sent_by_contact(report: dict) -> dict[str, int]:
    return {s["contact_id"]: sum(st.get("packets", 0) for st in s.get("streams", []))
            for s in report.get("sessions", [])}


def tally(report: dict, metadata: dict[str, dict], details: dict[str, dict]) -> LossTally:
    """Compares callgen's report with the metadata files and /v1 details."""
    t = LossTally()
    rows = []
    for contact_id, sent in sent_by_contact(report).items():
        t.contacts_expected += 1
        t.sent += sent
        meta = metadata.get(contact_id)
        if meta is None:
            rows.append((sent, contact_id, sent, 0))
            continue
        t.contacts_found += 1
        if not meta.get("Complete"):
            t.incomplete += 1
        c = meta.get("Counters", {})
        recorded = int(c.get("Packets", 0))
        t.recorded += recorded
        t.gated += int(c.get("Gated", 0))
        t.invalid += int(c.get("Invalid", 0))
        t.lost += int(c.get("Lost", 0))
        t.late += int(c.get("Late", 0))
        t.storage_dropped_frames += int(c.get("StorageDroppedFrames", 0))
        t.recorded_seconds += float(meta.get("DurationSeconds", 0) or 0)
        duplicates = int((details.get(contact_id) or {}).get("Recording", {}).get("Duplicates", 0))
        t.duplicates += duplicates
        rows.append((sent - recorded, contact_id, sent, recorded))
    t.worst = sorted((r for r in rows if r[0]), reverse=True)[:5]
    return t


@dataclass
class SinkTally:
    """The peer run: callgen's streams against the UDP sink's counts, per stream."""
    streams: int = 0
    sent: int = 0
    received: int = 0
    short_streams: int = 0


def tally_sink(report: dict, sink: dict) -> SinkTally:
    received = {}
    for row in sink.get("streams", []):
        received[int(row["source"].rsplit(":", 1)[1])] = \
            received.get(int(row["source"].rsplit(":", 1)[1]), 0) + row["packets"]
    t = SinkTally()
    for session in report.get("sessions", []):
        for st in session.get("streams", []):
            if not st.get("destination"):
                continue
            t.streams += 1
            t.sent += st["packets"]
            got = received.get(st["local_port"], 0)
            t.received += got
            if got < st["packets"]:
                t.short_streams += 1
    return t


def lateness(report: dict) -> tuple[float, float, float]:
    """callgen's send lateness: overall p99 and max, and the worst stream's p99 (ms)."""
    worst_stream_p99 = max((st.get("lateness_p99_ms", 0.0) for s in report.get("sessions", [])
                            for st in s.get("streams", [])), default=0.0)
    return (float(report.get("lateness_p99_ms", 0.0)), float(report.get("lateness_max_ms", 0.0)),
            float(worst_stream_p99))


class FinalisationWatch:
    """Counts recordings whose metadata says Complete, re-reading only the
    files not yet complete (a run can leave thousands)."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.complete: set[Path] = set()

    def count(self) -> int:
        for path in (self.data_dir / "recordings").rglob("*.json"):
            if path in self.complete:
                continue
            try:
                if json.loads(path.read_text()).get("Complete"):
                    self.complete.add(path)
            except (OSError, ValueError):
                pass
        return len(self.complete)
