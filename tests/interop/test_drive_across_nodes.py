"""The agent's workspace signed in on one node drives a call recorded on
another: two callrec-server nodes on one real PostgreSQL 15
(tests/interop/postgres.py's shared cluster, a database of their own), each with
its --node-id, --advertise-url and the shared --cluster-secret-file. A contact
is created on node B, whose RTP ports get the call's audio (tests/interop/rtp.py
legs, a tone on each); the agent signs in to node A's workspace in Chromium
(tests/e2e/drive.mjs) and clicks the guide card's Start, Pause, Resume and Stop.
Each click goes through A's guide run and is applied by B, the owner, which
holds the media: B's /v1 shows the state after each click, the page shows the
badge, and B's audit trail has each operation by the agent, forwarded by A.

Pause compliance across the nodes, by tone analysis of B's recording: the legs
send a third tone only from the moment the page showed PAUSED until well before
the Resume click; it is nowhere in the file, B's gate counted those packets,
the paused span is digital silence where the metadata says, and it lies between
the clicks and their acknowledgements. The call's own tones are there before
the pause and after the resume.
"""

import datetime
import json
import os
import tempfile
import threading
import time
import unittest

import audio
import postgres
import rtp
from harness import SERVER_BIN, NodeLogsOnFailure, ServerProcess, complete_metadata, free_port
from media_call import ABSENT, PTIME, TONE_A, TONE_B, TONE_C, fmt_spans, parse_iso
from test_workspace import ARTIFACTS, WEB_DIR, BrowserScript, require_browser

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
# This module's RTP ports: offsets +3300..+3399 (node A +3300..+3339, B +3340..+3379).
RTP_PORTS = {"A": (RTP_BASE + 3300, RTP_BASE + 3339), "B": (RTP_BASE + 3340, RTP_BASE + 3379)}
SECRET = "forwarding secret of the drive test nodes"
AGENT = "agent-dora"
CONTACT = "drive-1"
OPERATIONS = (("START", "RECORDING"), ("PAUSE", "PAUSED"), ("RESUME", "RECORDING"),
              ("STOP", "STOPPED"))
BADGE_TEXT = {"RECORDING": "RECORDING", "PAUSED": "PAUSED", "STOPPED": "STOPPED"}
# The page's schedule (tests/e2e/drive.mjs): Start 0.5 s after the contact shows,
# Pause 1.5 s after RECORDING shows, Resume 2 s after PAUSED shows, Stop 1.5 s
# after RECORDING shows again: about 6 s of call.
SCHEDULE = {"start": 0.5, "pause": 1.5, "holdMs": 2000, "stop": 1.5}
# The paused tone is sent from when the test hears of PAUSED on the page until
# this long after it showed: it ends 1 s before the Resume click.
SECRET_SECONDS = 1.0
LEG_SECONDS = 9.0
TOL = 0.06  # s: tone edges against the metadata's pause offsets


class DriveAcrossNodesTest(NodeLogsOnFailure, unittest.TestCase):
    nodes = {}

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.pg = postgres.shared()
        uri = self.pg.uri(self.pg.create_database("drive"))
        secret_dir = tempfile.mkdtemp(prefix="callrec-drive-")
        self.secret_file = os.path.join(secret_dir, "cluster-secret")
        with open(self.secret_file, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(self.secret_file, 0o600)
        self.nodes = {}
        for name in "AB":
            node = ServerProcess(name="drive-%s" % name.lower(), log_level="info", extra_args=[
                "--store", uri, "--node-id", "node-%s" % name.lower(),
                "--cluster-secret-file", self.secret_file,
                "--rtp-ports", "%d-%d" % RTP_PORTS[name], "--web-dir", WEB_DIR])
            node.port = free_port()  # known before the start: the advertised URL names it
            node.extra_args += ["--advertise-url", "http://127.0.0.1:%d" % node.port]
            self.nodes[name] = node
            self.addCleanup(node.close)
            node.start()
        self.addCleanup(lambda: (os.remove(self.secret_file), os.rmdir(secret_dir)))

    def run(self, result=None):
        try:
            return super().run(result)  # prints the nodes' logs if the test failed
        finally:
            for node in getattr(self, "nodes", {}).values():
                node.cleanup_files()

    @property
    def a(self):
        return self.nodes["A"]

    @property
    def b(self):
        return self.nodes["B"]

    def test_agent_on_a_drives_a_call_recorded_on_b(self):
        require_browser()
        reply = self.a.v1("POST", "/v1/agents", {"AgentId": AGENT})
        self.assertEqual(reply.status, 201, reply)
        script = BrowserScript("drive.mjs", {
            "a": self.a.url, "b": self.b.url, "admin": self.b.admin_token,
            "agent": {"id": AGENT, "token": reply.json()["Token"]}, "contact": CONTACT,
            "artifacts": ARTIFACTS, "schedule": SCHEDULE})
        paused = {"from": None, "until": None}
        secret_sent = {}  # leg name -> [wall time of each packet of the paused tone]
        lock = threading.Lock()

        def leg_tone(name, tone):
            secret_sent[name] = []

            def samples(slot):
                now = time.time()
                with lock:
                    secret = paused["from"] is not None and now < paused["until"]
                if secret:
                    secret_sent[name].append(now)
                    return rtp.tone_packet(TONE_C, slot)
                return rtp.tone_packet(tone, slot)
            return samples

        legs = []
        ops = {}
        try:
            script.expect("ready", 60)
            contact = self.b.create_contact(CONTACT, agent_id=AGENT)
            t0 = time.perf_counter()
            packets = int(LEG_SECONDS / PTIME)
            for name, tone, addr in (("customer", TONE_A, contact["Rtp"]["Customer"]),
                                     ("agent", TONE_B, contact["Rtp"]["Agent"])):
                host, port = rtp.parse_addr(addr)
                self.assertTrue(RTP_PORTS["B"][0] <= port <= RTP_PORTS["B"][1],
                                "%s: not one of node B's ports" % addr)
                legs.append(rtp.Leg((host, port), "PCMU", leg_tone(name, tone), packets,
                                    name=name, t0=t0).start())
            for op, _ in OPERATIONS:
                message = script.expect("op", 30)
                self.assertEqual(message["op"], op, message)
                if op == "PAUSE":
                    with lock:
                        paused["from"] = time.time()
                        paused["until"] = message["ackNow"] / 1000.0 + SECRET_SECONDS
                ops[op] = message
            done = script.expect("done", 30)
        finally:
            script.close()
            for leg in legs:
                leg.join(LEG_SECONDS + 10)
        legs_ended = time.time()
        print("\n  click -> badge on A, applied by B (ms): %s" % {
            op: round(v["latencyMs"]) for op, v in done["operations"].items()})

        # The page: each badge, and B's own /v1 right after it.
        self.assertEqual(done["signedInAs"], AGENT)
        self.assertEqual(done["firstBadge"]["state"], "NOT_STARTED")
        self.assertEqual(done["enabledBefore"], ["START"])
        for op, state in OPERATIONS:
            shown = done["operations"][op]
            self.assertEqual((shown["badgeState"], shown["badgeText"]), (state, BADGE_TEXT[state]),
                             op)
            self.assertEqual((shown["statusOnB"], shown["stateOnB"]), (200, state),
                             "%s: B's state after the click" % op)
        self.assertEqual(done["errors"], [])
        # Every click went to A (the page's node), none to B.
        self.assertEqual(len(done["actionRequests"]), 4, done["actionRequests"])
        for url in done["actionRequests"]:
            self.assertTrue(url.startswith(self.a.url + "/"), url)
        self.assertLess(ops["STOP"]["ackNow"] / 1000.0, legs_ended - 0.5,
                        "the legs ended before the Stop: the call was too short for the page")

        # B's audit trail: each operation once, by the agent, forwarded by A.
        self.assertEqual(self.b.v1("POST", "/v1/contacts/%s/end" % CONTACT).status, 200)
        on_b = self.b.get_contact(CONTACT)
        lines = [(e["Operation"], e["Principal"], e["Result"], e.get("Detail", ""))
                 for e in on_b["AuditTrail"]]
        for op, state in OPERATIONS:
            mine = [line for line in lines if line[0] == op]
            self.assertEqual(len(mine), 1, lines)
            self.assertEqual(mine[0][1:3], (AGENT, "OK"), lines)
            self.assertIn("forwarded-by=node-a", mine[0][3], lines)
        self.assertEqual(self.a.get_contact(CONTACT)["AuditTrail"], on_b["AuditTrail"])

        # The recording is B's, and only B's.
        path = on_b["Recording"]["Path"]
        self.assertTrue(path.startswith(self.b.data_dir + os.sep), path)
        self.assertEqual([f for _, _, files in os.walk(self.a.data_dir) for f in files
                          if f.endswith(".wav")], [], "a recording on node A")
        meta = complete_metadata(path)
        wav = audio.read_wav(path)

        # The paused tone was sent (only after PAUSED showed, ending before the
        # Resume click), B gated it, and it is nowhere in the file.
        pause, resume = ops["PAUSE"], ops["RESUME"]
        for name, sent in secret_sent.items():
            self.assertGreater(len(sent), 30, "%s: the test sent little paused tone" % name)
            self.assertGreaterEqual(sent[0], pause["ackNow"] / 1000.0, name)
            self.assertLess(sent[-1], resume["clickNow"] / 1000.0 - 0.5, name)
        for name, channel in (("left", wav.left), ("right", wav.right)):
            level = audio.max_tone_amplitude(channel, TONE_C)
            self.assertLess(level, ABSENT, "paused tone on the %s at %.0f (spans %s)" % (
                name, level, fmt_spans(audio.tone_spans(channel, TONE_C))))
        self.assertGreaterEqual(meta["Counters"]["Gated"],
                                sum(len(sent) for sent in secret_sent.values()), meta["Counters"])

        # One pause, decided by B between the clicks and what the page showed.
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        p = meta["Pauses"][0]
        for edge, op in (("Start", pause), ("End", resume)):
            at = parse_iso(p[edge]).replace(tzinfo=datetime.timezone.utc).timestamp()
            self.assertTrue(op["clickNow"] / 1000.0 - 0.05 <= at <= op["ackNow"] / 1000.0 + 0.05,
                            "Pauses[0].%s %s not between the click and the badge %s" % (
                                edge, p[edge], op))
        # The paused span is silence; the call's tones are there before and after it.
        for name, channel in (("left", wav.left), ("right", wav.right)):
            self.assertTrue(audio.is_silent(channel, p["FileOffsetStart"] + PTIME,
                                            p["FileOffsetEnd"] - PTIME),
                            "paused span on the %s: %s" % (name, audio.nonzero_report(
                                channel, p["FileOffsetStart"], p["FileOffsetEnd"])))
        for name, channel, tone in (("left", wav.left, TONE_A), ("right", wav.right, TONE_B)):
            spans = audio.tone_spans(channel, tone)
            msg = "%d Hz on the %s: %s, pause %.3f-%.3f, file %.3f s" % (
                tone, name, fmt_spans(spans), p["FileOffsetStart"], p["FileOffsetEnd"],
                wav.duration)
            self.assertEqual(len(spans), 2, msg)
            (s0, e0), (s1, e1) = spans
            self.assertLess(s0, TOL, msg)
            self.assertAlmostEqual(e0, p["FileOffsetStart"], delta=TOL, msg=msg)
            self.assertAlmostEqual(s1, p["FileOffsetEnd"], delta=TOL, msg=msg)
            self.assertGreater(e1, wav.duration - TOL, msg)
        self.assertAlmostEqual(p["FileOffsetEnd"] - p["FileOffsetStart"],
                               (resume["ackNow"] - pause["ackNow"]) / 1000.0, delta=0.3)
        self.assertTrue(meta["Complete"])
        with open(os.path.join(ARTIFACTS, "drive-metadata.json"), "w") as f:
            json.dump(meta, f, indent=1)

    def guide_on_a(self, token, contact_id):
        reply = self.a.v1("GET", "/v1/contacts/%s/guide" % contact_id, token=token)
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def guides_in_memory(self, node):
        for line in node.metrics().splitlines():
            if line.startswith("callrec_guides_in_memory "):
                return int(line.split()[1])
        self.fail("no callrec_guides_in_memory in /metrics")

    def test_guide_on_a_follows_what_b_does(self):
        """A's guide run of B's contact is told of the changes made on B by
        others (a Connect API call on B here; a recording client's pause or a
        DTMF policy alike): the card's status says what B holds, as it does for
        a node's own contacts; and the run is dropped when B ends the contact."""
        reply = self.a.v1("POST", "/v1/agents", {"AgentId": AGENT})
        self.assertEqual(reply.status, 201, reply)
        token = reply.json()["Token"]
        self.b.create_contact("follow-1", agent_id=AGENT)
        opened = self.guide_on_a(token, "follow-1")
        self.assertEqual(opened["Attributes"]["callRecordingStatus"], "OFF", opened)
        self.assertEqual(self.guides_in_memory(self.a), 1)
        self.assertEqual(opened["Attributes"]["callRecordingMessage"],
                         "Recording has not been started.", opened)
        for op, state, status, message in (
                ("START", "RECORDING", "ON", "Recording."),
                ("PAUSE", "PAUSED", "PAUSED", "Paused: nothing is being recorded.")):
            self.assertEqual(self.b.connect_call(op, "follow-1").status, 200)
            deadline = time.monotonic() + 3
            while True:
                guide = self.guide_on_a(token, "follow-1")
                shown = guide["Attributes"]["callRecordingStatus"]
                if shown == status or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(guide["State"], state, guide)
            self.assertEqual(shown, status, "A's card after %s on B: %s" % (op, guide))
            # Its description too: not the message of the state it showed before.
            self.assertEqual(guide["Attributes"]["callRecordingMessage"], message, guide)
            self.assertEqual(guide["View"]["ViewData"], self.guide_on_a(token, "follow-1")["View"]
                             ["ViewData"])
        self.assertIn(">PAUSED", json.dumps(guide["View"]["ViewData"]), guide["View"])
        self.assertEqual(self.b.v1("POST", "/v1/contacts/follow-1/end").status, 200)
        deadline = time.monotonic() + 3
        while self.guides_in_memory(self.a) != 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.guides_in_memory(self.a), 0, "A kept the run of a contact B ended")


if __name__ == "__main__":
    unittest.main()
