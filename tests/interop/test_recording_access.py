"""Who listened and how long a recording is kept: every playback, download and
metadata read (curl here; Chromium in test_workspace) is a line in the
contact's audit trail, ranged reads folded per principal and minute; an admin
erases a recording for a data subject (audited ERASED, the audio 404 after),
an agent cannot; a legal hold exempts it from erasure and retention until
released; --retention deletes recordings that ended long enough ago, and only
those, each audited EXPIRED.
"""

import json
import os
import subprocess
import time

import rtp
from harness import ServerTestCase, metric, parse_metrics

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
READS = ("PLAYBACK", "DOWNLOAD", "READ_METADATA")


class RecordingCase(ServerTestCase):
    rtp_ports = (RTP_BASE + 1640, RTP_BASE + 1659)
    extra = ()

    def setUp(self):
        self.server_kwargs = {"extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports] +
                              list(self.extra), "name": "access"}
        super().setUp()

    def record(self, contact_id, agent_id="agent-1", seconds=1.0, end=True):
        """A /v1 contact recorded for `seconds` (a tone), stopped and (by default) ended."""
        contact = self.server.create_contact(contact_id, agent_id=agent_id)
        self.assertEqual(self.server.connect_call("START", contact_id).status, 200)
        leg = rtp.Leg(rtp.parse_addr(contact["Rtp"]["Customer"]), "PCMU", rtp.tone_fn(600),
                      int(seconds / rtp.PTIME))
        rtp.run_legs([leg])
        time.sleep(0.15)
        self.assertEqual(self.server.connect_call("STOP", contact_id).status, 200)
        if end:
            self.assertEqual(self.server.v1("POST", "/v1/contacts/%s/end" % contact_id).status, 200)
        self.final_metadata(contact_id)
        return self.server.get_contact(contact_id)["Recording"]["Path"]

    def curl(self, path, token=None, *args):
        """curl's status line and body bytes."""
        done = subprocess.run(
            ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H",
             "Authorization: Bearer %s" % (token or self.server.admin_token)] + list(args) +
            [self.server.url + path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        body, _, status = done.stdout.rpartition(b"\n")
        return int(status), body

    def reads(self, contact_id):
        trail = self.server.get_contact(contact_id)["AuditTrail"]
        return [(e["Operation"], e["Principal"], e["Detail"]) for e in trail
                if e["Operation"] in READS]

    def trail_ops(self, contact_id):
        return [(e["Operation"], e["Principal"], e["Detail"])
                for e in self.server.get_contact(contact_id)["AuditTrail"]]

    def agent_token(self, agent_id):
        reply = self.server.v1("POST", "/v1/agents", {"AgentId": agent_id})
        self.assertEqual(reply.status, 201, reply)
        return reply.json()["Token"]


class AccessAuditTest(RecordingCase):

    def test_reads_are_audited_and_folded(self):
        wav = self.record("acc-1")
        size = os.path.getsize(wav)
        minute = int(time.time() // 60)
        # Ranged reads as a player makes them: one line.
        for first, last in ((0, 1023), (1024, size // 2), (size // 2 + 1, size - 1)):
            status, body = self.curl("/v1/recordings/acc-1/audio", None, "-r",
                                     "%d-%d" % (first, last))
            self.assertEqual(status, 206)
            self.assertEqual(len(body), last - first + 1)
        status, body = self.curl("/v1/recordings/acc-1/audio")
        self.assertEqual((status, len(body)), (200, size), "a whole download")
        status, body = self.curl("/v1/recordings/acc-1")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["ContactId"], "acc-1")
        token = self.agent_token("agent-1")
        self.assertEqual(self.curl("/v1/recordings/acc-1/audio?for=playback", token)[0], 200)
        bob = self.agent_token("agent-bob")
        self.assertEqual(self.curl("/v1/recordings/acc-1/audio", bob)[0], 403)
        reads = self.reads("acc-1")
        if int(time.time() // 60) != minute:
            self.skipTest("a minute boundary fell inside the reads: folding not checkable")
        self.assertEqual(reads, [
            ("PLAYBACK", "admin", "bytes 0-1023/%d" % size),
            ("DOWNLOAD", "admin", "bytes 0-%d/%d" % (size - 1, size)),
            ("READ_METADATA", "admin", "metadata"),
            ("PLAYBACK", "agent-1", "bytes 0-%d/%d" % (size - 1, size)),
        ])
        values = parse_metrics(self.server.metrics())
        self.assertEqual(metric(values, "callrec_recording_reads_audited_total", line="written"), 4)
        self.assertEqual(metric(values, "callrec_recording_reads_audited_total", line="folded"), 2)


class ErasureAndHoldTest(RecordingCase):

    def test_erasure_by_the_admin_only_and_never_under_hold(self):
        self.record("erase-1")
        agent = self.agent_token("agent-1")
        reason = {"Reason": "GDPR art. 17 request #4711"}
        self.assertEqual(self.server.v1("DELETE", "/v1/recordings/erase-1", reason,
                                        token=agent).status, 403)
        self.assertEqual(self.server.v1("DELETE", "/v1/recordings/erase-1", {}).status, 400)
        # A legal hold: placed, shown, blocks erasure, released.
        held = self.server.v1("POST", "/v1/recordings/erase-1/hold", {"Reason": "litigation 12"})
        self.assertEqual(held.status, 200, held)
        self.assertEqual(held.json()["LegalHold"]["Reason"], "litigation 12")
        self.assertEqual(self.server.v1("POST", "/v1/recordings/erase-1/hold",
                                        {"Reason": "x"}, token=agent).status, 403)
        self.assertEqual(self.server.v1("GET", "/v1/recordings/erase-1").json()["LegalHold"]["By"],
                         "admin")
        refused = self.server.v1("DELETE", "/v1/recordings/erase-1", reason)
        self.assertEqual(refused.status, 409, refused)
        self.assertIn("legal hold", refused.json()["message"])
        self.assertEqual(self.curl("/v1/recordings/erase-1/audio")[0], 200, "still there")
        released = self.server.v1("DELETE", "/v1/recordings/erase-1/hold")
        self.assertEqual(released.status, 200, released)
        self.assertIsNone(released.json()["LegalHold"])
        erased = self.server.v1("DELETE", "/v1/recordings/erase-1", reason)
        self.assertEqual(erased.status, 200, erased)
        self.assertEqual(self.curl("/v1/recordings/erase-1/audio")[0], 404)
        self.assertEqual(self.curl("/v1/recordings/erase-1")[0], 404)
        ops = self.trail_ops("erase-1")
        self.assertIn(("LEGAL_HOLD", "admin", "reason: litigation 12"), ops)
        self.assertIn(("ERASED", "admin", "reason: GDPR art. 17 request #4711"), ops)
        self.assertTrue(any(op == "LEGAL_HOLD_RELEASED" for op, _, _ in ops), ops)
        self.assertEqual(self.server.v1("DELETE", "/v1/recordings/erase-1", reason).status, 404)

    def test_a_live_recording_is_not_erased(self):
        contact = self.server.create_contact("erase-live")
        self.assertEqual(self.server.connect_call("START", "erase-live").status, 200)
        rtp.run_legs([rtp.Leg(rtp.parse_addr(contact["Rtp"]["Customer"]), "PCMU",
                              rtp.tone_fn(600), 10)])
        refused = self.server.v1("DELETE", "/v1/recordings/erase-live", {"Reason": "r"})
        self.assertEqual(refused.status, 409, refused)
        self.assertIn("RECORDING", refused.json()["message"])


class RetentionTest(RecordingCase):
    extra = ("--retention", "0.00003")  # 2.6 s; swept every second

    def test_old_recordings_go_held_and_recent_ones_stay(self):
        old = self.record("ret-old")
        held = self.record("ret-held")
        self.assertEqual(self.server.v1("POST", "/v1/recordings/ret-held/hold",
                                        {"Reason": "audit"}).status, 200)
        time.sleep(1.5)
        recent = self.record("ret-recent")
        deadline = time.monotonic() + 10
        while os.path.exists(old) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(old), "the old recording was not deleted")
        self.assertFalse(os.path.exists(old[:-4] + ".json"))
        self.assertTrue(os.path.exists(recent), "a recording younger than --retention went")
        self.assertTrue(os.path.exists(held))
        self.assertIn(("EXPIRED", "retention"),
                      [(op, who) for op, who, _ in self.trail_ops("ret-old")])
        deadline = time.monotonic() + 10
        while os.path.exists(recent) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(recent))
        time.sleep(1.5)
        self.assertTrue(os.path.exists(held), "a held recording is kept")
        self.assertEqual(metric(parse_metrics(self.server.metrics()),
                                "callrec_recordings_expired_total"), 2)
