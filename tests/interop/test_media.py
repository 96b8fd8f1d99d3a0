"""Media interop: real RTP calls (G.711 over UDP on 127.0.0.1, paced in real time)
through the real callrec-server, driven by boto3, and the recordings it writes
checked by analysis: tones placed in the call are found at the offsets they were
sent at, or proven absent (paused audio), silence is digital silence, the
metadata matches, `callrec verify` agrees.

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
analysis resolution (5 ms).

The helper self-tests at the end need no server.
"""

import datetime
import hashlib
import functools
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings
import wave

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


# ---- the tests ------------------------------------------------------------------------------

class PcmuPauseSilenceTest(MediaCase):
    rtp_ports = rtp_range(0, 20)

    def test_ulaw_all_pause_silence(self):
        """µ-law, track ALL, PAUSE/RESUME in silence mode, STOP; then callrec verify."""
        call = Call(self, "mu-all", initial_contact_id="mu-root")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(175, customer, agent)
        call.at(5.5)
        start = call.op("START")
        self.assertEqual(self.server.state(call.contact_id), "RECORDING")
        call.at(14.5)
        call.set_phase("rec")
        call.at(40)
        mid = self.server.get_contact(call.contact_id).get("Recording")
        mid_time = time.perf_counter()
        call.at(64.5)
        call.set_phase("gap")
        call.at(67.5)
        pause = call.op("PAUSE", then_phase="paused")
        self.assertEqual(self.server.state(call.contact_id), "PAUSED")
        call.at(109.5)
        call.set_phase("gap")
        call.at(112.5)
        resume = call.op("RESUME")
        call.at(114.5)
        call.set_phase("rec2")
        call.at(159.5)
        call.set_phase("tail")
        call.at(165.5)
        stop = call.op("STOP")
        call.join_legs()
        self.assertNoLateSender(call)

        # /v1 while recording
        self.assertIsInstance(mid, dict, "no Recording member in GET /v1 while recording")
        self.assertGreater(mid.get("Packets", 0), 0, mid)
        self.assertTrue(0 < mid.get("WrittenSeconds", 0) <= mid_time - start.before + 0.1, mid)

        path = self.recording_path(call)
        meta = self.metadata(path)
        self.check_metadata(meta, call, path, "ALL", "silence", start_mark=start)
        wav = self.read_wav(path)
        origin = start.after
        self.assertAlmostEqual(wav.duration, stop.after - origin, delta=0.04,
                               msg="file length vs START ack .. STOP ack")

        # tones where they were sent, on their own channel only; C nowhere
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin), "A on the left")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin), "B on the right")
        self.assertEqual(len(call.customer.log.runs(TONE_A)), 2)
        self.assertAbsent(wav.right, TONE_A, "customer tone on the agent channel")
        self.assertAbsent(wav.left, TONE_B, "agent tone on the customer channel")
        self.assertGreater(call.count(call.customer, TONE_C), 30, "the test sent no tone C")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")

        # the paused span is digital silence, and the metadata says where it is
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        p = meta["Pauses"][0]
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], resume.after - origin, delta=TOL, msg=p)
        self.assertWallWithin(parse_iso(p["Start"]), pause, "Pauses[0].Start")
        self.assertWallWithin(parse_iso(p["End"]), resume, "Pauses[0].End")
        self.assertPausedSilent(wav, p)
        for name, channel in (("left", wav.left), ("right", wav.right)):
            self.assertSilent(channel, pause.after - origin + PTIME, resume.after - origin - PTIME,
                              "paused span (as acknowledged) on the %s" % name)

        # counters: nothing lost; what was paused was gated
        counters = meta["Counters"]
        self.assertEqual((counters["Lost"], counters["Late"]), (0, 0), counters)
        gated_sent = call.count(call.customer, TONE_C) + call.count(call.agent, TONE_C)
        self.assertGreaterEqual(counters["Gated"], gated_sent, counters)
        recorded = sum(call.count(leg, after=start.after, before=stop.before) -
                       call.count(leg, after=pause.before, before=resume.after)
                       for leg in (call.customer, call.agent))
        self.assertLessEqual(abs(counters["Packets"] - recorded), 8,
                             "Packets %d, about %d sent while recording" %
                             (counters["Packets"], recorded))
        final = self.server.get_contact(call.contact_id)["Recording"]
        self.assertEqual((final["Packets"], final["Lost"], final["Late"]),
                         (counters["Packets"], counters["Lost"], counters["Late"]), final)
        self.assertAlmostEqual(final["WrittenSeconds"], wav.duration, delta=0.021, msg=final)

        # callrec verify: 0 on the file, 1 on a copy with one byte flipped
        result = self.verify_cli(path)
        self.assertEqual(result.returncode, 0, "verify %s:\n%s%s" % (path, result.stdout,
                                                                    result.stderr))
        copy_dir = tempfile.mkdtemp(prefix="callrec-verify-")
        self.addCleanup(shutil.rmtree, copy_dir, True)
        copy = os.path.join(copy_dir, os.path.basename(path))
        shutil.copy(path, copy)
        shutil.copy(path[:-4] + ".json", copy[:-4] + ".json")
        self.assertEqual(self.verify_cli(copy).returncode, 0, "verify on an exact copy")
        layout = audio.riff_layout(copy)
        flip_at = layout["data_offset"] + int(0.5 * 8000) * 4  # 0.5 s in: tone A
        with open(copy, "r+b") as f:
            f.seek(flip_at)
            byte = f.read(1)
            f.seek(flip_at)
            f.write(bytes([byte[0] ^ 0x01]))
        result = self.verify_cli(copy)
        self.assertEqual(result.returncode, 1, "verify after flipping one byte:\n%s%s"
                         % (result.stdout, result.stderr))
        self.assertTrue((result.stdout + result.stderr).strip(), "no message from verify")


class PortRangeTest(MediaCase):
    rtp_ports = rtp_range(20, 8)  # two contacts' worth

    def test_port_range_exhausted(self):
        """Contacts are created until the range runs out: then 503 with an error
        body; the range held (HIGH - LOW + 1) / 4 contacts: two RTP ports each, on
        even numbers, with the odd port above each kept for its RTCP (RFC 3550 11)."""
        ports = []
        for n in range(1, 10):
            reply = self.server.v1("POST", "/v1/contacts", {
                "InstanceId": "local", "ContactId": "ports-%d" % n,
                "InitialContactId": "ports-%d" % n, "AgentId": "a", "Codec": "PCMU",
                "AgentJoined": True})
            if reply.status != 201:
                break
            endpoints = reply.json().get("Rtp")
            if endpoints is None:
                self.skipTest("callrec-server has no media side yet")
            ports += [rtp.parse_addr(endpoints["Customer"])[1],
                      rtp.parse_addr(endpoints["Agent"])[1]]
        self.assertEqual(reply.status, 503, repr(reply))
        body = reply.json()
        self.assertIsInstance(body, dict, repr(reply))
        self.assertTrue(any(isinstance(v, str) and v.strip() for v in body.values()),
                        "503 without an error message: %r" % reply)
        self.assertEqual(len(ports), len(set(ports)), "contacts share RTP ports: %s" % ports)
        self.assertTrue(all(self.rtp_ports[0] <= p <= self.rtp_ports[1] for p in ports), ports)
        low, high = self.rtp_ports
        self.assertTrue(all(p % 2 == 0 for p in ports), "RTP on odd ports: %s" % ports)
        self.assertEqual(n - 1, (high - low + 1) // 4,
                         "contacts created from --rtp-ports %d-%d before the 503 (ports given "
                         "out: %s; two even RTP ports per contact, RTCP above each)"
                         % (low, high, ports))


class SkipModeTest(MediaCase):
    rtp_ports = rtp_range(40, 20)
    pause_behavior = "skip"

    def test_skip_cuts_paused_time(self):
        call = Call(self, "skip-1")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(150, customer, agent)
        call.at(5.5)
        start = call.op("START")
        call.at(14.5)
        call.set_phase("rec")
        call.at(54.5)
        call.set_phase("gap")
        call.at(57.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(99.5)
        call.set_phase("gap")
        call.at(102.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(134.5)
        call.set_phase("tail")
        call.at(140.5)
        stop = call.op("STOP")
        call.join_legs()
        self.assertNoLateSender(call)

        path = self.recording_path(call)
        meta = self.metadata(path)
        self.check_metadata(meta, call, path, "ALL", "skip", start_mark=start)
        wav = self.read_wav(path)
        origin = start.after
        paused = resume.after - pause.after
        self.assertGreater(paused, 0.8)
        self.assertAlmostEqual(wav.duration, stop.after - origin - paused, delta=0.04,
                               msg="skip: the file is shorter by the paused time (%.3f s)"
                               % paused)
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin, pause, resume),
                         "A on the left (skip)")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin, pause, resume),
                         "B on the right (skip)")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        p = meta["Pauses"][0]
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], p["FileOffsetStart"], delta=0.0005,
                               msg="skip: a pause takes no time in the file: %s" % p)
        self.assertWallWithin(parse_iso(p["Start"]), pause, "Pauses[0].Start")
        self.assertWallWithin(parse_iso(p["End"]), resume, "Pauses[0].End")
        result = self.verify_cli(path)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_request_overrides_server_setting(self):
        """PauseBehavior "silence" on the contact beats --pause-behavior skip."""
        call = Call(self, "skip-override", pause_behavior="silence")
        call.start_legs(100, {"rec": TONE_A, "paused": TONE_C}, {"rec": TONE_B, "paused": TONE_C})
        call.at(5.5)
        start = call.op("START", then_phase="rec")
        call.at(35.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(64.5)
        call.set_phase("gap")
        call.at(67.5)
        resume = call.op("RESUME", then_phase="rec")
        call.at(90.5)
        stop = call.op("STOP")
        call.join_legs()
        path = self.recording_path(call)
        meta = self.metadata(path)
        self.assertEqual(meta["PauseBehavior"], "silence", meta)
        wav = self.read_wav(path)
        self.assertAlmostEqual(wav.duration, stop.after - start.after, delta=0.04,
                               msg="silence: the paused time stays in the file")
        self.assertSilent(wav.left, pause.after - start.after + 0.02,
                          resume.after - start.after - 0.02, "paused span (left)")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")


class PcmaTest(MediaCase):
    rtp_ports = rtp_range(60, 20)

    def test_alaw_pause_then_end(self):
        """A-law (PT 8); the paused time is digital zero (not A-law's 'silence',
        which decodes to +/-8); ending the contact finalises the recording."""
        call = Call(self, "alaw-1", codec="PCMA")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(130, customer, agent)
        call.at(5.5)
        start = call.op("START")
        call.at(9.5)
        call.set_phase("rec")
        call.at(49.5)
        call.set_phase("gap")
        call.at(52.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(79.5)
        call.set_phase("gap")
        call.at(82.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(124.5)
        call.set_phase("tail")
        call.at(127)
        path = self.recording_path(call)
        call.join_legs()
        ended = time.perf_counter()
        call.end()
        meta = self.metadata(path)
        self.check_metadata(meta, call, path, "ALL", "silence", start_mark=start)
        self.assertEqual(meta["Codec"], "PCMA")
        wav = self.read_wav(path)
        origin = start.after
        # The file begins when the START is durable, between the request
        # (start.before) and its answer (origin); it ends with the END.
        self.assertGreaterEqual(wav.duration, ended - origin - 0.1, "duration vs the legs' end")
        self.assertLessEqual(wav.duration, time.perf_counter() - start.before,
                             "duration vs the time since the START was sent")
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin), "A (A-law) left")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin), "B (A-law) right")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")
        self.assertAbsent(wav.right, TONE_A, "customer tone on the agent channel")
        # A-law silence decodes to +/-8: a recording of the "gap" packets is not zero,
        # the paused span must be.
        p = meta["Pauses"][0]
        verify = self.verify_cli(path)
        self.assertPausedSilent(wav, p, "paused (A-law)", verify.stdout + verify.stderr)
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], resume.after - origin, delta=TOL, msg=p)
        pre_pause = call.offset(50, origin)
        self.assertFalse(audio.is_silent(wav.left, pre_pause + 0.005, pre_pause + 0.035),
                         "A-law silence packets before the pause were recorded as digital zero "
                         "(decoded as µ-law, or dropped?)")
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)


class NetworkImpairmentTest(MediaCase):
    rtp_ports = rtp_range(80, 20)

    def test_reorder_loss_duplicates(self):
        """Pairs swapped within 60 ms, 10 % lost, some duplicated: the tones are where
        they were sent, every packet's audio lies where its timestamp says, and the
        counters show the loss."""
        call = Call(self, "net-1")
        drops_c = rtp.loss_slots(20, 125, every=10, phase=7)
        drops_a = rtp.loss_slots(20, 125, every=10, phase=3)
        # disjoint pairs, 20 or 40 ms apart; (64, 65) and (79, 80) straddle tone edges
        swaps = (rtp.pair_swaps(20, 125, every=10, distance=2, phase=1) +
                 rtp.pair_swaps(20, 125, every=10, distance=1, phase=4) +
                 rtp.pair_swaps(20, 125, every=10, distance=2, phase=6) +
                 rtp.pair_swaps(20, 125, every=10, distance=1, phase=9))
        self.assertIn((64, 65), swaps)
        self.assertIn((79, 80), swaps)
        dups = {i for i in range(20, 125) if i % 10 == 5}
        signature = (lambda slot: 5000 + 97 * (slot % 31))  # every slot's samples unique
        customer_kw = {"drop": drops_c, "swaps": swaps, "duplicate": dups,
                       "amplitude_fn": signature}
        agent_kw = {"drop": drops_a, "swaps": swaps, "duplicate": dups}
        call.start_legs(145, {"rec": TONE_A}, {"rec": TONE_B}, customer_kw, agent_kw)
        call.at(5.5)
        start = call.op("START")
        call.at(14.5)
        call.set_phase("rec")
        call.at(64.5)
        call.set_phase("gap")
        call.at(79.5)
        call.set_phase("rec")
        call.at(129.5)
        call.set_phase("tail")
        call.at(138.5)
        stop = call.op("STOP")
        call.join_legs()
        path = self.recording_path(call)
        meta = self.metadata(path)
        wav = self.read_wav(path)
        origin = start.after

        # expected_spans joins runs of tone broken by up to 3 slots (lost, or a swapped
        # slot that left after the phase changed and so carries silence: 64 is sent in
        # 65's place, 10 ms after the change at 64.5, and 63 is lost), so the tones
        # found are joined across the same holes. Which side of the change slot 64
        # falls on is a race in the sender (under the sanitizers it often falls after);
        # where each packet's audio lies is checked exactly below.
        hole = 3 * PTIME + 0.005
        self.assertSpans(bridge_spans(audio.tone_spans(wav.left, TONE_A), hole),
                         call.expected_spans(call.customer, TONE_A, origin), "A with impairments")
        self.assertSpans(bridge_spans(audio.tone_spans(wav.right, TONE_B), hole),
                         call.expected_spans(call.agent, TONE_B, origin), "B with impairments")

        # placement by timestamp: every received slot's exact samples at base + slot * 160
        decoded = {}
        for slot in call.customer.log.slots_with(TONE_A):
            samples = rtp.tone_packet(TONE_A, slot, signature(slot))
            decoded[slot] = rtp.decode(rtp.encode(samples, "PCMU"), "PCMU")
        reference = min(s for s in decoded if s + 1 in decoded and s not in dict(swaps))
        base = find_exact(wav.left, decoded[reference])
        self.assertIsNotNone(base, "slot %d's audio is not in the file" % reference)
        base -= reference * rtp.SAMPLES_PER_PACKET
        misplaced = [slot for slot, samples in sorted(decoded.items())
                     if wav.left[base + slot * 160: base + slot * 160 + 160] != samples]
        self.assertEqual(misplaced, [], "slots whose audio is not where their timestamp puts it "
                         "(swapped: %s)" % sorted({s for pair in swaps for s in pair}))
        for slot in sorted(drops_c):
            if call.slot_time(slot) - origin > 0.05:
                at = base + slot * 160
                self.assertNotEqual(wav.left[at:at + 160], decoded.get(slot - 1),
                                    "a lost slot holds its neighbour's audio exactly")

        counters = meta["Counters"]
        self.assertLessEqual(counters["Late"], 2 * (len(swaps) + len(dups)), counters)
        sent = sum(call.count(leg, after=start.after, before=stop.before)
                   for leg in (call.customer, call.agent))
        # (whether a duplicate counts as a packet is not specified: either way)
        self.assertTrue(sent - 8 <= counters["Packets"] <= sent + 2 * len(dups) + 8,
                        "Packets %s vs %d distinct packets sent while recording (+%d "
                        "duplicates)" % (counters, sent, 2 * len(dups)))
        final = self.server.get_contact(call.contact_id)["Recording"]
        self.assertEqual((final["Packets"], final["Lost"]), (counters["Packets"],
                                                             counters["Lost"]), final)
        # every sequence number never sent is lost, duplicates of others notwithstanding
        dropped = len(drops_c) + len(drops_a)
        self.assertEqual(counters["Lost"], dropped, "Lost vs %d packets never sent (and %d "
                         "duplicated): %s" % (dropped, 2 * len(dups), counters))


def find_exact(channel, samples):
    """Index of the first exact occurrence of `samples` in channel, or None."""
    first, n = samples[0], len(samples)
    for i in range(len(channel) - n + 1):
        if channel[i] == first and channel[i:i + n] == samples:
            return i
    return None


class PauseMidBurstTest(MediaCase):
    rtp_ports = rtp_range(100, 20)

    def test_pause_from_the_sender_hook(self):
        """PAUSE made from the customer sender's own thread at slot 60 while the agent
        keeps sending: the customer's slot 60 (timestamped before the pause, sent
        only after the ack) and everything after carry tone C; none of it may be in
        the file."""
        call = Call(self, "burst-1")
        marks = {}

        def pause_hook():
            marks["pause"] = call.op("PAUSE", then_phase="paused")

        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(150, customer, agent, customer_kw={"actions": {60: pause_hook}})
        call.at(3.5)
        start = call.op("START", then_phase="rec")
        call.at(99.5)
        call.set_phase("gap")
        call.at(102.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(139.5)
        call.set_phase("tail")
        call.at(145.5)
        call.op("STOP")
        call.join_legs()
        pause = marks["pause"]
        self.assertNoLateSender(call, skip_after=(60,))
        self.assertGreater(call.customer.log.sent_at(60), pause.after)
        self.assertEqual([r[5] for r in call.customer.log.records if r[0] == 60], [TONE_C],
                         "test set-up: slot 60 should carry C, sent after the PAUSE ack")

        path = self.recording_path(call)
        meta = self.metadata(path)
        wav = self.read_wav(path)
        origin = start.after
        self.assertAbsent(wav.left, TONE_C, "customer audio sent after the PAUSE ack")
        self.assertAbsent(wav.right, TONE_C, "agent audio sent after the PAUSE ack")
        spans = audio.tone_spans(wav.left, TONE_A)
        self.assertEqual(len(spans), 2, "A before and after the pause: %s" % fmt_spans(spans))
        # recording ran up to the pause: A ends between the request and the ack
        self.assertGreaterEqual(spans[0][1], pause.before - origin - TOL, fmt_spans(spans))
        self.assertLessEqual(spans[0][1], pause.after - origin + TOL, fmt_spans(spans))
        self.assertAlmostEqual(spans[1][0], call.offset(call.customer.log.runs(TONE_A)[-1][0],
                                                        origin), delta=TOL)
        b_spans = audio.tone_spans(wav.right, TONE_B)
        self.assertEqual(len(b_spans), 2, fmt_spans(b_spans))
        self.assertGreaterEqual(b_spans[0][1], pause.before - origin - TOL, fmt_spans(b_spans))
        self.assertLessEqual(b_spans[0][1], pause.after - origin + TOL, fmt_spans(b_spans))
        p = meta["Pauses"][0]
        verify = self.verify_cli(path)
        self.assertPausedSilent(wav, p, verify=verify.stdout + verify.stderr)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)


class TracksTest(MediaCase):
    rtp_ports = rtp_range(120, 20)

    def test_to_agent_and_from_agent(self):
        to_agent = Call(self, "trk-to")
        from_agent = Call(self, "trk-from", initial_contact_id="trk-root")
        to_agent.start_legs(90, {"rec": TONE_A}, {"rec": TONE_B})
        from_agent.start_legs(90, {"rec": TONE_A}, {"rec": TONE_B}, t0=to_agent.t0)
        to_agent.at(5.5)
        start_to = to_agent.op("START", track="TO_AGENT", then_phase="rec")
        start_from = from_agent.op("START", track="FROM_AGENT", then_phase="rec")
        to_agent.at(75)
        to_agent.set_phase("tail")
        from_agent.set_phase("tail")
        to_agent.at(80.5)
        to_agent.op("STOP")
        from_agent.op("STOP")
        to_agent.join_legs()
        from_agent.join_legs()
        for call, track, start, kept, dropped in (
                (to_agent, "TO_AGENT", start_to, "left", "right"),
                (from_agent, "FROM_AGENT", start_from, "right", "left")):
            with self.subTest(track=track):
                path = self.recording_path(call)
                meta = self.metadata(path)
                self.check_metadata(meta, call, path, track, "silence", start_mark=start)
                wav = self.read_wav(path)
                channels = {"left": wav.left, "right": wav.right}
                self.assertSilent(channels[dropped], 0, wav.duration,
                                  "%s: the %s channel (track not recorded)" % (track, dropped))
                leg, tone = ((call.customer, TONE_A) if kept == "left" else (call.agent, TONE_B))
                self.assertSpans(audio.tone_spans(channels[kept], tone),
                                 call.expected_spans(leg, tone, start.after),
                                 "%s: %d Hz on the %s" % (track, tone, kept))


class AgentNotJoinedTest(MediaCase):
    rtp_ports = rtp_range(140, 20)

    def test_waiting_for_agent(self):
        call = Call(self, "wait-1", agent_joined=False)
        customer = {"waiting": TONE_A, "joined": TONE_D}
        agent = {"joined": TONE_B}
        call.start_legs(120, customer, agent, agent_kw={"first": 50})
        call.at(5.5)
        call.op("START", then_phase="waiting")
        self.assertEqual(self.server.state(call.contact_id), "WAITING_FOR_AGENT")
        call.at(40)
        self.assertEqual(self.server.state(call.contact_id), "WAITING_FOR_AGENT",
                         "customer packets alone must not start the recording")
        call.at(49.5)
        call.set_phase("joined")
        call.at(55)
        state = self.server.state(call.contact_id)
        call.at(110)
        call.set_phase("tail")
        call.at(113.5)
        stop = call.op("STOP")
        call.join_legs()
        self.assertEqual(state, "RECORDING", "state after the agent's first packet")
        self.assertEqual(call.agent.log.records[0][0], 50)
        origin = call.agent.log.records[0][4]  # the agent's first packet
        path = self.recording_path(call)
        self.metadata(path)
        wav = self.read_wav(path)
        self.assertGreater(call.count(call.customer, TONE_A), 30, "test sent no waiting audio")
        self.assertAbsent(wav.left, TONE_A, "customer audio from before the agent's first packet")
        self.assertSpans(audio.tone_spans(wav.left, TONE_D),
                         call.expected_spans(call.customer, TONE_D, origin), "D (after join)")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin), "B (agent)")
        self.assertAlmostEqual(wav.duration, stop.after - origin, delta=0.04,
                               msg="recording starts at the agent's first packet")


class CrashTest(MediaCase):
    rtp_ports = rtp_range(160, 20)

    def test_kill9_mid_call(self):
        call = Call(self, "crash-1")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(155, customer, agent)
        call.at(5.5)
        start = call.op("START", then_phase="rec")
        call.at(59.5)
        call.set_phase("gap")
        call.at(62.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(84.5)
        call.set_phase("gap")
        call.at(87.5)
        resume = call.op("RESUME", then_phase="rec2")
        path = self.recording_path(call)
        call.join_legs()
        killed = time.perf_counter()
        self.assertTrue(call.offset(154, start.after) > 2.9, "sent ~3 s of recording")
        self.server.kill9()
        self.server.start()
        meta = self.metadata(path, complete=False)
        self.assertEqual(audio.header_problems(path), [],
                         "the WAV was not repaired after kill -9")
        wav = self.read_wav(path)
        origin = start.after
        self.assertGreaterEqual(wav.duration, 1.5, "kept less than 1.5 s of %.2f s"
                                % (killed - origin))
        self.assertLessEqual(wav.duration, killed - origin + 0.05)
        expected = [(s, min(e, wav.duration))
                    for s, e in call.expected_spans(call.customer, TONE_A, origin)
                    if s < wav.duration - 0.1]
        found = audio.tone_spans(wav.left, TONE_A)
        # the last span may be cut anywhere by the crash: compare its start only
        self.assertSpans(found[:-1], expected[:-1], "A before the kill")
        self.assertAlmostEqual(found[-1][0], expected[-1][0], delta=TOL)
        self.assertAbsent(wav.left, TONE_C, "paused audio (left), after repair")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right), after repair")
        self.assertEqual(meta["Complete"], False)
        self.assertAlmostEqual(meta["DurationSeconds"], wav.duration, delta=0.021)
        with open(path, "rb") as f:
            self.assertEqual(meta.get("Sha256", "").lower(), hashlib.sha256(f.read()).hexdigest(),
                             "Sha256 of the repaired WAV")
        self.assertEqual(len(meta["Pauses"]), 1, "the pause before the crash: %s" % meta["Pauses"])
        p = meta["Pauses"][0]
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], resume.after - origin, delta=TOL, msg=p)
        result = self.verify_cli(path)
        self.assertEqual(result.returncode, 0, "verify after repair:\n" + result.stdout +
                         result.stderr)


class TelephoneEventTest(MediaCase):
    rtp_ports = rtp_range(180, 20)
    log_level = "debug"

    def test_rfc4733_events_not_recorded_nor_logged(self):
        call = Call(self, "tev-1")
        # events in place of audio, surrounded by silence on their leg: the file must
        # hold digital silence there (no tone, no payload bytes decoded as audio)
        customer_events = {50: rtp.Event("5", slots=8), 90: rtp.Event("#", slots=8)}
        agent_events = {51: rtp.Event("9", slots=8), 92: rtp.Event("*", slots=6)}
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        # the agent's tone kept far from the DTMF frequencies (1400 Hz is near 1336/1477)
        agent = {"rec": TONE_E, "rec2": TONE_E, "paused": TONE_C}
        call.start_legs(155, customer, agent, customer_kw={"events": customer_events},
                        agent_kw={"events": agent_events})
        call.at(5.5)
        start = call.op("START")
        call.at(14.5)
        call.set_phase("rec")
        call.at(44.5)
        call.set_phase("quiet")
        call.at(64.5)
        call.set_phase("rec")
        call.at(79.5)
        call.set_phase("gap")
        call.at(82.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(109.5)
        call.set_phase("gap")
        call.at(112.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(149.5)
        call.set_phase("tail")
        call.at(152.5)
        call.op("STOP")
        call.join_legs()
        path = self.recording_path(call)
        meta = self.metadata(path)
        wav = self.read_wav(path)
        origin = start.after
        for leg in (call.customer, call.agent):
            labels = [r[5] for r in leg.log.records if str(r[5]).startswith("event:")]
            self.assertGreaterEqual(len(labels), 12, "test set-up: events sent on %s" % leg.name)
            self.assertTrue(any(call.slot_time(r[0]) > pause.after and
                                str(r[5]).startswith("event:") for r in leg.log.records))

        quiet = (call.offset(46, origin), call.offset(64, origin))
        for name, channel in (("left", wav.left), ("right", wav.right)):
            self.assertSilent(channel, quiet[0] + 0.01, quiet[1] - 0.01,
                              "%s: RFC 4733 events while recording, amid silence" % name)
            self.assertEqual(audio.dtmf_windows(channel, rtp.DTMF_FREQS.values()), [],
                             "DTMF tones in the %s channel" % name)
            self.assertAbsent(channel, TONE_C, "paused audio (%s)" % name)
        self.assertPausedSilent(wav, meta["Pauses"][0])
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin), "A around events")
        self.assertSpans(audio.tone_spans(wav.right, TONE_E),
                         call.expected_spans(call.agent, TONE_E, origin), "E around events")

        # never logged: no line of the server's output carries a digit event
        digits = {e.digit for e in list(customer_events.values()) + list(agent_events.values())}
        codes = {rtp.DTMF_EVENTS[d] for d in digits}
        self.assertEqual(log_digit_leaks(self.server.stderr_text() + self.server.stdout_text(),
                                         digits, codes), [])
        # The metadata says which DTMF policy ran and counts digits, never which:
        # nothing but those counts and (empty, no in-band digits) spans.
        self.assertEqual(meta["MaskedSpans"], [])
        self.assertEqual(meta["Counters"]["DtmfDigits"], 0)
        counted = dict(meta, Counters={k: v for k, v in meta["Counters"].items()
                                       if not k.startswith("Dtmf")})
        for key in ("DtmfPolicy", "MaskedSpans"):
            counted.pop(key)
        self.assertNotIn("dtmf", json.dumps(counted).lower(), "DTMF in the recording metadata")
        # event packets are received: their sequence numbers are not losses
        self.assertEqual(meta["Counters"]["Lost"], 0,
                         "event packets are received packets, not losses: %s" % meta["Counters"])


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


# ---- the helpers' own tests (no server) -----------------------------------------------------

class G711SelfTest(unittest.TestCase):

    def test_known_values(self):
        self.assertEqual(rtp.linear_to_ulaw(0), 0xFF)
        self.assertEqual(rtp.linear_to_alaw(0), 0xD5)
        self.assertEqual(rtp.ulaw_to_linear(0xFF), 0)
        self.assertEqual(rtp.ulaw_to_linear(0x7F), 0)
        self.assertEqual(rtp.ulaw_to_linear(0x00), -32124)
        self.assertEqual(rtp.ulaw_to_linear(0x80), 32124)
        self.assertEqual(rtp.alaw_to_linear(0xD5), 8)
        self.assertEqual(rtp.alaw_to_linear(0x55), -8)
        self.assertEqual(rtp.alaw_to_linear(0xAA), 32256)
        self.assertEqual(rtp.alaw_to_linear(0x2A), -32256)
        self.assertEqual(rtp.linear_to_ulaw(32767), 0x80)
        self.assertEqual(rtp.linear_to_ulaw(-32768), 0x00)
        self.assertEqual(rtp.linear_to_alaw(32767), 0xAA)
        self.assertEqual(rtp.linear_to_alaw(-32768), 0x2A)

    def test_against_audioop(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                import audioop
            except ImportError:
                self.skipTest("no audioop (Python >= 3.13)")
        pcm = struct.pack("<%dh" % 65536, *range(-32768, 32768))
        for codec, to_law, from_law in (("PCMU", audioop.lin2ulaw, audioop.ulaw2lin),
                                        ("PCMA", audioop.lin2alaw, audioop.alaw2lin)):
            with self.subTest(codec=codec):
                self.assertEqual(rtp.encode(range(-32768, 32768), codec), to_law(pcm, 2))
                all_codes = bytes(range(256))
                theirs = struct.unpack("<256h", from_law(all_codes, 2))
                self.assertEqual(tuple(rtp.decode(all_codes, codec)), theirs)

    def test_round_trip_error_is_a_quantisation_step(self):
        for codec in ("PCMU", "PCMA"):
            for x in range(-32768, 32768, 7):
                y = rtp.decode(rtp.encode([x], codec), codec)[0]
                self.assertLessEqual(abs(x - y), max(16, abs(x) // 16 + 8), (codec, x, y))
                # decode(encode(decode(c))) is stable
                self.assertEqual(rtp.decode(rtp.encode([y], codec), codec)[0], y)


class RtpSelfTest(unittest.TestCase):

    def test_packet_layout(self):
        data = rtp.rtp_packet(0, 0x1234, 0xDEADBEEF, 0x01020304, b"\xff" * 160, marker=True)
        self.assertEqual(data[:12], bytes.fromhex("80801234deadbeef01020304"))
        self.assertEqual(len(data), 172)
        self.assertEqual(rtp.parse_rtp(data), (0, True, 0x1234, 0xDEADBEEF, 0x01020304,
                                               b"\xff" * 160))
        wrapped = rtp.rtp_packet(8, 0x1FFFF, 0x1_0000_0005, 7, b"")
        self.assertEqual(rtp.parse_rtp(wrapped)[:5], (8, False, 0xFFFF, 5, 7))

    def test_event_packets(self):
        event = rtp.Event("#", slots=6, volume=10)
        packets = [rtp.parse_rtp(event.packet(k, 100 + k, 5000, 9)) for k in range(6)]
        self.assertEqual([p[0] for p in packets], [101] * 6)
        self.assertEqual([p[1] for p in packets], [True] + [False] * 5)
        self.assertEqual({p[3] for p in packets}, {5000})
        fields = [struct.unpack("!BBH", p[5]) for p in packets]
        self.assertEqual([f[0] for f in fields], [11] * 6)
        self.assertEqual([bool(f[1] & 0x80) for f in fields], [False] * 3 + [True] * 3)
        self.assertEqual([f[1] & 0x3F for f in fields], [10] * 6)
        self.assertEqual([f[2] for f in fields], [160, 320, 480, 480, 480, 480])

    def _receive(self, sock, count, timeout=2.0):
        sock.settimeout(timeout)
        out = []
        for _ in range(count):
            data, _ = sock.recvfrom(2048)
            out.append((time.perf_counter(), rtp.parse_rtp(data)))
        sock.settimeout(0.05)
        try:
            sock.recvfrom(2048)
            self.fail("more datagrams than expected")
        except OSError:
            pass
        return out

    def test_stream_impairments(self):
        rx = rtp.udp_socket()
        tx = rtp.udp_socket()
        self.addCleanup(rx.close)
        self.addCleanup(tx.close)
        calls = []
        events = {10: rtp.Event("1", slots=4)}
        log = rtp.send_stream(tx, rx.getsockname(), rtp.tone_fn(TONE_A), "PCMA", 65530, 4294967000,
                              0xABCDEF01, 20, pace=False, drop={3}, duplicate={5},
                              swaps=[(6, 8)], events=events,
                              actions={7: lambda: calls.append("action")})
        got = [p for _, p in self._receive(rx, 20)]  # 20 - 1 dropped + 1 duplicate
        seqs = [p[2] for p in got]
        expected_slots = [0, 1, 2, 4, 5, 5, 8, 7, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
        self.assertEqual(seqs, [(65530 + s) & 0xFFFF for s in expected_slots])
        for slot, p in zip(expected_slots, got):
            if 10 <= slot < 14:
                self.assertEqual((p[0], p[3]), (101, (4294967000 + 1600) & 0xFFFFFFFF))
            else:
                self.assertEqual(p[0], 8)
                self.assertEqual(p[3], (4294967000 + 160 * slot) & 0xFFFFFFFF)
                self.assertEqual(p[5], rtp.encode(rtp.tone_packet(TONE_A, slot), "PCMA"))
            self.assertEqual(p[4], 0xABCDEF01)
        self.assertEqual(calls, ["action"])
        self.assertEqual(sorted({r[0] for r in log.records}), [s for s in range(20) if s != 3])
        self.assertEqual(log.slots_with("event:1"), [10, 11, 12, 13])
        self.assertEqual(sorted({r[5] for r in log.records if r[5]}), ["event:1"])

    def test_pacing_does_not_drift(self):
        rx = rtp.udp_socket()
        self.addCleanup(rx.close)
        leg = rtp.Leg(rx.getsockname(), "PCMU", rtp.tone_fn(None), 40, name="pace",
                      t0=time.perf_counter() + 0.02)
        leg.start()
        got = self._receive(rx, 40, timeout=3)
        leg.join(5)
        t0 = leg.log.t0
        deviations = [when - (t0 + i * PTIME) for i, (when, _) in enumerate(got)]
        # Drift would make every later packet late; a busy machine only delays a few
        # (scheduling hiccups of a few ms, not carried over to the next packets).
        magnitudes = sorted(abs(d) for d in deviations)
        self.assertLess(magnitudes[len(magnitudes) // 2], 0.004, deviations)
        self.assertLess(min(abs(d) for d in deviations[-10:]), 0.002, deviations)
        self.assertLess(magnitudes[-1], 0.05, deviations)
        self.assertEqual([p[2] for _, p in got], [(leg.start_seq + i) & 0xFFFF for i in range(40)])

    def test_hook_blocks_then_catches_up(self):
        rx = rtp.udp_socket()
        tx = rtp.udp_socket()
        self.addCleanup(rx.close)
        self.addCleanup(tx.close)
        state = {"freq": TONE_A}

        def hook():
            time.sleep(0.05)
            state["freq"] = TONE_C

        log = rtp.send_stream(tx, rx.getsockname(), lambda s: rtp.tone_packet(state["freq"], s),
                              "PCMU", 0, 0, 1, 10, actions={4: hook},
                              label_fn=lambda s: state["freq"])
        self._receive(rx, 10)
        self.assertEqual([r[5] for r in log.records], [TONE_A] * 4 + [TONE_C] * 6)
        late = log.sent_at(4) - (log.t0 + 4 * PTIME)
        self.assertGreater(late, 0.04, "the hook's slot is sent after the hook")
        self.assertLess(log.sent_at(9) - (log.t0 + 9 * PTIME), 0.004, "caught up")


class AudioSelfTest(unittest.TestCase):

    def write_wav(self, left, right, codec="PCMU"):
        """Encodes both channels through G.711 and writes a stereo WAV."""
        left = rtp.decode(rtp.encode(left, codec), codec)
        right = rtp.decode(rtp.encode(right, codec), codec)
        fd, path = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        self.addCleanup(os.remove, path)
        frames = struct.pack("<%dh" % (2 * len(left)),
                             *[v for pair in zip(left, right) for v in pair])
        with wave.open(path, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(frames)
        return path

    @staticmethod
    def signal(total_s, segments):
        """[(start_s, end_s, freq)] -> samples, phase continuous from time 0."""
        out = [0] * int(total_s * 8000)
        for start, end, freq in segments:
            for n in range(int(start * 8000), int(end * 8000)):
                out[n] = int(round(AMPLITUDE * math.sin(2 * math.pi * freq * n / 8000)))
        return out

    def test_tone_round_trip(self):
        left = self.signal(3.0, [(0.0, 0.8, TONE_A), (1.337, 2.5, TONE_A), (2.5, 2.9, TONE_C)])
        right = self.signal(3.0, [(0.213, 1.1, TONE_B)])
        for codec in ("PCMU", "PCMA"):
            with self.subTest(codec=codec):
                wav = audio.read_wav(self.write_wav(left, right, codec))
                self.assertEqual((wav.channels, wav.rate, wav.nframes), (2, 8000, 24000))
                self.assertAlmostEqual(wav.duration, 3.0)
                tol = audio.RESOLUTION + 0.001
                for found, expected in (
                        (audio.tone_spans(wav.left, TONE_A), [(0.0, 0.8), (1.337, 2.5)]),
                        (audio.tone_spans(wav.left, TONE_C), [(2.5, 2.9)]),
                        (audio.tone_spans(wav.right, TONE_B), [(0.213, 1.1)])):
                    self.assertEqual(len(found), len(expected), (found, expected))
                    for (a, b), (c, d) in zip(found, expected):
                        self.assertLessEqual(abs(a - c), tol, (found, expected))
                        self.assertLessEqual(abs(b - d), tol, (found, expected))
                self.assertEqual(audio.tone_spans(wav.right, TONE_A), [])
                self.assertLess(audio.max_tone_amplitude(wav.right, TONE_A), ABSENT / 4)
                self.assertLess(audio.max_tone_amplitude(wav.left, TONE_B), ABSENT / 4)
                self.assertLess(audio.max_tone_amplitude(wav.left, TONE_C, start_s=0, end_s=2.45), ABSENT / 4)
                self.assertGreater(audio.max_tone_amplitude(wav.left, TONE_C), 0.9 * AMPLITUDE)

    def test_short_fragment_is_detected_as_present(self):
        left = self.signal(1.0, [(0.4037, 0.4237, TONE_C)])  # 20 ms at an odd offset
        wav = audio.read_wav(self.write_wav(left, [0] * 8000))
        self.assertGreater(audio.max_tone_amplitude(wav.left, TONE_C), ABSENT * 4)

    def test_lost_packet_is_bridged_and_silence(self):
        left = self.signal(2.0, [(0.1, 1.9, TONE_A)])
        for n in range(8000, 8160):  # one lost packet, zero-filled
            left[n] = 0
        wav = audio.read_wav(self.write_wav(left, [0] * 16000))
        spans = audio.tone_spans(wav.left, TONE_A)
        self.assertEqual(len(spans), 1, spans)
        self.assertTrue(audio.is_silent(wav.left, 1.0, 1.02))
        self.assertTrue(audio.is_silent(wav.right, 0, 2.0))
        self.assertFalse(audio.is_silent(wav.left, 0.999, 1.02))
        self.assertFalse(audio.is_silent(wav.left, 1.0, 1.021))
        self.assertEqual(len(audio.tone_spans(wav.left, TONE_A, merge_gap=0.0)), 2)

    def test_dtmf_detection(self):
        lo, hi = rtp.DTMF_FREQS["5"]
        dtmf = [a + b for a, b in zip(self.signal(1.0, [(0.3, 0.4, lo)]),
                                      self.signal(1.0, [(0.3, 0.4, hi)]))]
        dtmf = [max(-32768, min(32767, v // 2)) for v in dtmf]
        wav = audio.read_wav(self.write_wav(dtmf, self.signal(1.0, [(0.0, 1.0, TONE_B)])))
        hits = audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values())
        self.assertTrue(hits and 0.27 <= hits[0] <= 0.32 and hits[-1] <= 0.4, hits)
        self.assertEqual(audio.dtmf_windows(wav.right, rtp.DTMF_FREQS.values()), [])
        tones = self.write_wav(self.signal(1.0, [(0.1, 0.5, TONE_A), (0.5, 0.9, TONE_C)]),
                               self.signal(1.0, [(0.2, 0.7, TONE_B)]))
        for channel in audio.read_wav(tones).channel_data:
            self.assertEqual(audio.dtmf_windows(channel, rtp.DTMF_FREQS.values()), [])

    def test_header_checks(self):
        path = self.write_wav([0] * 800, [0] * 800)
        self.assertEqual(audio.header_problems(path), [])
        with open(path, "ab") as f:
            f.write(b"\x01\x00" * 40)  # 20 frames the header does not cover
        problems = audio.header_problems(path)
        self.assertEqual(len(problems), 2, problems)
        with open(path, "r+b") as f:
            f.write(b"RIFX")
        self.assertEqual(audio.header_problems(path), ["not a RIFF/WAVE file"])

    def test_log_leak_finder(self):
        digits, codes = {"5", "#"}, {5, 11}
        clean = ['{"level":"debug","msg":"rtp packet","seq":5,"pt":101}',
                 '{"level":"info","event":"recording.started","contact":"dtmf-5"}',
                 '{"level":"debug","event":"rtp.telephone_event_ignored","count":3}',
                 'DTMF-less plain line 1234']
        self.assertEqual(log_digit_leaks("\n".join(clean), digits, codes), [])
        for leak in ('{"level":"debug","msg":"telephone event","code":5}',
                     '{"level":"debug","event":"dtmf","value":"#"}',
                     '{"level":"debug","msg":"got it","digit":"x"}',
                     '{"msg":"x","telephone_event":{"code":11}}',
                     'plain text: telephone-event # received'):
            self.assertEqual(log_digit_leaks(leak, digits, codes), [leak])


if __name__ == "__main__":
    unittest.main()
