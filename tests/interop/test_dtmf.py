"""Card digits keyed in-band never reach a recording (--dtmf-policy mask, the
default): a 16-digit card number sent as DTMF tones in the customer's G.711
audio, between a 600 Hz tone before and after, over a SIPREC call. The WAV is
checked with the test's own Goertzel scan (audio.dtmf_windows, not callrec's
detector): no digit is detectable, the tones before and after are whole at
their offsets, the metadata lists a masked span per digit. Under
--dtmf-policy record the same digits are found in the file, so the check can
fail.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
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

    def call_with_card_number(self, contact_id):
        sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
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
        total = after + 50

        def customer(slot):
            if slot in schedule:
                digit, amplitude = schedule[slot]
                return dtmf_samples(digit, amplitude, slot) if digit else [0] * 160
            return ramped(rtp.tone_packet(TONE, slot), slot, (0, after), (49, total - 1))
        t0 = time.perf_counter() + 0.05
        legs = [rtp.Leg(("127.0.0.1", ports["1"]), "PCMU", customer, total, name="customer",
                        t0=t0),
                rtp.Leg(("127.0.0.1", ports["2"]), "PCMU",
                        lambda slot: ramped(rtp.tone_packet(1400, slot), slot, (0,),
                                            (total - 1,)),
                        total, name="agent", t0=t0)]
        rtp.run_legs(legs)
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
