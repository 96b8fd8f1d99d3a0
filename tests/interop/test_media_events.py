"""Media interop: RFC 4733 telephone events (DTMF) during a recorded call: the
events are received and counted, never written as audio, and never logged with
their digits. How a call is driven: media_call.py.
"""

import json
import unittest

import audio
import rtp
from media_call import TONE_A, TONE_C, TONE_E, Call, MediaCase, log_digit_leaks, rtp_range


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


if __name__ == "__main__":
    unittest.main()
