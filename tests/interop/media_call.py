"""How the media interop tests (test_media*.py) drive a call and what they
expect of its recording: real RTP calls (G.711 over UDP on 127.0.0.1, paced in
real time) through the real callrec-server, driven by boto3, and the recordings
it writes checked by analysis: tones placed in the call are found at the offsets
they were sent at, or proven absent (paused audio), silence is digital silence,
the metadata matches, `callrec verify` agrees.

Every call is a `Call`: a contact with its customer and agent legs, each sent
from its own thread on a shared 20 ms schedule (slot i of both legs is due at
t0 + i * 20 ms). What each leg sends is decided when the packet is sent, from
the call's *phase* (a word such as "rec" or "paused") that the test changes at
chosen slots or right after an operation was acknowledged. A lock makes the
change atomic with respect to sending: once a phase is set, no packet of the
previous phase leaves. Every packet sent is logged (slot, send time, what it
carried), so the expected recording is computed from what was really sent.

Expected file offsets: a slot's audio belongs at (t0 + slot * 20 ms) minus the
moment recording started (the START call's return, or the agent's first packet
for a contact whose agent had not joined); in skip mode, audio after a RESUME
moves earlier by the paused time (PAUSE ack to RESUME ack). Span edges must be
within TOL of that: 20 ms (the product's one-packet boundary precision) plus the
analysis resolution (5 ms). test_media_selftest.py checks these helpers without
a server.
"""

import datetime
import hashlib
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time

import audio
import rtp
from harness import CLI_BIN, SERVER_BIN, ServerTestCase, boto3_recording_op

TONE_A = 600  # customer
TONE_B = 1400  # agent
TONE_C = 2200  # only ever sent while paused
TONE_D = 1000  # customer, after the agent joined
TONE_E = 2600  # agent, in the DTMF test
AMPLITUDE = 8000
ABSENT = 800  # a tone whose amplitude stays below this (10 % of AMPLITUDE) is absent
TOL = 0.020 + audio.RESOLUTION
PTIME = rtp.PTIME
# Each test class gets its own --rtp-ports range, below the kernel's ephemeral ports
# (32768-60999 on Linux: our own sockets and others' would land there) and away
# from the server's default range (40000-49999), which a server started by
# someone else on this machine (a benchmark) may be using.
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))


def rtp_range(offset, count):
    return RTP_BASE + offset, RTP_BASE + offset + count - 1


# ---- one call --------------------------------------------------------------------------

class Mark:
    """When an operation was made: perf_counter and wall clock, before and after."""

    def __init__(self, before, after, wall_before, wall_after):
        self.before, self.after = before, after
        self.wall_before, self.wall_after = wall_before, wall_after

    def __repr__(self):
        return "Mark(%.4f..%.4f)" % (self.before, self.after)


class Call:
    """A contact on the server and the two RTP legs that carry its audio."""

    def __init__(self, case, contact_id, codec="PCMU", agent_joined=True, initial_contact_id=None,
                 pause_behavior=None, agent_id="agent-m", server=None):
        self.case = case
        case.calls.append(self)
        self.server = server or case.server
        self.contact_id = contact_id
        self.initial_contact_id = initial_contact_id or contact_id
        self.codec = codec
        self.contact = self.server.create_contact(
            contact_id, agent_id=agent_id, initial_contact_id=self.initial_contact_id,
            agent_joined=agent_joined, codec=codec, pause_behavior=pause_behavior)
        self.agent_id = agent_id
        endpoints = self.contact.get("Rtp")
        if endpoints is None:
            case.skipTest("callrec-server has no media side yet (no Rtp in %s)" % self.contact)
        case.assertIsInstance(endpoints, dict, "Rtp member in %s" % self.contact)
        self.customer_addr = rtp.parse_addr(endpoints["Customer"])
        self.agent_addr = rtp.parse_addr(endpoints["Agent"])
        for host, port in (self.customer_addr, self.agent_addr):
            case.assertEqual(host, "127.0.0.1", endpoints)
            if case.rtp_ports:
                case.assertTrue(case.rtp_ports[0] <= port <= case.rtp_ports[1],
                                "port %d outside --rtp-ports %s" % (port, case.rtp_ports))
        case.assertNotEqual(self.customer_addr, self.agent_addr, endpoints)
        self.client = self.server.boto3_client()
        self.lock = threading.RLock()
        self.phase = "pre"
        self.marks = {}
        self.t0 = None
        self.customer = self.agent = None

    # ---- control ------------------------------------------------------------------------

    def set_phase(self, phase):
        with self.lock:
            self.phase = phase

    def op(self, operation, track="ALL", then_phase=None):
        """A boto3 operation; `then_phase` is set as soon as it returned. Recorded in
        self.marks[operation] (a list when made more than once)."""
        wall_before, before = time.time(), time.perf_counter()
        response = boto3_recording_op(self.client, operation, self.contact_id,
                                      initial_contact_id=self.initial_contact_id, track=track)
        after, wall_after = time.perf_counter(), time.time()
        if then_phase is not None:
            self.set_phase(then_phase)
        self.case.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200, response)
        mark = Mark(before, after, wall_before, wall_after)
        if operation in self.marks:
            previous = self.marks[operation]
            self.marks[operation] = (previous if isinstance(previous, list) else [previous]) + [mark]
        else:
            self.marks[operation] = mark
        return mark

    def end(self):
        reply = self.server.v1("POST", "/v1/contacts/%s/end" % self.contact_id)
        self.case.assertIn(reply.status, (200, 204), "ending %s: %r" % (self.contact_id, reply))
        return reply

    def at(self, slot):
        """Sleeps until slot's time on the call's schedule."""
        rtp.sleep_until(self.t0 + slot * PTIME)

    # ---- media --------------------------------------------------------------------------

    def _fns(self, tones, amplitude_fn=None):
        def samples(slot):
            freq = tones.get(self.phase)
            if freq is None:
                return rtp.SILENCE
            amplitude = amplitude_fn(slot) if amplitude_fn else AMPLITUDE
            return rtp.tone_packet(freq, slot, amplitude)

        def label(slot):
            return tones.get(self.phase)
        return samples, label

    def start_legs(self, packets, customer_tones, agent_tones, customer_kw=None, agent_kw=None,
                   delay=0.05, t0=None):
        """Starts both legs (slots 0..packets-1) on a schedule beginning `delay` s
        from now (or at perf_counter time t0). *_tones: {phase: freq} for what each
        leg sends in each phase (silence in phases not named)."""
        self.t0 = time.perf_counter() + delay if t0 is None else t0
        legs = []
        for name, addr, tones, extra in (("customer", self.customer_addr, customer_tones,
                                          customer_kw), ("agent", self.agent_addr, agent_tones,
                                                         agent_kw)):
            extra = dict(extra or {})
            samples, label = self._fns(tones, extra.pop("amplitude_fn", None))
            leg = rtp.Leg(addr, self.codec, samples, packets, name=name, t0=self.t0,
                          label_fn=label, send_lock=self.lock, **extra)
            legs.append(leg.start())
        self.customer, self.agent = legs
        return legs

    def join_legs(self, timeout=30):
        for leg in (self.customer, self.agent):
            leg.join(timeout)

    def slot_time(self, slot):
        return self.t0 + slot * PTIME

    def lateness(self, leg, skip_after=()):
        """The largest delay of a packet behind its slot's time (ignoring slots
        shortly after a blocking hook)."""
        worst = 0.0
        for slot, _, _, _, when, _ in leg.log.records:
            if any(0 <= slot - s < 10 for s in skip_after):
                continue
            worst = max(worst, when - self.slot_time(slot))
        return worst

    # ---- expectations -------------------------------------------------------------------

    def offset(self, slot, origin, pause=None, resume=None):
        """File offset of a slot's audio: origin = perf time of the file's offset 0;
        pause/resume Marks cut out (skip mode) the paused time for slots after it."""
        value = self.slot_time(slot) - origin
        if pause is not None and resume is not None and self.slot_time(slot) >= resume.after:
            value -= resume.after - pause.after
        return value

    def expected_spans(self, leg, label, origin, pause=None, resume=None, bridge_slots=3):
        """[(start, end)] in the file for the runs of slots of `leg` that carried
        `label` (runs broken only by up to bridge_slots unsent slots)."""
        slots = leg.log.slots_with(label)
        runs = []
        for slot in slots:
            if runs and slot - runs[-1][1] <= 1 + bridge_slots:
                runs[-1][1] = slot
            else:
                runs.append([slot, slot])
        out = []
        for first, last in runs:
            start = self.offset(first, origin, pause, resume)
            end = self.offset(last, origin, pause, resume) + PTIME
            if end > 0:
                out.append((max(0.0, start), end))
        return out

    def count(self, leg, label=None, after=None, before=None):
        """Datagrams of a leg (optionally with a label) sent within (after, before)."""
        n = 0
        for _, _, _, _, when, what in leg.log.records:
            if label is not None and what != label:
                continue
            if after is not None and when <= after:
                continue
            if before is not None and when >= before:
                continue
            n += 1
        return n


# ---- base test case -----------------------------------------------------------------------

def retry_when_overloaded(test):
    """Runs a real-time test again, on a fresh server, when it failed while the
    machine stalled the test's own RTP sender (> 8 ms behind its schedule): its
    expectations were void, not the server's behaviour. At most three runs; a
    failure with punctual senders is reported at once."""

    @functools.wraps(test)
    def run(self):
        for attempt in range(3):
            self.calls = []
            try:
                return test(self)
            except AssertionError:
                late = max((call.lateness(leg) for call in self.calls
                            for leg in (call.customer, call.agent) if leg is not None),
                           default=0.0)
                if attempt == 2 or late < 0.008:
                    raise
                sys.stderr.write("\n%s: the test's sender fell %.1f ms behind; running it "
                                 "again on a fresh server\n" % (self.id(), late * 1000))
                self.server.stop()
                self.server = self.new_server(**self.server_kwargs)
    return run


class MediaCase(ServerTestCase):
    """Starts callrec-server with a private --rtp-ports range per class."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if name.startswith("test_") and callable(member):
                setattr(cls, name, retry_when_overloaded(member))

    rtp_ports = None  # (low, high)
    pause_behavior = None
    log_level = "warn"

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        extra = ["--rtp-ports", "%d-%d" % self.rtp_ports]
        if self.pause_behavior:
            extra += ["--pause-behavior", self.pause_behavior]
        self.server_kwargs = {"extra_args": extra, "log_level": self.log_level, "name": "media"}
        self.calls = []
        super().setUp()

    # ---- recordings ---------------------------------------------------------------------

    def recording_path(self, call):
        """Recording.Path from GET /v1/contacts/{id}, checked against the layout."""
        contact = self.server.get_contact(call.contact_id)
        recording = contact.get("Recording")
        self.assertIsInstance(recording, dict, "no Recording member once recording: %s" % contact)
        path = recording.get("Path")
        self.assertTrue(path and os.path.isabs(path), "Recording.Path not absolute: %r" % path)
        self.assertEqual(os.path.basename(path), call.contact_id + ".wav", path)
        self.assertEqual(os.path.basename(os.path.dirname(path)), call.initial_contact_id, path)
        return path

    def metadata(self, wav_path, complete=True, timeout=10):
        """The recording's JSON (beside the WAV), waiting up to `timeout` s for it to
        say Complete == complete."""
        json_path = wav_path[:-len(".wav")] + ".json"
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                with open(json_path) as f:
                    last = json.load(f)
                if last.get("Complete") is complete:
                    return last
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.fail("%s: no metadata with Complete=%s after %ss; last seen: %s"
                          % (json_path, complete, timeout, last))
            time.sleep(0.05)

    def read_wav(self, path):
        problems = audio.header_problems(path)
        self.assertEqual(problems, [], "%s: bad WAV header" % path)
        wav = audio.read_wav(path)
        self.assertEqual((wav.channels, wav.rate, wav.sampwidth), (2, 8000, 2), path)
        self.assertEqual(wav.frames_read, wav.nframes, "header frames vs frames present")
        return wav

    def check_metadata(self, meta, call, wav_path, track, pause_behavior, start_mark=None,
                       complete=True):
        for key in ("ContactId", "InitialContactId", "InstanceId", "AgentId", "Track", "Codec",
                    "PauseBehavior", "StartTime", "EndTime", "DurationSeconds", "Pauses",
                    "AuditTrail", "Sha256", "Complete", "Counters"):
            self.assertIn(key, meta, "metadata lacks %s: %s" % (key, meta))
        self.assertEqual(
            (meta["ContactId"], meta["InitialContactId"], meta["InstanceId"], meta["AgentId"],
             meta["Track"], meta["Codec"], meta["PauseBehavior"], meta["Complete"]),
            (call.contact_id, call.initial_contact_id, "local", call.agent_id, track, call.codec,
             pause_behavior, complete))
        for key in ("Packets", "Lost", "Late", "Gated"):
            self.assertIsInstance(meta["Counters"].get(key), int, meta["Counters"])
        with open(wav_path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(meta["Sha256"].lower(), digest, "Sha256 is not the WAV's")
        start = parse_iso(meta["StartTime"])
        # filed under the UTC date of the recording's start
        expected = os.path.join(os.path.realpath(self.server.data_dir), "recordings",
                                start.strftime("%Y"), start.strftime("%m"), start.strftime("%d"),
                                call.initial_contact_id, call.contact_id + ".wav")
        self.assertEqual(os.path.realpath(wav_path), expected)
        if start_mark is not None:
            self.assertWallWithin(start, start_mark, "StartTime")
        wav = audio.read_wav(wav_path)
        self.assertAlmostEqual(meta["DurationSeconds"], wav.duration, delta=0.021,
                               msg="DurationSeconds vs the WAV")
        if complete:
            end = parse_iso(meta["EndTime"])
            self.assertGreaterEqual(end, start, meta)
        self.assertIsInstance(meta["AuditTrail"], list)
        self.assertTrue(meta["AuditTrail"], "empty AuditTrail")

    def assertWallWithin(self, when, mark, what, slack=0.05):
        """An ISO time from the server lies within the operation's call (wall clock)."""
        t = when.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertTrue(mark.wall_before - slack <= t <= mark.wall_after + slack,
                        "%s %s not within the operation's call [%s, %s]"
                        % (what, when.isoformat(), iso(mark.wall_before), iso(mark.wall_after)))

    def assertSpans(self, actual, expected, what, tol=TOL):
        msg = "%s: found %s, expected %s (tolerance %.3f s)" % (
            what, fmt_spans(actual), fmt_spans(expected), tol)
        self.assertEqual(len(actual), len(expected), msg)
        for (a0, a1), (e0, e1) in zip(actual, expected):
            self.assertLessEqual(abs(a0 - e0), tol, msg)
            self.assertLessEqual(abs(a1 - e1), tol, msg)

    def assertAbsent(self, channel, freq, what, start_s=None, end_s=None):
        level = audio.max_tone_amplitude(channel, freq, start_s=start_s, end_s=end_s)
        self.assertLess(level, ABSENT, "%s: %d Hz found at amplitude %.0f (spans %s)"
                        % (what, freq, level, fmt_spans(audio.tone_spans(channel, freq))))

    def assertSilent(self, channel, start_s, end_s, what):
        self.assertGreater(end_s, start_s, "%s: empty interval" % what)
        self.assertTrue(audio.is_silent(channel, start_s, end_s),
                        "%s [%.3f, %.3f]: %s" % (what, start_s, end_s,
                                                 audio.nonzero_report(channel, start_s, end_s)))

    def assertPausedSilent(self, wav, pause_meta, what="paused span", verify=None):
        """The metadata's pause interval holds digital silence on both channels, but
        for one packet (20 ms, the product's boundary precision) at each edge, as
        `callrec verify` checks it."""
        start, end = pause_meta["FileOffsetStart"], pause_meta["FileOffsetEnd"]
        for name, channel in (("left", wav.left), ("right", wav.right)):
            self.assertTrue(
                audio.is_silent(channel, start + PTIME, end - PTIME),
                "%s on the %s, metadata [%.4f, %.4f] less 20 ms each side: %s; whole "
                "interval: %s%s" % (what, name, start, end,
                                   audio.nonzero_report(channel, start + PTIME, end - PTIME),
                                   audio.nonzero_report(channel, start, end),
                                   ("\ncallrec verify says:\n" + verify) if verify else ""))

    def assertNoLateSender(self, call, skip_after=()):
        for leg in (call.customer, call.agent):
            late = call.lateness(leg, skip_after)
            self.assertLess(late, 0.008, "the test's %s sender fell %.1f ms behind its schedule "
                            "(machine overloaded?): expectations would be wrong" %
                            (leg.name, late * 1000))

    def verify_cli(self, wav_path):
        return subprocess.run([CLI_BIN, "verify", wav_path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=30)


def parse_iso(text):
    """ISO 8601 UTC ('...Z' or '+00:00') -> naive UTC datetime."""
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat()


def fmt_spans(spans):
    return "[" + ", ".join("%.3f-%.3f" % s for s in spans) + "]"


def bridge_spans(spans, gap):
    """`spans` with every hole of at most `gap` seconds between two of them closed."""
    out = []
    for start, end in spans:
        if out and start - out[-1][1] <= gap:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out



def find_exact(channel, samples):
    """Index of the first exact occurrence of `samples` in channel, or None."""
    first, n = samples[0], len(samples)
    for i in range(len(channel) - n + 1):
        if channel[i] == first and channel[i:i + n] == samples:
            return i
    return None


_EVENT_WORDS = re.compile(r"dtmf|digit|telephone.?event|rfc.?4733|keypress", re.I)


def log_digit_leaks(text, digits, codes):
    """Log lines that carry a telephone event: a line naming DTMF / digits /
    telephone events (in a key or a value) that also holds one of the digits sent,
    as a value equal to the digit or its RFC 4733 code (JSON lines) or as a
    standalone token (other lines); or any JSON key naming a digit or DTMF."""
    leaks = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            items = [(k, v) for k, v in _walk(record) if k != ".ts"]
            if any(re.search(r"digit|dtmf", k, re.I) for k, _ in items):
                leaks.append(line)
                continue
            named = any(_EVENT_WORDS.search(k) or
                        (isinstance(v, str) and _EVENT_WORDS.search(v)) for k, v in items)
            holds = any((isinstance(v, str) and v in digits) or
                        (isinstance(v, int) and not isinstance(v, bool) and v in codes)
                        for _, v in items)
            if named and holds:
                leaks.append(line)
        elif _EVENT_WORDS.search(line) and any(
                re.search(r"(^|[^0-9A-Za-z])%s($|[^0-9A-Za-z])" % re.escape(d), line)
                for d in digits):
            leaks.append(line)
    return leaks


def _walk(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, prefix + "." + str(k))
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, prefix)
    else:
        yield prefix, obj
