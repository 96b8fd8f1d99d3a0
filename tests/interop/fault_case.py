"""What the fault tests (test_faults.py, test_lifecycle.py) share: a server
with its own data directory and RTP range per class, calls with tones on both
legs, and the checks of what a recording holds afterwards.
"""

import json
import os
import time

import audio
import rtp
from harness import SERVER_BIN, ServerTestCase

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
# Under CALLREC_TEST_STORE=postgresql a full or read-only data directory no
# longer holds the state store, so the tests that expect its writes to fail
# there do not apply; PostgreSQL's own outage is test_postgres's restart test.
STATE_ELSEWHERE = ("the state store is in PostgreSQL, not on the data directory's disk "
                   "(its outages: test_postgres)")
TONE_CUSTOMER = 600
TONE_AGENT = 1400
TOL = 0.045  # span edges: a packet, plus the analysis resolution, plus a tick


def rtp_range(offset, count):
    return RTP_BASE + 1300 + offset, RTP_BASE + 1300 + offset + count - 1


def addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


class FaultCase(ServerTestCase):
    start_server = False
    rtp_ports = rtp_range(0, 20)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        super().setUp()

    def server_on(self, mount, extra=(), **kwargs):
        """A server whose data directory is the mounted file system `mount`; the
        server is stopped before the file system is unmounted."""
        server = self.new_server(start=False, extra_args=[
            "--rtp-ports", "%d-%d" % self.rtp_ports] + list(extra), name="faults", **kwargs)
        os.makedirs(server.data_dir)
        try:
            mount.mount(server.data_dir)
        except PermissionError as error:
            self.skipTest(str(error))

        def close_then_unmount():
            server.close()
            mount.unmount()
        self.addCleanup(close_then_unmount)
        return server

    def health(self, server):
        reply = server.v1("GET", "/healthz", token=False)
        return reply.status, reply.json()

    def wait_for(self, what, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail("timed out waiting for %s" % what)
            time.sleep(0.05)

    def send_call(self, contact, seconds, t0=None):
        """Both legs of a contact: the customer a 600 Hz tone, the agent 1400 Hz."""
        packets = int(seconds / rtp.PTIME)
        t0 = t0 or time.perf_counter() + 0.05
        legs = [rtp.Leg(addr(contact["Rtp"]["Customer"]), "PCMU", rtp.tone_fn(TONE_CUSTOMER),
                        packets, name="customer", t0=t0),
                rtp.Leg(addr(contact["Rtp"]["Agent"]), "PCMU", rtp.tone_fn(TONE_AGENT), packets,
                        name="agent", t0=t0)]
        for leg in legs:
            leg.start()
        return t0, legs

    def metadata(self, wav_path, timeout=10, want=lambda m: m.get("EndTime") is not None):
        path = wav_path[:-4] + ".json"
        last = None

        def read():
            nonlocal last
            try:
                with open(path) as f:
                    last = json.load(f)
            except (OSError, ValueError):
                return None
            return last if want(last) else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if read():
                return last
            time.sleep(0.05)
        self.fail("%s: metadata never as expected; last seen %s" % (path, last))

    def assertToneCovers(self, channel, freq, start, end, what, sender=None, origin=0.0):
        """One span of `freq` covering [start, end] (within TOL). With `sender` (a
        leg whose first packet is at `origin` + its send time in the file), a hole
        is allowed where that sender itself sent late (see late_spans): the
        recorder drops what comes past its reorder window, by design."""
        spans = audio.tone_spans(channel, freq)
        excused = late_spans(sender.log, origin) if sender is not None else []
        merged = []
        for a, b in sorted(spans + [(a - TOL, b + TOL) for a, b in excused]):
            if merged and a <= merged[-1][1] + TOL:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        covering = [s for s in merged if s[0] <= start + TOL and s[1] >= end - TOL]
        self.assertTrue(covering, "%s: %d Hz should cover %.2f-%.2f s; found %s (sender late: %s)"
                        % (what, freq, start, end, spans, excused))


# A packet this far behind its sender's own schedule (counted from its first
# packet) may reach the recorder past its 100 ms reorder window, less a tick.
SENDER_LATE = 0.08


def late_spans(log, origin):
    """[(start_s, end_s)] in the recording's time (the file starts at `origin`,
    a perf_counter time) of the packets `log`'s sender sent over SENDER_LATE s
    behind its schedule: a sender thread that stalled."""
    first_slot, first_sent = log.records[0][0], log.records[0][4]
    spans = []
    for slot, _, _, _, sent, _ in log.records:
        due = first_sent + (slot - first_slot) * rtp.PTIME
        if sent - due > SENDER_LATE:
            at = due - origin
            if spans and at <= spans[-1][1] + 1e-6:
                spans[-1] = (spans[-1][0], at + rtp.PTIME)
            else:
                spans.append((at, at + rtp.PTIME))
    return spans
