"""Issue 20, points 2 to 4, in the pages (headless Chromium, tests/e2e/views.mjs)
against the real server with --max-pause 2: the admin sign-in said plainly;
the card's clocks, Alt+P, the max-pause countdown and "overdue"; visible
focus on every control; the supervisor's page with two agents; the
recordings page's waveform, its shaded pause measured on the canvas's pixels
against the metadata's offsets and the WAV, seeking from a pause row and a
mark, one Play control. The browser runs once for the class.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run by path, too
import audio  # noqa: E402
import rtp  # noqa: E402
from harness import ServerProcess  # noqa: E402
from test_workspace import (ARTIFACTS, E2E_DIR, WEB_DIR, BrowserScript,  # noqa: E402
                            require_browser)

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
RTP_PORTS = (RTP_BASE + 1720, RTP_BASE + 1759)
ALICE, BOB, SUE = "agent-alice", "agent-bob", "sup-sue"
CONTACTS = {"alice": "pg-a1", "bobPaused": "pg-b1", "bobNever": "pg-b2", "cut": "pg-cut"}
MAX_PAUSE = 2
TIMEZONE = "Europe/Paris"  # +01:00 in December, -: times carry their zone


def swelling(freq, peak, period):
    """samples_fn: a tone whose loudness swells and fades every `period` packets
    (never below a third of `peak`), so that the waveform shows it."""
    return lambda i: rtp.tone_packet(
        freq, i, int(peak * (0.35 + 0.65 * abs(math.sin(i * math.pi / period)))))


def seconds(clock):
    """'1:05' -> 65."""
    minutes, secs = clock.split(":")[-2:]
    return int(minutes) * 60 + int(secs)


class WorkspacePagesTest(unittest.TestCase):
    result = None

    @classmethod
    def setUpClass(cls):
        require_browser()
        cls.server = ServerProcess(name="pages", extra_args=[
            "--web-dir", WEB_DIR, "--rtp-ports", "%d-%d" % RTP_PORTS,
            "--max-pause", str(MAX_PAUSE)])
        cls.legs = []
        try:
            cls.server.start()
            cls.tokens = {ALICE: cls.agent(ALICE), BOB: cls.agent(BOB),
                          SUE: cls.agent(SUE, "supervisor")}
            a1 = cls.server.create_contact(CONTACTS["alice"], agent_id=ALICE)
            cls.server.create_contact(CONTACTS["bobPaused"], agent_id=BOB)
            cls.server.create_contact(CONTACTS["bobNever"], agent_id=BOB)
            cls.record_cut_call()
            for action in ("Start recording", "Pause recording"):
                cls.act(CONTACTS["bobPaused"], BOB, action)
            cls.result = cls.run_browser(a1)
            cls.contact = cls.server.get_contact(CONTACTS["alice"])
            cut_wav = cls.server.get_contact(CONTACTS["cut"])["Recording"]["Path"]
            with open(cut_wav[:-len(".wav")] + ".json") as f:
                cls.cut_meta = json.load(f)
            cls.wav_path = cls.contact["Recording"]["Path"]
            with open(cls.wav_path[:-len(".wav")] + ".json") as f:
                cls.meta = json.load(f)
            cls.wav = audio.read_wav(cls.wav_path)
            cls.metrics = cls.server.metrics()
        except BaseException:
            sys.stderr.write("\n==== callrec-server output ====\n%s\n" % cls.server.logs())
            cls.server.close()
            raise
        finally:
            for leg in cls.legs:
                leg.join(60)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.server.cleanup_files()

    @classmethod
    def agent(cls, agent_id, role="agent"):
        reply = cls.server.v1("POST", "/v1/agents", {"AgentId": agent_id, "Role": role})
        assert reply.status == 201, reply
        return reply.json()["Token"]

    @classmethod
    def act(cls, contact_id, agent, action):
        reply = cls.server.v1("POST", "/v1/contacts/%s/guide/actions" % contact_id,
                              {"Result": "ActionSelected", "ViewResultData": {"actionName": action}},
                              token=cls.tokens[agent])
        assert reply.status == 200, reply

    @classmethod
    def record_cut_call(cls):
        """alice's earlier call, paused under --pause-behavior skip: the pause is cut."""
        contact = cls.server.create_contact(CONTACTS["cut"], agent_id=ALICE,
                                            pause_behavior="skip")
        legs = [rtp.Leg(rtp.parse_addr(contact["Rtp"][leg]), "PCMU", swelling(freq, 8000, 40),
                        150, name=leg) for leg, freq in (("Customer", 600), ("Agent", 1000))]
        for leg in legs:
            leg.start()
        for action in ("Start recording", "Pause recording", "Resume recording"):
            cls.act(CONTACTS["cut"], ALICE, action)
            time.sleep(0.8)
        for leg in legs:
            leg.join(30)
        cls.server.v1("POST", "/v1/contacts/%s/end" % CONTACTS["cut"])

    @classmethod
    def run_browser(cls, contact):
        script = BrowserScript("views.mjs", {
            "url": cls.server.url + "/", "adminToken": cls.server.admin_token,
            "alice": {"id": ALICE, "token": cls.tokens[ALICE]},
            "bob": {"id": BOB, "token": cls.tokens[BOB]},
            "sue": {"id": SUE, "token": cls.tokens[SUE]},
            "contacts": CONTACTS, "maxPause": MAX_PAUSE, "artifacts": ARTIFACTS,
            "timezone": TIMEZONE})
        try:
            script.expect("ready", 90)
            # The call's audio: a tone on each leg all along (18 s), so that the
            # file is sound everywhere but in the pause.
            cls.legs = [
                rtp.Leg(rtp.parse_addr(contact["Rtp"]["Customer"]), "PCMU",
                        swelling(600, 9000, 60), 900, name="customer"),
                rtp.Leg(rtp.parse_addr(contact["Rtp"]["Agent"]), "PCMU",
                        swelling(1000, 6000, 45), 900, name="agent")]
            for leg in cls.legs:
                leg.start()
            return script.expect("done", 150)
        finally:
            script.close()

    # ---- sign-in ------------------------------------------------------------------------

    def test_admin_token_with_an_agent_id_says_so(self):
        admin = self.result["admin"]
        self.assertEqual(admin["who"], "Administrator (every agent)")
        self.assertIn("administrator token", admin["flash"])
        self.assertIn(ALICE, admin["flash"], "names the agent id it did not use")
        self.assertTrue(admin["stillShown"], "stays until dismissed")
        self.assertTrue(admin["supervisorLink"])

    # ---- the card's clocks ----------------------------------------------------------------

    def test_clocks_pause_shortcut_and_max_pause(self):
        card = self.result["card"]
        self.assertIn("Alt", self.result["shortcutHint"])
        self.assertEqual(self.result["pauseShortcut"], "Alt+P")
        self.assertIn(seconds(card["recording"]["recorded"]), (1, 2), card["recording"])
        self.assertGreaterEqual(seconds(card["recording"]["call"]),
                                seconds(card["recording"]["recorded"]))
        self.assertLess(card["pauseLatencyMs"], 1000, "Alt+P paused")
        samples = card["samples"]
        self.assertTrue(all(s["badge"] == "PAUSED" and s["pausedShown"] for s in samples), samples)
        paused = [seconds(s["pausedFor"].replace("Paused for ", "")) for s in samples]
        self.assertTrue(all(s["pausedFor"].startswith("Paused for ") for s in samples))
        self.assertEqual(paused, sorted(paused), "counts up")
        self.assertLessEqual(paused[0], 1)
        self.assertGreaterEqual(paused[-1], 3)
        self.assertEqual(len({s["recorded"] for s in samples}), 1, "recorded time stands still")
        self.assertEqual(len({s["call"] for s in samples}) > 1, True, "the call's clock runs")
        # Counting down to the limit, then overdue: never before the limit.
        tones = [s["tone"] for s in samples]
        first_over = tones.index("overdue")
        self.assertTrue(all(t == "countdown" for t in tones[:first_over]), tones)
        self.assertTrue(all(t == "overdue" for t in tones[first_over:]), tones)
        self.assertGreaterEqual(paused[first_over], MAX_PAUSE)
        self.assertLessEqual(paused[first_over - 1], MAX_PAUSE)
        left = [seconds(re.search(r"within (\d+:\d\d)", s["maxPause"]).group(1))
                for s in samples[:first_over]]
        self.assertEqual(left, sorted(left, reverse=True), "counts down")
        self.assertTrue(all(a + b in (MAX_PAUSE, MAX_PAUSE - 1) for a, b in
                            zip(left, paused[:first_over])), (left, paused))
        for s in samples[first_over:]:
            self.assertIn("Pause overdue by", s["maxPause"])
            self.assertIn("stays paused until you resume", s["maxPause"])
        # The server's word on it, live in the timeline and on the record.
        self.assertIn("PAUSE_OVERDUE", card["timelineOverdue"])
        self.assertIn("server", card["timelineOverdue"])
        trail = [e for e in self.contact["AuditTrail"] if e["Operation"] == "PAUSE_OVERDUE"]
        self.assertEqual(len(trail), 1, self.contact["AuditTrail"])
        counted = [line for line in self.metrics.splitlines()
                   if line.startswith("callrec_pauses_overdue_total ")]
        self.assertEqual(counted, ["callrec_pauses_overdue_total 2"], "alice's and bob's")
        # Alt+P again resumed; the pause clocks went.
        self.assertEqual(card["resumeBadge"], "RECORDING")
        self.assertFalse(card["afterResume"]["pausedShown"])
        self.assertIsNone(card["afterResume"]["maxPause"])
        ops = [(e["Operation"], e["Principal"]) for e in self.contact["AuditTrail"]]
        self.assertIn(("PAUSE", ALICE), ops)
        self.assertIn(("RESUME", ALICE), ops)

    def test_times_show_their_zone_and_dates_are_iso(self):
        card, rec = self.result["card"], self.result["recording"]
        self.assertTrue(card["timelineTime"].endswith("+01:00"), card["timelineTime"])
        self.assertIn("+01:00", card["attributes"])
        self.assertRegex(rec["startedCell"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+01:00$")
        date = rec["dateFilter"]
        self.assertEqual((date["type"], date["placeholder"]), ("text", "YYYY-MM-DD"))
        self.assertIn("+01:00", date["label"])

    # ---- focus ---------------------------------------------------------------------------

    def test_every_control_shows_its_focus(self):
        for page, walked in self.result["focus"].items():
            with self.subTest(page=page):
                self.assertGreaterEqual(len(walked), 5, walked)
                hidden = [w for w in walked
                          if w["outlineStyle"] == "none" or w["outlineWidth"] < 2]
                self.assertEqual(hidden, [], "focus not visible")
        tags = {w["tag"] for w in self.result["focus"]["recordings"]}
        self.assertTrue({"button", "input", "select", "a"} <= tags, tags)

    # ---- the supervisor --------------------------------------------------------------------

    def test_supervisor_sees_both_agents_live(self):
        sup = self.result["supervisor"]
        first = sup["first"]
        rows = {r["contact"]: r for r in first["rows"]}
        self.assertEqual(set(rows), {"pg-a1", "pg-b1", "pg-b2"}, "live ones only")
        self.assertEqual([r["agent"] for r in first["rows"]], [ALICE, BOB, BOB], "by agent")
        self.assertEqual(rows["pg-a1"]["state"], "PAUSED")
        self.assertIn("overdue", rows["pg-a1"]["flags"])
        self.assertEqual(rows["pg-b1"]["state"], "PAUSED")
        self.assertIn("overdue", rows["pg-b1"]["flags"])
        self.assertGreaterEqual(seconds(rows["pg-b1"]["pause"]), MAX_PAUSE)
        self.assertEqual(rows["pg-b1"]["pause"], rows["pg-b1"]["inState"])
        self.assertEqual(rows["pg-b2"]["state"], "NOT_STARTED")
        self.assertEqual(rows["pg-b2"]["flags"], ["never-recorded"])
        self.assertEqual(rows["pg-b2"]["pause"], "")
        counts = first["counts"]
        self.assertEqual((counts["LIVE"], counts["PAUSED"], counts["NOT_STARTED"],
                          counts["RECORDING"], counts["OVERDUE"], counts["NEVER_RECORDED"]),
                         ("3", "2", "1", "0", "2", "1"))
        self.assertIn("0:02", first["policy"])
        after = {r["contact"]: r for r in sup["afterResume"]["rows"]}
        self.assertEqual((after["pg-b1"]["state"], after["pg-b1"]["flags"]), ("RECORDING", []))
        self.assertLessEqual(seconds(after["pg-b1"]["inState"]), 2, "time in state restarted")
        self.assertEqual(sup["afterResume"]["counts"]["OVERDUE"], "1")
        self.assertLess(sup["shownMs"], 1000, "pushed")

    # ---- the waveform -----------------------------------------------------------------------

    def pause(self):
        pauses = self.meta["Pauses"]
        self.assertEqual(len(pauses), 1, pauses)
        return pauses[0]["FileOffsetStart"], pauses[0]["FileOffsetEnd"]

    def test_waveform_shades_the_pause_where_the_metadata_puts_it(self):
        start, end = self.pause()
        wave = self.result["recording"]["wave"]
        self.assertAlmostEqual(wave["duration"], self.wav.duration, places=2)
        px = wave["duration"] / wave["width"]  # seconds per canvas column
        self.assertEqual(len(wave["shadedRuns"]), 1, wave["shadedRuns"])
        x0, x1 = wave["shadedRuns"][0]
        self.assertAlmostEqual(x0 * px, start, delta=2 * px + 0.01)
        self.assertAlmostEqual(x1 * px, end, delta=2 * px + 0.01)
        # The file is silent there (the WAV itself), and sound on either side;
        # the drawn lanes say the same.
        for name, channel in (("customer", self.wav.left), ("agent", self.wav.right)):
            # (one packet's precision, and a sender on a busy machine: 0.1 s)
            self.assertTrue(audio.is_silent(channel, start + 0.1, end - 0.1),
                            "%s: %s" % (name, audio.nonzero_report(channel, start, end)))
        margin = max(3, int(0.1 / px) + 1)
        for lane in ("customer", "agent"):
            heights = wave["lanes"][lane]
            inside = heights[x0 + margin:x1 - margin]
            outside = heights[5:x0 - margin] + heights[x1 + margin:-5]
            self.assertLessEqual(max(inside), 1, lane)
            self.assertGreater(sorted(outside)[len(outside) // 2], 20, lane)
        label = wave["labels"][0]
        self.assertEqual(label["kind"], "silence")
        self.assertIn("silence", label["text"])
        self.assertAlmostEqual(label["share"], start / wave["duration"], delta=0.005)
        marks = {m["operation"]: m for m in wave["marks"]}
        for op in ("START", "PAUSE", "PAUSE_OVERDUE", "RESUME", "STOP"):
            self.assertIn(op, marks)
        self.assertAlmostEqual(marks["PAUSE"]["offset"], start, delta=0.1)
        self.assertAlmostEqual(marks["RESUME"]["offset"], end, delta=0.1)
        self.assertAlmostEqual(marks["PAUSE_OVERDUE"]["offset"], start, delta=0.1)

    def test_a_cut_pause_is_marked_where_the_file_was_cut(self):
        pauses = self.cut_meta["Pauses"]
        self.assertEqual(len(pauses), 1, pauses)
        at = pauses[0]["FileOffsetStart"]
        self.assertEqual(pauses[0]["FileOffsetEnd"], at, "cut: one point in the file")
        wave = self.result["recording"]["cut"]
        px = wave["duration"] / wave["width"]
        self.assertEqual(wave["shadedRuns"], [], "nothing of a cut pause is in the file")
        self.assertEqual(len(wave["cutRuns"]), 1, wave["cutRuns"])
        x0, x1 = wave["cutRuns"][0]
        self.assertLessEqual(x1 - x0, 4)
        self.assertAlmostEqual((x0 + x1) / 2 * px, at, delta=2 * px + 0.01)
        self.assertEqual(wave["labels"][0]["kind"], "cut")
        self.assertRegex(wave["labels"][0]["text"], r"^Cut \d+\.\d s$")
        self.assertAlmostEqual(float(wave["labels"][0]["text"].split()[1]),
                               pauses[0]["PausedSeconds"], delta=0.051)

    def test_one_player_control_and_seeking(self):
        rec = self.result["recording"]
        start, _ = self.pause()
        self.assertEqual(rec["playButtons"], 0, "the player's own control only")
        self.assertTrue(rec["readyWithoutPlay"])
        self.assertAlmostEqual(rec["seekRow"]["currentTime"], start, delta=0.05)
        self.assertAlmostEqual(rec["seekRow"]["playhead"], rec["seekRow"]["currentTime"], delta=0.05)
        self.assertAlmostEqual(rec["seekMark"]["currentTime"], rec["seekMark"]["offset"], delta=0.05)
        playing = rec["playing"]
        self.assertFalse(playing["paused"])
        self.assertGreater(playing["currentTime"], rec["seekMark"]["currentTime"] + 0.2)
        self.assertAlmostEqual(playing["playheadShare"], playing["currentTime"] / playing["duration"],
                               delta=0.03)

    def test_pages_raise_no_errors_and_screenshots_are_kept(self):
        self.assertEqual(self.result["errors"], {"admin": [], "alice": [], "sue": []})
        names = [os.path.basename(p) for p in self.result["screenshots"]]
        for label in ("admin-signed-in", "paused-countdown", "pause-overdue", "supervisor",
                      "recording-waveform"):
            self.assertTrue(any(n.endswith("-%s.png" % label) for n in names), (label, names))


class ViewsLogicTest(unittest.TestCase):
    """The card's clocks and the waveform's placing of pauses and marks, on
    made-up contacts and metadata (tests/e2e/views.test.mjs; no browser)."""

    def test_views_logic(self):
        if shutil.which("node") is None:
            self.fail("node is missing (scripts/install-deps.sh installs it)")
        run = subprocess.run(["node", "--test", os.path.join(E2E_DIR, "views.test.mjs")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout[-4000:])
        self.assertIn("# fail 0", run.stdout)


if __name__ == "__main__":
    unittest.main()
