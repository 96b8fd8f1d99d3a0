"""SIPp (Debian sip-tester) as the SIPREC recording client against the real
callrec-server: tests/sipp/siprec_uac.xml sends the INVITE with the multipart
body (SDP + RFC 7865 metadata), plays the customer's µ-law audio with
rtp_stream on label 1 and the agent's with play_pcap_audio on label 2, then
BYE. The recording must hold both tracks, found by tone analysis.
"""

import json
import os
import shutil
import subprocess
import time
import unittest

import audio
from harness import SERVER_BIN, ServerTestCase, free_sip_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCENARIO = os.path.join(ROOT, "tests", "sipp", "siprec_uac.xml")
SIPP = shutil.which("sipp")
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
TOL = 0.12  # s: rtp_stream starts when SIPp reaches the action after the ACK


@unittest.skipUnless(SIPP, "sipp (Debian sip-tester) is not installed")
class SippRecordingClientTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1200, RTP_BASE + 1239)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports, "--auto-record", "ALL",
                           "--agent-match", "agent"],
            "name": "sipp"}
        super().setUp()

    def sipp(self, *extra, calls=1, duration_ms=5000, transport="u1"):
        argv = [SIPP, "-sf", SCENARIO, "-s", "recorder", "-i", "127.0.0.1", "-mi", "127.0.0.1",
                "-p", str(free_sip_port()), "-m", str(calls), "-d", str(duration_ms),
                "-t", transport, "-nostdin", "-timeout", "60s", "-timeout_error",
                "127.0.0.1:%d" % self.server.sip_port] + list(extra)
        run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, "SIPp failed:\n%s\n%s" % (run.stdout[-3000:],
                                                                       run.stderr[-2000:]))
        return run

    def sipp_contacts(self):
        return [c for c in self.server.list_contacts() if c["ContactId"].startswith("SIPP-")]

    def wait_complete(self, contact_id, timeout=10):
        path = self.server.get_contact(contact_id)["Recording"]["Path"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(path[:-len(".wav")] + ".json") as f:
                    meta = json.load(f)
                if meta.get("Complete"):
                    return audio.read_wav(path), meta
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        self.fail("recording of %s never complete" % contact_id)

    def assertTone(self, channel, freq, start, end, what):
        spans = audio.tone_spans(channel, freq, min_duration=0.1)
        self.assertTrue(any(abs(s - start) <= TOL and abs(e - end) <= TOL for s, e in spans),
                        "%s: %d Hz expected near %.2f-%.2f s, found %s" % (what, freq, start,
                                                                           end, spans))

    def check_call(self, contact):
        self.assertEqual(contact["State"], "ENDED", contact)
        self.assertEqual(contact["AgentId"], "agent1", "agent picked by --agent-match")
        wav, meta = self.wait_complete(contact["ContactId"])
        self.assertGreater(wav.duration, 4.5)
        # customer_ulaw: 600 Hz 0.5-1.5 s, 1400 Hz 3.0-4.0 s; agent_ulaw: 1000 Hz
        # 1.0-2.0 s, 1800 Hz 3.5-4.5 s, both from SIPp's start of media.
        customer = audio.tone_spans(wav.left, 600, min_duration=0.5)
        self.assertTrue(customer, "no customer tone on the left channel")
        origin = customer[0][0] - 0.5  # when SIPp's media started, in the file
        self.assertGreaterEqual(origin, -0.02)
        self.assertLess(origin, 0.5, "media started late: %s" % customer)
        self.assertTone(wav.left, 1400, origin + 3.0, origin + 4.0, "customer")
        self.assertTone(wav.right, 1000, origin + 1.0, origin + 2.0, "agent")
        self.assertTone(wav.right, 1800, origin + 3.5, origin + 4.5, "agent")
        self.assertLess(audio.max_tone_amplitude(wav.left, 1000), 300, "agent tone on the left")
        self.assertLess(audio.max_tone_amplitude(wav.right, 600), 300, "customer tone on the right")
        counters = meta.get("Counters", {})
        self.assertEqual(counters.get("Lost"), 0, counters)

    def test_udp_call_records_both_tracks(self):
        self.sipp()
        contacts = self.sipp_contacts()
        self.assertEqual(len(contacts), 1, contacts)
        self.check_call(self.server.get_contact(contacts[0]["ContactId"]))

    def test_tcp_two_calls(self):
        self.sipp("-r", "1", calls=2, transport="t1")
        contacts = self.sipp_contacts()
        self.assertEqual(len(contacts), 2, contacts)
        for contact in contacts:
            self.check_call(self.server.get_contact(contact["ContactId"]))


if __name__ == "__main__":
    unittest.main()
