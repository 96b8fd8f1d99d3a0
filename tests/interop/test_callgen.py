"""callrec-callgen (the project's SIPREC recording client) against the real
callrec-server: a plain call, a transfer, an agent joining late, auto-record,
the client's own pause, and pause/resume through the Connect API during a
SIPREC call. Audio is the tone WAVs of tests/fixtures/audio, checked in the
recordings by tone analysis (customer on the left channel, agent on the right).
"""

import json
import os
import subprocess
import threading
import time
import unittest

import audio
from harness import BUILD_DIR, SERVER_BIN, ServerTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIO = os.path.normpath(os.path.join(HERE, "..", "fixtures", "audio"))
CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
TOL = 0.06  # s: tone edges vs the schedule (200 OK -> first packet, 5 ms analysis hop)

# tests/fixtures/audio/README.md: what is where in the two 5 s files.
CUSTOMER_WAV = os.path.join(AUDIO, "customer_ulaw.wav")  # 600 Hz 0.5-1.5, 1400 Hz 3.0-4.0
AGENT_WAV = os.path.join(AUDIO, "agent_ulaw.wav")  # 1000 Hz 1.0-2.0, 1800 Hz 3.5-4.5


class CallgenCase(ServerTestCase):
    rtp_ports = (RTP_BASE + 1000, RTP_BASE + 1099)
    extra = ("--auto-record", "ALL", "--agent-match", "^sip:agent")

    def setUp(self):
        for binary in (SERVER_BIN, CALLGEN_BIN):
            if not os.path.exists(binary):
                self.skipTest("no %s" % binary)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports] + list(self.extra),
            "name": "callgen"}
        super().setUp()

    def callgen(self, *args, transport="udp", wait=True):
        argv = [CALLGEN_BIN, "--target", "127.0.0.1:%d" % self.server.sip_port,
                "--transport", transport, "--customer-wav", CUSTOMER_WAV,
                "--agent-wav", AGENT_WAV, "--json"] + list(args)
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait:
            return proc
        return self.finish(proc)

    def finish(self, proc, expect_ok=True):
        out, err = proc.communicate(timeout=60)
        if expect_ok:
            self.assertEqual(proc.returncode, 0, "callgen failed:\n%s\n%s" % (out, err))
        return json.loads(out)

    def wait_for_contact(self, contact_id, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.server.v1("GET", "/v1/contacts/%s" % contact_id)
            if reply.status == 200:
                return reply.json()
            time.sleep(0.005)
        self.fail("contact %s never appeared" % contact_id)

    def recording(self, contact_id, timeout=10):
        """(wav, metadata) once the recording is complete."""
        path = self.server.get_contact(contact_id)["Recording"]["Path"]
        meta_path = path[:-len(".wav")] + ".json"
        deadline = time.monotonic() + timeout
        meta = None
        while time.monotonic() < deadline:
            try:
                with open(meta_path) as f:
                    meta = json.load(f)
                if meta.get("Complete"):
                    return audio.read_wav(path), meta
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        self.fail("%s never complete: %s" % (meta_path, meta))

    def assertTone(self, channel, freq, start, end, what):
        # A tone under way when the recording started begins the file (offset 0).
        start = max(start, 0.0)
        spans = audio.tone_spans(channel, freq, min_duration=0.1)
        self.assertTrue(any(abs(s - start) <= TOL and abs(e - end) <= TOL for s, e in spans),
                        "%s: %d Hz expected at %.2f-%.2f s, found %s" % (what, freq, start, end,
                                                                          spans))

    def assertNoTone(self, channel, freq, what):
        self.assertLess(audio.max_tone_amplitude(channel, freq), 300,
                        "%s: %d Hz should be absent" % (what, freq))

    def ops(self, contact_id):
        return [(e["Operation"], e["Principal"], e["Result"])
                for e in self.server.get_contact(contact_id)["AuditTrail"]]


class PlainCallTest(CallgenCase):
    rtp_ports = (RTP_BASE + 1000, RTP_BASE + 1039)

    def test_both_tracks_recorded_at_their_offsets(self):
        report = self.callgen("--contact-id", "cg-plain", "--duration", "5",
                              "--agent-aor", "sip:agent11@cc.example")
        session = report["sessions"][0]
        self.assertEqual([s["status"] for s in session["sip"]], [200, 200], session)
        contact = self.server.get_contact("cg-plain")
        self.assertEqual((contact["State"], contact["AgentId"]), ("ENDED", "agent11"))
        wav, meta = self.recording("cg-plain")
        self.assertAlmostEqual(wav.duration, 5.0, delta=0.15)
        self.assertTone(wav.left, 600, 0.5, 1.5, "customer")
        self.assertTone(wav.left, 1400, 3.0, 4.0, "customer")
        self.assertTone(wav.right, 1000, 1.0, 2.0, "agent")
        self.assertTone(wav.right, 1800, 3.5, 4.5, "agent")
        self.assertNoTone(wav.left, 1000, "agent tone on the customer channel")
        self.assertNoTone(wav.right, 600, "customer tone on the agent channel")
        sent = sum(s["packets"] for s in session["streams"])
        counters = meta["Counters"]
        self.assertEqual(counters["Packets"], sent, "every packet sent was recorded: %s" % counters)
        self.assertEqual(counters["Lost"], 0, counters)

    def test_over_tcp(self):
        report = self.callgen("--contact-id", "cg-tcp", "--duration", "2", transport="tcp")
        self.assertEqual(report["failed_sessions"], 0)
        wav, _ = self.recording("cg-tcp")
        self.assertTone(wav.left, 600, 0.5, 1.5, "customer")
        self.assertTone(wav.right, 1000, 1.0, 2.0, "agent")


class TransferTest(CallgenCase):
    rtp_ports = (RTP_BASE + 1040, RTP_BASE + 1079)

    def test_transfer_keeps_the_chain(self):
        report = self.callgen("--contact-id", "cg-first", "--initial-contact-id", "cg-first",
                              "--duration", "5", "--transfer-after", "2.5",
                              "--agent-aor", "sip:agent21@cc.example",
                              "--transfer-agent-aor", "sip:agent22@cc.example")
        self.assertEqual(report["failed_sessions"], 0, report)
        self.assertEqual(len(report["sessions"]), 2, report)
        second_id = [s for s in report["sessions"] if s["transfer"]][0]["contact_id"]
        first = self.server.get_contact("cg-first")
        second = self.server.get_contact(second_id)
        self.assertEqual(first["InitialContactId"], "cg-first")
        self.assertEqual(second["InitialContactId"], "cg-first", "a transfer stays in its chain")
        self.assertEqual((first["AgentId"], second["AgentId"]), ("agent21", "agent22"))
        self.assertEqual((first["State"], second["State"]), ("ENDED", "ENDED"))
        chain = [c["ContactId"] for c in self.server.list_contacts()
                 if c["InitialContactId"] == "cg-first"]
        self.assertEqual(sorted(chain), sorted(["cg-first", second_id]))
        wav1, _ = self.recording("cg-first")
        wav2, _ = self.recording(second_id)
        self.assertEqual(os.path.dirname(wav1.path), os.path.dirname(wav2.path),
                         "both recordings under the InitialContactId")
        self.assertAlmostEqual(wav1.duration, 2.5, delta=0.15)
        self.assertTone(wav1.left, 600, 0.5, 1.5, "first customer")
        self.assertTone(wav1.right, 1000, 1.0, 2.0, "first agent")
        # After the transfer the customer file goes on (1400 Hz at 3.0-4.0 of the
        # call = 0.5-1.5 of the second recording) and the new agent starts afresh.
        self.assertTone(wav2.left, 1400, 0.5, 1.5, "customer after transfer")
        self.assertTone(wav2.right, 1000, 1.0, 2.0, "second agent")


class AgentJoinsLateTest(CallgenCase):
    rtp_ports = (RTP_BASE + 1080, RTP_BASE + 1119)

    def test_waiting_then_recording_when_the_agent_joins(self):
        proc = self.callgen("--contact-id", "cg-late", "--duration", "5",
                            "--agent-joins-after", "2", "--agent-aor", "sip:agent31@cc.example",
                            wait=False)
        contact = self.wait_for_contact("cg-late")
        # Created, then --auto-record's START: it waits for the agent.
        deadline = time.monotonic() + 2
        while contact["State"] == "NOT_STARTED" and time.monotonic() < deadline:
            time.sleep(0.01)
            contact = self.server.get_contact("cg-late")
        self.assertEqual(contact["State"], "WAITING_FOR_AGENT", contact)
        self.assertEqual(contact["AgentId"], "")
        self.finish(proc)
        contact = self.server.get_contact("cg-late")
        self.assertEqual(contact["AgentId"], "agent31")
        ops = self.ops("cg-late")
        self.assertIn(("AGENT_JOINED", "recording-client", "OK"), ops)
        wav, _ = self.recording("cg-late")
        # Recording begins when the agent joins (2.0 s into the call).
        self.assertAlmostEqual(wav.duration, 3.0, delta=0.15)
        self.assertNoTone(wav.left, 600, "customer audio before the agent joined")
        self.assertTone(wav.left, 1400, 1.0, 2.0, "customer after the join")
        self.assertTone(wav.right, 1000, 1.0, 2.0, "agent from the join")


class PauseTest(CallgenCase):
    rtp_ports = (RTP_BASE + 1120, RTP_BASE + 1159)
    extra = ("--agent-match", "^sip:agent")  # no auto-record: the agent starts it

    def test_connect_api_pause_resume_during_a_siprec_call(self):
        proc = self.callgen("--contact-id", "cg-api", "--duration", "7", wait=False)
        contact = self.wait_for_contact("cg-api")
        t0 = time.monotonic()  # ~ the 200 OK
        self.assertEqual(contact["State"], "NOT_STARTED", "no auto-record: nothing recorded yet")
        client = self.server.boto3_client()
        kwargs = {"InstanceId": "local", "ContactId": "cg-api",
                  "InitialContactId": contact["InitialContactId"]}

        def at(seconds):
            delay = t0 + seconds - time.monotonic()
            if delay > 0:
                time.sleep(delay)

        client.start_contact_recording(VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"},
                                       **kwargs)
        started = time.monotonic() - t0
        at(2.6)
        client.suspend_contact_recording(**kwargs)
        paused = time.monotonic() - t0
        at(4.7)
        client.resume_contact_recording(**kwargs)
        resumed = time.monotonic() - t0
        self.finish(proc)
        wav, meta = self.recording("cg-api")
        origin = started  # file offset 0
        # 1400 Hz (3.0-4.0) and 1800 Hz (3.5-4.5) fell in the pause: absent.
        self.assertNoTone(wav.left, 1400, "customer audio during the pause")
        self.assertNoTone(wav.right, 1800, "agent audio during the pause")
        # The loop's second 600 Hz (5.5-6.5 s of the call) is after the resume.
        self.assertTone(wav.left, 600, 5.5 - origin, 6.5 - origin, "customer after resume")
        self.assertTone(wav.left, 600, 0.5 - origin, 1.5 - origin, "customer before the pause")
        pauses = meta.get("Pauses") or meta.get("PauseIntervals") or []
        self.assertEqual(len(pauses), 1, meta)
        self.assertLess(paused, 3.0)
        self.assertGreater(resumed, 4.5)

    def test_client_pause_via_reinvite(self):
        self.server.stop()
        self.server.extra_args += ["--auto-record", "ALL"]
        self.server.start()
        report = self.callgen("--contact-id", "cg-client", "--duration", "7",
                              "--client-pause", "2.6-4.7")
        statuses = [s["status"] for s in report["sessions"][0]["sip"]]
        self.assertEqual(statuses, [200, 200, 200, 200], report)
        ops = self.ops("cg-client")
        self.assertIn(("PAUSE", "recording-client", "OK"), ops)
        self.assertIn(("RESUME", "recording-client", "OK"), ops)
        wav, _ = self.recording("cg-client")
        self.assertNoTone(wav.left, 1400, "customer audio during the client's pause")
        self.assertNoTone(wav.right, 1800, "agent audio during the client's pause")
        # The file begins at auto-record (the INVITE), callgen's audio at its 200
        # OK: apart by a few ms, or a few hundred on a loaded machine.
        first = audio.tone_spans(wav.left, 600, min_duration=0.1)
        self.assertTrue(first, "no 600 Hz in the recording")
        shift = first[0][0] - 0.5
        self.assertTrue(-TOL <= shift < 0.3, first)
        self.assertTone(wav.left, 600, 0.5 + shift, 1.5 + shift, "before the pause")
        self.assertTone(wav.left, 600, 5.5 + shift, 6.5 + shift, "after the resume")


class PortsRunOutTest(CallgenCase):
    rtp_ports = (RTP_BASE + 1160, RTP_BASE + 1167)  # two calls' worth

    def test_third_concurrent_call_gets_503(self):
        proc = self.callgen("--contact-id-prefix", "cg-full", "--sessions", "3", "--rate", "50",
                            "--duration", "1.5", wait=False)
        report = self.finish(proc, expect_ok=False)
        self.assertEqual(proc.returncode, 1, "callgen reports the failed session")
        finals = sorted(s["sip"][0]["status"] for s in report["sessions"])
        self.assertEqual(finals, [200, 200, 503], report)
        # Ports come back: the next calls are recorded.
        report = self.callgen("--contact-id-prefix", "cg-again", "--sessions", "2", "--rate", "50",
                              "--duration", "0.5")
        self.assertEqual(report["failed_sessions"], 0)


if __name__ == "__main__":
    unittest.main()
