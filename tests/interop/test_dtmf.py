"""Card digits keyed in-band never reach a recording (--dtmf-policy mask, the
default): a 16-digit card number sent as DTMF tones in the customer's G.711
audio, between a 600 Hz tone before and after, over a SIPREC call. The WAV is
checked with the test's own Goertzel scan (audio.dtmf_windows, not callrec's
detector): no digit is detectable, the tones before and after are whole at
their offsets, the metadata lists a masked span per digit. Under
--dtmf-policy record the same digits are found in the file, so the check can
fail.
"""

import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave

import audio
import rtp
import sipclient
from harness import BUILD_DIR, CLI_BIN, SipServerCase

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
CARD = "4111111111111111"
TONE = 600
DBM0 = 22700  # amplitude of a 0 dBm0 sine in 16-bit linear
CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def card_schedule(start_slot, digit_slots=4, gap_slots=4, levels=(-10, -25)):
    """{slot: (digit, amplitude)} for the card number from start_slot on: each digit
    80 ms of tone then 80 ms of silence, the levels alternating; and the slot after."""
    out = {}
    slot = start_slot
    for n, digit in enumerate(CARD):
        amplitude = DBM0 * 10 ** (levels[n % len(levels)] / 20.0)
        for k in range(digit_slots):
            out[slot + k] = (digit, amplitude)
        for k in range(gap_slots):
            out[slot + digit_slots + k] = (None, 0)
        slot += digit_slots + gap_slots
    return out, slot


def dtmf_samples(digit, amplitude, slot):
    lo, hi = rtp.DTMF_FREQS[digit]
    base = slot * 160
    return [int(amplitude * (math.sin(2 * math.pi * lo * (base + i) / 8000.0) +
                             math.sin(2 * math.pi * hi * (base + i) / 8000.0)))
            for i in range(160)]


def ramped(samples, slot, fade_in, fade_out):
    """A tone faded in over 10 ms at the slots of `fade_in` and out at those of
    `fade_out`: an abrupt edge splatters over the whole band, which the test's
    own scan would take for DTMF."""
    ramp = 80
    out = list(samples)
    if slot in fade_in:
        out[:ramp] = [int(v * i / ramp) for i, v in enumerate(out[:ramp])]
    if slot in fade_out:
        out[-ramp:] = [int(v * (ramp - 1 - i) / ramp) for i, v in enumerate(out[-ramp:])]
    return out


class DtmfCase(SipServerCase):
    server_name = "dtmf"
    extra = ("--auto-record", "ALL")

    def call_with_card_number(self, contact_id, tail=50, during=None, rfc4733=False):
        """The call: 1 s of tone, the card number, `tail` slots of tone. `during`,
        if given, is {seconds after the media starts: callable} run meanwhile.
        `rfc4733`: the digits as telephone-events in place of the audio (silence
        in-band), as an SBC that strips in-band DTMF sends them."""
        # Events as many SBCs send them: under a dynamic payload type the offer names.
        sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")],
                                   codecs=(0, 96) if rfc4733 else (0,))
        meta = sipclient.siprec_metadata("sess-" + contact_id, "grp-" + contact_id, [
            (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]), (AGENT[0], AGENT[1], AGENT[2], ["2"])])
        body, content_type = sipclient.multipart(sdp, meta)
        client = self.track(sipclient.SipClient(self.server.sip_port))
        response = client.invite(body, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: " + contact_id))
        self.assertEqual(response.status, 200, response.header("Warning"))
        ports, _, _ = sipclient.answered_ports(response.body)
        self.wait_state(contact_id, "RECORDING")
        # 1 s of tone, the card number (2.56 s), 1 s of tone.
        schedule, after = card_schedule(50)
        total = after + tail

        events = {}
        if rfc4733:
            for slot, (digit, _) in schedule.items():
                if digit and (slot - 1 not in schedule or schedule[slot - 1][0] is None):
                    events[slot] = rtp.Event(digit, slots=4, payload_type=96)

        def customer(slot):
            if slot in schedule:
                digit, amplitude = schedule[slot]
                if rfc4733:
                    return [0] * 160
                return dtmf_samples(digit, amplitude, slot) if digit else [0] * 160
            return ramped(rtp.tone_packet(TONE, slot), slot, (0, after), (49, total - 1))
        t0 = time.perf_counter() + 0.05
        legs = [rtp.Leg(("127.0.0.1", ports["1"]), "PCMU", customer, total, name="customer",
                        t0=t0, **({"events": events} if events else {})),
                rtp.Leg(("127.0.0.1", ports["2"]), "PCMU",
                        lambda slot: ramped(rtp.tone_packet(1400, slot), slot, (0,),
                                            (total - 1,)),
                        total, name="agent", t0=t0)]
        timers = [threading.Timer(max(0.0, t0 - time.perf_counter() + at), action)
                  for at, action in (during or {}).items()]
        for timer in timers:
            timer.start()
        rtp.run_legs(legs)
        for timer in timers:
            timer.join()
        time.sleep(0.2)
        self.assertEqual(client.bye().status, 200)
        self.wait_state(contact_id, "ENDED")
        meta = self.final_metadata(contact_id)
        self.assertTrue(meta.get("Complete"), meta)
        wav = audio.read_wav(self.server.get_contact(contact_id)["Recording"]["Path"])
        return wav, meta, legs[0]


class MaskTest(DtmfCase):
    rtp_ports = (RTP_BASE + 1660, RTP_BASE + 1679)

    def test_a_keyed_card_number_is_not_in_the_file(self):
        wav, meta, customer = self.call_with_card_number("dtmf-mask")
        hits = audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values())
        self.assertEqual(hits, [], "DTMF detectable in the recording at %s" % hits[:10])
        self.assertEqual(audio.dtmf_windows(wav.right, rtp.DTMF_FREQS.values()), [])
        spans = audio.tone_spans(wav.left, TONE)
        self.assertEqual(len(spans), 2, "the tone before and after the digits: %s" % spans)
        before, after = spans
        self.assertAlmostEqual(before[1] - before[0], 1.0, delta=0.06, msg=spans)
        self.assertAlmostEqual(after[1] - after[0], 1.0, delta=0.06, msg=spans)
        self.assertAlmostEqual(after[0] - before[1], 16 * 0.16, delta=0.06,
                               msg="the tones keep their offsets: %s" % spans)
        self.assertEqual(meta["DtmfPolicy"], "mask")
        self.assertEqual(meta["Counters"]["DtmfDigits"], 16, meta["Counters"])
        self.assertEqual(meta["Counters"]["DtmfUnmaskedSamples"], 0, meta["Counters"])
        masked = meta["MaskedSpans"]
        self.assertEqual(len(masked), 16, masked)
        for span, n in zip(masked, range(16)):
            self.assertEqual(span["Leg"], "customer")
            digit_start = before[1] + n * 0.16
            self.assertLessEqual(span["FileOffsetStart"], digit_start + 0.03, (n, span, before))
            self.assertGreaterEqual(span["FileOffsetEnd"], digit_start + 0.08 - 0.03, (n, span))
        # callrec verify runs the recorder's own detector over the file too.
        verify = subprocess.run([CLI_BIN, "verify", self.server.get_contact("dtmf-mask")[
            "Recording"]["Path"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertIn("no DTMF digit in the customer channel", verify.stdout)
        # Digits are counted, never logged.
        self.assertNotIn(CARD, self.server.stderr_text() + self.server.stdout_text())


class RecordPolicyTest(DtmfCase):
    rtp_ports = (RTP_BASE + 1680, RTP_BASE + 1699)
    extra = ("--auto-record", "ALL", "--dtmf-policy", "record")

    def test_record_keeps_the_digits(self):
        wav, meta, _ = self.call_with_card_number("dtmf-record")
        hits = audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values())
        self.assertGreater(len(hits), 16, "the digits are in the file under record")
        self.assertEqual(meta["DtmfPolicy"], "record")
        self.assertEqual(meta["MaskedSpans"], [])
        verify = subprocess.run([CLI_BIN, "verify", self.server.get_contact("dtmf-record")[
            "Recording"]["Path"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertRegex(verify.stdout, r"note +16 DTMF digit\(s\) in the customer channel")


class PausePolicyTest(DtmfCase):
    """--dtmf-policy pause: the first digit pauses the recording from its first
    sample as an agent's PAUSE would (principal policy:dtmf, audited, a pause in
    the metadata with Reason dtmf), the digits that follow are heard but never
    written, and the policy resumes once no digit came for --dtmf-resume-after;
    it never resumes a pause someone else made."""
    rtp_ports = (RTP_BASE + 1760, RTP_BASE + 1779)
    extra = ("--auto-record", "ALL", "--dtmf-policy", "pause", "--dtmf-resume-after", "1")

    def test_the_card_number_pauses_and_the_policy_resumes(self):
        wav, meta, _ = self.call_with_card_number("dtmf-pause", tail=150)
        self.assertEqual(audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values()), [])
        self.assertEqual(meta["DtmfPolicy"], "pause")
        pauses = meta["Pauses"]
        self.assertEqual(len(pauses), 1, pauses)
        pause = pauses[0]
        # The agent leg carries no digit, only 1400 Hz; the pause cuts that tone
        # hard at both ends, and a hard cut splatters over the whole band (the
        # scan may see it there, never elsewhere).
        edges = (pause["FileOffsetStart"], pause["FileOffsetEnd"])
        stray = [t for t in audio.dtmf_windows(wav.right, rtp.DTMF_FREQS.values())
                 if min(abs(t - e) for e in edges) > 0.04]
        self.assertEqual(stray, [], "DTMF-like audio on the agent leg away from the pause")
        self.assertEqual(pause["Reason"], "dtmf")
        spans = audio.tone_spans(wav.left, TONE)
        self.assertEqual(len(spans), 2, "the tone before the digits and after the pause: %s"
                         % spans)
        # The card starts 1.0 s after the tone did; its last tone ends 2.48 s later.
        digit_start = spans[0][0] + 1.0
        self.assertGreaterEqual(pause["FileOffsetStart"], digit_start - 0.045, (pause, spans))
        self.assertLessEqual(pause["FileOffsetStart"], digit_start + 0.005, (pause, spans))
        self.assertAlmostEqual(spans[0][1], pause["FileOffsetStart"], delta=0.03, msg=spans)
        last_digit_end = digit_start + 15 * 0.16 + 0.08
        # The policy's second is wall-clock time from the last digit heard; the
        # file's offsets are media time, in which a leg whose first packet came
        # late runs ahead: a sanitised server resumed 60 ms early in the file
        # (as test_callgen_dtmf allows, 150 ms).
        self.assertGreaterEqual(pause["FileOffsetEnd"], last_digit_end + 1.0 - 0.15, pause)
        self.assertLessEqual(pause["FileOffsetEnd"], last_digit_end + 1.0 + 0.45, pause)
        self.assertAlmostEqual(spans[1][0], pause["FileOffsetEnd"], delta=0.06, msg=spans)
        self.assertEqual(meta["Counters"]["DtmfDigits"], 16, meta["Counters"])
        trail = [(e["Operation"], e["Principal"], e["Result"], e["Detail"])
                 for e in meta["AuditTrail"]]
        policy = [t for t in trail if t[1] == "policy:dtmf"]
        self.assertEqual([t[:3] for t in policy], [("PAUSE", "policy:dtmf", "OK"),
                                                   ("RESUME", "policy:dtmf", "OK")], trail)
        self.assertIn("reason=dtmf", policy[0][3])
        self.assertIn("no digit for 1 s", policy[1][3])
        self.assertNotIn(CARD, self.server.stderr_text() + self.server.stdout_text())
        verify = subprocess.run([CLI_BIN, "verify", self.server.get_contact("dtmf-pause")[
            "Recording"]["Path"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_an_agents_pause_is_never_resumed_by_the_policy(self):
        """The admin pauses before the digits (the gate is closed: nothing heard,
        nothing done), and pauses again during a policy pause (the pause is the
        admin's from then on): the contact is PAUSED at the end of the call."""
        def pause(contact_id):
            def act():
                initial = self.server.get_contact(contact_id)["InitialContactId"]
                reply = self.server.connect_call("PAUSE", contact_id, initial_contact_id=initial)
                self.assertEqual(reply.status, 200, reply.text)
            return act
        wav, meta, _ = self.call_with_card_number(
            "dtmf-agent-first", tail=100, during={0.5: pause("dtmf-agent-first")})
        trail = [(e["Operation"], e["Principal"], e["Result"], e["Detail"], e["Time"])
                 for e in meta["AuditTrail"]]
        self.assertNotIn("policy:dtmf", [t[1] for t in trail], trail)
        self.assertEqual(len(meta["Pauses"]), 1, (meta["Pauses"], trail))
        self.assertEqual(meta["Pauses"][0]["Reason"], "operation")
        self.assertEqual(audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values()), [])

        wav, meta, _ = self.call_with_card_number(
            "dtmf-agent-during", tail=100, during={2.0: pause("dtmf-agent-during")})
        trail = [(e["Operation"], e["Principal"], e["Result"]) for e in meta["AuditTrail"]]
        self.assertIn(("PAUSE", "policy:dtmf", "OK"), trail)
        self.assertNotIn(("RESUME", "policy:dtmf", "OK"), trail,
                         "the policy resumed a pause the admin had taken over")
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        self.assertEqual(meta["Pauses"][0]["End"], meta["EndTime"],
                         "still paused when the call ended: the pause ends with it")
        self.assertEqual(audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values()), [])

    def test_telephone_events_pause_too(self):
        """RFC 4733 events are keys pressed: the first pauses the recording at its
        timestamp, the others keep the pause, one quiet second later it resumes."""
        wav, meta, _ = self.call_with_card_number("dtmf-events", tail=150, rfc4733=True)
        pauses = meta["Pauses"]
        self.assertEqual([p["Reason"] for p in pauses], ["dtmf"], pauses)
        spans = audio.tone_spans(wav.left, TONE)
        self.assertEqual(len(spans), 2, spans)
        digit_start = spans[0][0] + 1.0
        self.assertAlmostEqual(pauses[0]["FileOffsetStart"], digit_start, delta=0.03,
                               msg=(pauses, spans))
        last_event = digit_start + 15 * 0.16
        self.assertGreaterEqual(pauses[0]["FileOffsetEnd"], last_event + 1.0 - 0.15, pauses)
        self.assertLessEqual(pauses[0]["FileOffsetEnd"], last_event + 0.08 + 1.0 + 0.45, pauses)
        # The first event is recorded as an event (under PT 96, not taken for
        # audio of an unknown type); the rest come during the pause, gated.
        self.assertEqual(meta["Counters"]["Events"], 1, meta["Counters"])
        self.assertEqual(meta["Counters"]["Invalid"], 0, meta["Counters"])
        trail = [(e["Operation"], e["Principal"]) for e in meta["AuditTrail"]]
        self.assertIn(("PAUSE", "policy:dtmf"), trail)
        self.assertIn(("RESUME", "policy:dtmf"), trail)

    def test_a_contact_can_choose_its_policy(self):
        reply = self.server.v1("POST", "/v1/contacts", {
            "InstanceId": "local", "ContactId": "dtmf-choice", "DtmfPolicy": "shout"})
        self.assertEqual(reply.status, 400, reply.text)
        self.assertIn("DtmfPolicy must be mask, pause or record", reply.text)
        reply = self.server.v1("POST", "/v1/contacts", {
            "InstanceId": "local", "ContactId": "dtmf-choice", "DtmfPolicy": "record"})
        self.assertEqual(reply.status, 201, reply.text)
        self.assertEqual(self.server.connect_call("START", "dtmf-choice").status, 200)
        self.assertEqual(self.server.connect_call("STOP", "dtmf-choice").status, 200)
        self.assertEqual(self.final_metadata("dtmf-choice")["DtmfPolicy"], "record")


class PausePolicySkipTest(DtmfCase):
    """--dtmf-policy pause with --pause-behavior skip: the paused span (the card
    number and the quiet second after it) is cut out of the file; what is left
    joins the tone before the digits to the tone after the pause."""
    rtp_ports = (RTP_BASE + 1860, RTP_BASE + 1879)
    extra = ("--auto-record", "ALL", "--dtmf-policy", "pause", "--dtmf-resume-after", "1",
             "--pause-behavior", "skip")

    def test_digits_during_a_skip_pause_are_cut_out(self):
        wav, meta, _ = self.call_with_card_number("dtmf-skip", tail=150)
        pauses = meta["Pauses"]
        self.assertEqual(len(pauses), 1, pauses)
        pause = pauses[0]
        # No digit sample was written (the recorder's own account) and none is
        # in the file. The cut joins the tone's fade-out before the digits to
        # the tone after the pause where the resume fell, mid-tone: that hard
        # edge splatters over the whole band, so the scan may see DTMF-like
        # energy right at the cut (it did, at 1.02-1.03 s), never elsewhere.
        self.assertEqual(meta["Counters"]["DtmfUnmaskedSamples"], 0, meta["Counters"])
        stray = [t for t in audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values())
                 if abs(t - pause["FileOffsetStart"]) > 0.04]
        self.assertEqual(stray, [], "DTMF-like audio away from the cut at %.3f s"
                         % pause["FileOffsetStart"])
        self.assertEqual(pause["Reason"], "dtmf")
        self.assertEqual(pause["FileOffsetStart"], pause["FileOffsetEnd"], pause)
        self.assertGreaterEqual(pause["PausedSeconds"], 15 * 0.16 + 0.08 + 1.0 - 0.05, pause)
        spans = audio.tone_spans(wav.left, TONE)
        # The tone before (cut at the digit) and the tone after the pause meet
        # at the cut: one span, or two a few ms apart.
        self.assertLessEqual(len(spans), 2, spans)
        if len(spans) == 2:
            self.assertAlmostEqual(spans[0][1], pause["FileOffsetStart"], delta=0.06, msg=spans)
            self.assertAlmostEqual(spans[1][0], pause["FileOffsetStart"], delta=0.06, msg=spans)
        self.assertAlmostEqual(wav.duration, meta["DurationSeconds"], delta=0.01)
        # The file is the recording's wall time less the pause, which is not in it.
        wall = (parse_time(meta["EndTime"]) - parse_time(meta["StartTime"])).total_seconds()
        self.assertAlmostEqual(meta["DurationSeconds"], wall - pause["PausedSeconds"], delta=0.1,
                               msg=(wall, pause))
        self.assertEqual(meta["Counters"]["DtmfDigits"], 16, meta["Counters"])


class SpeechTest(DtmfCase):
    """Speech does not trigger the detector: 20 s of the demo dialogue (espeak-ng)
    around the customer reading a card number out loud (spoken digits, not
    keyed), sent by callrec-callgen, leaves nothing masked."""
    rtp_ports = (RTP_BASE + 1700, RTP_BASE + 1709)

    def cut(self, source, target, start_s, seconds):
        with wave.open(source, "rb") as w:
            w.setpos(int(start_s * w.getframerate()))
            frames = w.readframes(int(seconds * w.getframerate()))
            params = w.getparams()
        with wave.open(target, "wb") as out:
            out.setparams(params)
            out.writeframes(frames)

    def test_spoken_card_number_is_not_masked(self):
        if shutil.which("espeak-ng") is None or not os.path.exists(CALLGEN_BIN):
            self.skipTest("needs espeak-ng and callrec-callgen")
        tmp = tempfile.mkdtemp(prefix="callrec-dtmf-speech-")
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "demo-audio.py"), tmp],
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        with open(os.path.join(tmp, "timeline.json")) as f:
            timeline = json.load(f)
        card = [t for t in timeline["turns"] if t["card_number"]][0]
        start = max(0.0, card["start"] - 6)
        for leg in ("customer", "agent"):
            self.cut(os.path.join(tmp, leg + ".wav"), os.path.join(tmp, leg + "-cut.wav"),
                     start, 20)
        done = subprocess.run(
            [CALLGEN_BIN, "--target", "127.0.0.1:%d" % self.server.sip_port,
             "--contact-id", "dtmf-speech", "--duration", "20",
             "--customer-wav", os.path.join(tmp, "customer-cut.wav"),
             "--agent-wav", os.path.join(tmp, "agent-cut.wav")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=90)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.wait_state("dtmf-speech", "ENDED", timeout=10)
        meta = self.final_metadata("dtmf-speech")
        self.assertEqual(meta["Counters"]["DtmfDigits"], 0, meta["MaskedSpans"])
        self.assertEqual(meta["MaskedSpans"], [])
        self.assertGreater(meta["Counters"]["Packets"], 1500, "the speech was recorded")
