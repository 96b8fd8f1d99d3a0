"""callrec-callgen keys a card number (--dtmf) into the customer's audio of a
SIPREC call to the real callrec-server (--auto-record ALL). The customer's WAV
is a steady 600 Hz tone made here; the recording is checked with the test's own
Goertzel scan (audio.dtmf_windows, audio.tone_spans), not with callrec's
detector: under the default mask policy no digit is in the file and the tone is
whole before and after the digits; under record the digits are there (so the
scan can fail); RFC 4733 events carry no tone into the file; the pause policy
pauses and resumes by itself.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import wave

import audio
import rtp
from harness import BUILD_DIR, SipServerCase

CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
CARD = "4111111111111111"
TONE = 600
TONE_AMPLITUDE = 4000  # about -15 dBm0: well above tone_spans' floor, no leakage into DTMF
DIGIT_STEP = 0.16  # 80 ms tone + 80 ms gap, callgen's defaults
DURATION = 4.5  # s: 1 s of tone, the card number (2.48 s), 1 s of tone
TOL = 0.07  # s: 200 OK -> first packet, the 20 ms mask blocks, the 5 ms analysis hop


def write_tone_wav(path, freq=TONE, amplitude=TONE_AMPLITUDE, seconds=1.0):
    """A 16-bit PCM mono 8 kHz WAV: whole cycles, so callgen loops it without a click."""
    frames = b"".join(struct.pack("<h", int(round(amplitude * math.sin(
        2 * math.pi * freq * i / 8000.0)))) for i in range(int(seconds * 8000)))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)


class CallgenDtmfCase(SipServerCase):
    server_name = "callgen-dtmf"
    extra = ("--auto-record", "ALL")

    def setUp(self):
        if not os.path.exists(CALLGEN_BIN):
            self.skipTest("no %s" % CALLGEN_BIN)
        super().setUp()
        tmp = tempfile.mkdtemp(prefix="callrec-callgen-dtmf-")
        self.addCleanup(shutil.rmtree, tmp, True)
        self.customer_wav = os.path.join(tmp, "tone600.wav")
        write_tone_wav(self.customer_wav)

    def call(self, contact_id, *dtmf_args, duration=DURATION):
        """Runs one call; (callgen's JSON report, its stderr, the WAV, the metadata)."""
        done = subprocess.run(
            [CALLGEN_BIN, "--target", "127.0.0.1:%d" % self.server.sip_port,
             "--contact-id", contact_id, "--duration", str(duration),
             "--customer-wav", self.customer_wav, "--json"] + list(dtmf_args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        report = json.loads(done.stdout)
        self.wait_state(contact_id, "ENDED")
        meta = self.final_metadata(contact_id)
        self.assertTrue(meta.get("Complete"), meta)
        wav = audio.read_wav(self.server.get_contact(contact_id)["Recording"]["Path"])
        return report, done.stderr, wav, meta

    def digit_windows(self, wav):
        return audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values())

    def assertToneAround(self, wav, first_digit, last_digit_end, duration=DURATION):
        """The 600 Hz is whole from the start to the first digit and from the
        last digit's end to the end of the call (short stretches between
        digits are not asked about)."""
        spans = audio.tone_spans(wav.left, TONE, min_duration=0.3)
        self.assertEqual(len(spans), 2, "the tone before and after the digits: %s" % spans)
        before, after = spans
        # The file starts when the server starts recording (the INVITE's
        # auto-record), callgen's audio at its 200 OK: on a loaded machine the
        # two are apart by up to a few hundred ms. The offsets are callgen's.
        shift = before[0]
        self.assertLess(shift, 0.3, spans)
        self.assertAlmostEqual(before[1] - shift, first_digit, delta=TOL, msg=spans)
        self.assertAlmostEqual(after[0] - shift, last_digit_end, delta=TOL, msg=spans)
        self.assertAlmostEqual(after[1] - shift, duration, delta=0.15, msg=spans)

    def assertNotLogged(self, callgen_stderr):
        """Digits are counted, never logged: by the server, nor by callgen
        without --verbose."""
        self.assertNotIn(CARD, callgen_stderr)
        self.assertNotIn(CARD, self.server.stderr_text() + self.server.stdout_text())

    def shift(self, wav):
        """How much later than the file's start callgen's audio began (its 600 Hz
        starts with the call): see assertToneAround."""
        spans = audio.tone_spans(wav.left, TONE, min_duration=0.3)
        self.assertTrue(spans, "no 600 Hz in the recording")
        self.assertLess(spans[0][0], 0.3, spans)
        return spans[0][0]

    def assertMasked(self, meta, offsets, shift=0.0):
        self.assertEqual(meta["DtmfPolicy"], "mask")
        self.assertEqual(meta["Counters"]["DtmfDigits"], 16, meta["Counters"])
        self.assertEqual(meta["Counters"]["DtmfUnmaskedSamples"], 0, meta["Counters"])
        masked = meta["MaskedSpans"]
        self.assertEqual(len(masked), 16, masked)
        for span, offset in zip(masked, offsets):
            self.assertEqual(span["Leg"], "customer")
            self.assertLessEqual(span["FileOffsetStart"] - shift, offset + 0.03, (offset, span))
            self.assertGreaterEqual(span["FileOffsetEnd"] - shift, offset + 0.08 - 0.03,
                                    (offset, span))


class MaskTest(CallgenDtmfCase):
    rtp_ports = (RTP_BASE + 1820, RTP_BASE + 1839)

    def test_a_keyed_card_number_is_masked(self):
        report, stderr, wav, meta = self.call("cgd-mask", "--dtmf", CARD + "@1.0")
        dtmf = report["dtmf"]
        self.assertEqual(dtmf["mode"], "inband")
        self.assertEqual((dtmf["level_dbm0"], dtmf["duration_ms"], dtmf["gap_ms"]),
                         (-10, 80, 80))
        offsets = dtmf["offsets"]
        self.assertEqual(len(offsets), 16)
        for n, offset in enumerate(offsets):
            self.assertAlmostEqual(offset, 1.0 + n * DIGIT_STEP, places=6)
        self.assertNotIn(CARD, json.dumps(report), "the report says when, not which digits")
        self.assertEqual(report["sessions"][0]["streams"][0]["events"], 0)
        self.assertEqual(self.digit_windows(wav), [], "DTMF detectable in the recording")
        self.assertToneAround(wav, 1.0, offsets[-1] + 0.08)
        self.assertMasked(meta, offsets, self.shift(wav))
        self.assertNotLogged(stderr)

    def test_low_level_digits_starting_mid_packet_are_masked(self):
        # 1.013 s is 104 samples into a 20 ms packet; -25 dBm0 is 5 dB above
        # the detector's floor.
        report, stderr, wav, meta = self.call("cgd-low", "--dtmf", CARD + "@1.013",
                                              "--dtmf-level", "-25")
        offsets = report["dtmf"]["offsets"]
        self.assertAlmostEqual(offsets[0], 1.013, places=6)
        self.assertEqual(report["dtmf"]["level_dbm0"], -25)
        self.assertEqual(self.digit_windows(wav), [], "DTMF detectable in the recording")
        self.assertToneAround(wav, 1.013, offsets[-1] + 0.08)
        self.assertMasked(meta, offsets, self.shift(wav))
        self.assertNotLogged(stderr)

    def test_rfc4733_events_put_no_tone_in_the_file(self):
        report, stderr, wav, meta = self.call("cgd-events", "--dtmf", CARD + "@1.0",
                                              "--dtmf-mode", "rfc4733")
        self.assertEqual(report["dtmf"]["mode"], "rfc4733")
        customer = report["sessions"][0]["streams"][0]
        # Per digit (80 ms from a packet boundary): three updates, the end packet three times.
        self.assertEqual(customer["events"], 16 * 6, customer)
        self.assertEqual(meta["Counters"]["Events"], customer["events"], meta["Counters"])
        self.assertEqual(meta["Counters"]["DtmfDigits"], 0, "no tone reached the detector")
        self.assertEqual(self.digit_windows(wav), [], "DTMF in the recording")
        self.assertToneAround(wav, 1.0, report["dtmf"]["offsets"][-1] + 0.08)
        self.assertNotLogged(stderr)


class RecordPolicyTest(CallgenDtmfCase):
    rtp_ports = (RTP_BASE + 1840, RTP_BASE + 1849)
    extra = ("--auto-record", "ALL", "--dtmf-policy", "record")

    def test_record_keeps_the_digits_where_callgen_put_them(self):
        report, _, wav, meta = self.call("cgd-record", "--dtmf", CARD + "@1.0")
        self.assertEqual(meta["DtmfPolicy"], "record")
        self.assertEqual(meta["MaskedSpans"], [])
        hits = self.digit_windows(wav)
        shift = self.shift(wav)
        for offset in report["dtmf"]["offsets"]:
            self.assertTrue(any(offset - 0.02 <= t - shift <= offset + 0.08 for t in hits),
                            "no digit found at %.3f s: %s" % (offset, hits))
        self.assertTrue(all(0.95 <= t - shift <= 3.5 for t in hits), hits)
        # The scan's digits are the ones keyed, in order.
        found = []
        for offset in report["dtmf"]["offsets"]:
            start = int((offset + shift + 0.02) * 8000)
            window = wav.left[start:start + 320]
            level = {f: audio.max_tone_amplitude(window, f)
                     for f in set(sum(rtp.DTMF_FREQS.values(), ()))}
            found.append(max(rtp.DTMF_FREQS, key=lambda d: sum(level[f]
                                                               for f in rtp.DTMF_FREQS[d])))
        self.assertEqual("".join(found), CARD)


class PausePolicyTest(CallgenDtmfCase):
    rtp_ports = (RTP_BASE + 1850, RTP_BASE + 1859)
    extra = ("--auto-record", "ALL", "--dtmf-policy", "pause", "--dtmf-resume-after", "1")

    def test_the_digits_pause_and_the_policy_resumes(self):
        report, stderr, wav, meta = self.call("cgd-pause", "--dtmf", CARD + "@1.0",
                                              duration=5.5)
        self.assertEqual(self.digit_windows(wav), [], "DTMF detectable in the recording")
        self.assertEqual(meta["DtmfPolicy"], "pause")
        trail = [(e["Operation"], e["Principal"], e["Result"]) for e in meta["AuditTrail"]]
        self.assertEqual([t for t in trail if t[1] == "policy:dtmf"],
                         [("PAUSE", "policy:dtmf", "OK"), ("RESUME", "policy:dtmf", "OK")], trail)
        pauses = meta["Pauses"]
        self.assertEqual(len(pauses), 1, pauses)
        self.assertEqual(pauses[0]["Reason"], "dtmf")
        shift = self.shift(wav)
        self.assertAlmostEqual(pauses[0]["FileOffsetStart"] - shift, 1.0, delta=TOL, msg=pauses)
        last_end = report["dtmf"]["offsets"][-1] + 0.08
        # The policy's second is wall-clock time from the last digit's arrival; the
        # file's offsets are media time. A generator late while it keys the digits and
        # on time after (a loaded machine: CI measured 54 ms) moves the resume that much
        # earlier in the file.
        self.assertGreaterEqual(pauses[0]["FileOffsetEnd"] - shift, last_end + 1.0 - 0.15, pauses)
        self.assertNotLogged(stderr)


if __name__ == "__main__":
    unittest.main()
