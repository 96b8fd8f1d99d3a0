"""Issue 20, points 2 to 4, at the API (the pages are driven in Chromium by
test_workspace_pages.py): a finished recording's waveform (GET
/v1/recordings/{id}/peaks) checked against the WAV sample by sample, confined
and audited as the audio is; --max-pause auditing an overdue pause once,
counting it, and never resuming; contacts' Timing; the supervisor role.
"""

import json
import os
import time
import unittest
import urllib.parse

import audio
import rtp
from harness import SERVER_BIN, ServerTestCase, http_call
from test_workspace_api import EventReader

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
STORED_BUCKETS = 8192  # media::kStoredPeakBuckets


def expected_peaks(channel, width):
    """What the server's fold should answer for one channel: the stored
    buckets (whole frames each) covering frames [i*F/W, (i+1)*F/W)."""
    frames = len(channel)
    per = max(1, -(-frames // STORED_BUCKETS))
    stored = -(-frames // per)
    width = min(width, stored)
    lows, highs = [], []
    for i in range(width):
        first = i * frames // width
        end = max(first + 1, (i + 1) * frames // width)
        a, b = first // per * per, min(frames, ((end - 1) // per + 1) * per)
        lows.append(min(channel[a:b]))
        highs.append(max(channel[a:b]))
    return lows, highs


class WorkspaceViewsApiTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1400, RTP_BASE + 1419)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports, "--max-pause", "1"],
            "name": "views"}
        super().setUp()
        self.readers = []

    def tearDown(self):
        for reader in self.readers:
            reader.close()
        super().tearDown()

    def call(self, method, path, token, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        headers = [("Authorization", "Bearer %s" % token)]
        if body is not None:
            headers.append(("Content-Type", "application/json"))
        return http_call(self.server.port, method, path, data, headers)

    def agent(self, agent_id, role=None):
        body = {"AgentId": agent_id}
        if role:
            body["Role"] = role
        reply = self.server.v1("POST", "/v1/agents", body)
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(reply.json()["Role"], role or "agent")
        return reply.json()["Token"]

    def act(self, contact_id, token, action):
        reply = self.call("POST", "/v1/contacts/%s/guide/actions" % contact_id, token,
                          {"Result": "ActionSelected", "ViewResultData": {"actionName": action}})
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def trail(self, contact_id):
        return self.server.get_contact(contact_id)["AuditTrail"]

    def overdue_total(self):
        for line in self.server.metrics().splitlines():
            if line.startswith("callrec_pauses_overdue_total "):
                return float(line.split()[1])
        self.fail("no callrec_pauses_overdue_total in /metrics")

    # ---- the waveform ---------------------------------------------------------------

    def test_peaks_of_a_finished_recording(self):
        alice, bob = self.agent("alice"), self.agent("bob")
        contact = self.server.create_contact("pk-1", agent_id="alice")
        self.act("pk-1", alice, "Start recording")
        # Customer: 600 Hz loud, then silence; agent: silence, then 1000 Hz softer.
        packets = 100
        legs = [rtp.Leg(rtp.parse_addr(contact["Rtp"]["Customer"]), "PCMU",
                        rtp.schedule_fn([(0, 50, 600)], amplitude=12000), packets, name="c"),
                rtp.Leg(rtp.parse_addr(contact["Rtp"]["Agent"]), "PCMU",
                        rtp.schedule_fn([(50, 100, 1000)], amplitude=3000), packets, name="a")]
        for leg in legs:
            leg.start()
        time.sleep(0.5)
        still = self.call("GET", "/v1/recordings/pk-1/peaks?width=10", alice)
        self.assertEqual((still.status, still.error_type), (409, "ConflictException"), still)
        for leg in legs:
            leg.join(30)
        self.server.v1("POST", "/v1/contacts/pk-1/end")
        deadline = time.monotonic() + 5
        while not self.call("GET", "/v1/recordings/pk-1", alice).json().get("Complete"):
            self.assertLess(time.monotonic(), deadline, "never complete")
            time.sleep(0.05)
        wav_path = self.server.get_contact("pk-1")["Recording"]["Path"]
        wav = audio.read_wav(wav_path)
        for width in (1, 37, 400):
            with self.subTest(width=width):
                reply = self.call("GET", "/v1/recordings/pk-1/peaks?width=%d" % width, alice)
                self.assertEqual(reply.status, 200, reply)
                peaks = reply.json()
                self.assertEqual(peaks["Width"], width)
                self.assertEqual(peaks["Frames"], len(wav.left))
                self.assertAlmostEqual(peaks["DurationSeconds"], wav.duration, places=3)
                for name, channel in (("Customer", wav.left), ("Agent", wav.right)):
                    lows, highs = expected_peaks(channel, width)
                    self.assertEqual(peaks[name]["Min"], lows, name)
                    self.assertEqual(peaks[name]["Max"], highs, name)
        # Which channel is which: the customer loud at first, the agent later.
        p = self.call("GET", "/v1/recordings/pk-1/peaks?width=4", alice).json()
        self.assertGreater(p["Customer"]["Max"][0], 8000)
        self.assertLess(max(p["Agent"]["Max"][:1]), 100)
        self.assertGreater(p["Agent"]["Max"][3], 2000)
        self.assertLess(p["Customer"]["Max"][3], 100)
        peaks_file = wav_path[:-len(".wav")] + ".peaks"
        self.assertTrue(os.path.exists(peaks_file), "stored beside the recording")
        # Confined and audited as the audio is.
        self.assertEqual(self.call("GET", "/v1/recordings/pk-1/peaks", bob).status, 403)
        self.assertEqual(http_call(self.server.port, "GET", "/v1/recordings/pk-1/peaks").status,
                         401)
        for bad in ("0", "abc", "8193", "-1"):
            self.assertEqual(self.call("GET", "/v1/recordings/pk-1/peaks?width=" + bad,
                                       alice).status, 400, bad)
        self.assertEqual(self.call("GET", "/v1/recordings/none/peaks", alice).status, 404)
        # (alice's reads fold into her metadata read of this minute; the admin's
        # first read is the waveform)
        self.assertEqual(self.server.v1("GET", "/v1/recordings/pk-1/peaks").status, 200)
        reads = [(e["Operation"], e["Principal"], e["Detail"]) for e in self.trail("pk-1")
                 if e["Operation"] == "READ_METADATA"]
        self.assertIn(("READ_METADATA", "admin", "peaks"), reads)
        self.assertIn("alice", [r[1] for r in reads])
        self.assertNotIn("bob", [r[1] for r in reads])
        # Erased with the recording.
        erased = self.server.v1("DELETE", "/v1/recordings/pk-1", {"Reason": "test"})
        self.assertEqual(erased.status, 200, erased)
        self.assertFalse(os.path.exists(peaks_file))

    # ---- time -------------------------------------------------------------------------

    def test_max_pause_is_audited_once_and_never_resumes(self):
        alice = self.agent("alice")
        me = self.call("GET", "/v1/me", alice).json()
        self.assertEqual(me["MaxPauseSeconds"], 1)
        self.assertRegex(me["ServerTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.server.create_contact("mp-1", agent_id="alice")
        events = EventReader(self.server.port, alice)
        self.readers.append(events)
        created = self.server.get_contact("mp-1")
        self.assertEqual(created["Timing"]["RecordedSeconds"], 0)
        self.act("mp-1", alice, "Start recording")
        time.sleep(0.6)
        self.act("mp-1", alice, "Pause recording")
        paused = self.server.get_contact("mp-1")
        pause_line = [e for e in paused["AuditTrail"] if e["Operation"] == "PAUSE"][-1]
        self.assertEqual(paused["Timing"]["StateSince"], pause_line["Time"])
        self.assertAlmostEqual(paused["Timing"]["RecordedSeconds"], 0.6, delta=0.3)
        self.assertFalse(paused["Timing"]["PauseOverdue"])
        self.assertEqual(self.overdue_total(), 0)
        seen = events.wait_for(lambda e: e[1] == "contact" and (e[2].get("Audit") or {}).get(
            "Operation") == "PAUSE_OVERDUE", timeout=3)
        self.assertIsNotNone(seen, "the overdue pause was not pushed")
        self.assertTrue(seen[2]["Timing"]["PauseOverdue"])
        time.sleep(1.2)  # more checks pass: still once
        contact = self.server.get_contact("mp-1")
        overdue = [e for e in contact["AuditTrail"] if e["Operation"] == "PAUSE_OVERDUE"]
        self.assertEqual(len(overdue), 1, contact["AuditTrail"])
        self.assertEqual((overdue[0]["Principal"], overdue[0]["Result"]), ("server", "OK"))
        self.assertIn("--max-pause 0:01", overdue[0]["Detail"])
        self.assertIn("stays paused", overdue[0]["Detail"])
        self.assertEqual(contact["State"], "PAUSED", "the server never resumes by itself")
        self.assertTrue(contact["Timing"]["PauseOverdue"])
        self.assertEqual(self.overdue_total(), 1)
        # A new pause is a new one.
        self.act("mp-1", alice, "Resume recording")
        self.assertFalse(self.server.get_contact("mp-1")["Timing"]["PauseOverdue"])
        self.act("mp-1", alice, "Pause recording")
        deadline = time.monotonic() + 3
        while self.overdue_total() < 2:
            self.assertLess(time.monotonic(), deadline, "the second pause was not audited")
            time.sleep(0.1)
        self.server.v1("POST", "/v1/contacts/mp-1/end")
        self.assertNotIn("Timing", self.server.get_contact("mp-1"), "an ended contact has none")

    # ---- the supervisor ---------------------------------------------------------------

    def test_supervisor_watches_every_contact_and_listens_to_none(self):
        alice, bob = self.agent("alice"), self.agent("bob")
        sue = self.agent("sue", role="supervisor")
        self.assertEqual(self.call("GET", "/v1/me", sue).json()["Supervisor"], True)
        self.assertNotIn("Supervisor", self.call("GET", "/v1/me", alice).json())
        self.assertEqual(self.server.v1("POST", "/v1/agents",
                                        {"AgentId": "x", "Role": "boss"}).status, 400)
        events = EventReader(self.server.port, sue)
        self.readers.append(events)
        self.server.create_contact("sv-a", agent_id="alice")
        self.server.create_contact("sv-b", agent_id="bob")
        listed = sorted(c["ContactId"] for c in
                        self.call("GET", "/v1/contacts", sue).json()["Contacts"])
        self.assertEqual(listed, ["sv-a", "sv-b"])
        self.assertEqual(self.call("GET", "/v1/contacts/sv-b", sue).status, 200)
        self.act("sv-b", bob, "Start recording")
        pushed = events.wait_for(lambda e: e[1] == "contact" and e[2]["ContactId"] == "sv-b"
                                 and e[2]["State"] == "RECORDING")
        self.assertIsNotNone(pushed, "the supervisor's stream has every agent's changes")
        self.assertEqual(events.wait_for(lambda e: e[1] == "hello")[2],
                         {"AgentId": "sue", "Supervisor": True})
        # Watching is not acting, nor listening.
        for method, path, body in (
                ("GET", "/v1/contacts/sv-a/guide", None),
                ("POST", "/v1/contacts/sv-a/guide/actions",
                 {"Result": "ActionSelected", "ViewResultData": {"actionName": "Start recording"}}),
                ("POST", "/v1/contacts/sv-a/end", None),
                ("POST", "/v1/agents", {"AgentId": "y"})):
            with self.subTest(path=path):
                self.assertEqual(self.call(method, path, sue, body).status, 403)
        self.server.v1("POST", "/v1/contacts/sv-b/end")
        deadline = time.monotonic() + 5
        while not self.server.v1("GET", "/v1/recordings/sv-b").json().get("Complete"):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(self.call("GET", "/v1/recordings", sue).json(), {"Recordings": []})
        for what in ("", "/audio", "/peaks"):
            self.assertEqual(self.call("GET", "/v1/recordings/sv-b" + what, sue).status, 403, what)
        # An agent still sees their own only.
        self.assertEqual([c["ContactId"] for c in
                          self.call("GET", "/v1/contacts", alice).json()["Contacts"]], ["sv-a"])
        self.assertEqual(self.call("GET", "/v1/contacts/" + urllib.parse.quote("sv-b"),
                                   alice).status, 403)


if __name__ == "__main__":
    unittest.main()
