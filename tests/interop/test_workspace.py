"""The agent workspace end to end (issue 6): the real callrec-server serving
web/, headless Chromium driven by playwright-core (tests/e2e/workspace.mjs),
and a real SIPREC call from callrec-callgen.

An agent signs in, the call arrives and its card shows NOT RECORDING; Start,
Pause, Resume and Stop go through the guide flow and the badge follows within
300 ms (timed in the page); the recording's tone analysis shows the pause; a
second agent sees nothing of the call and may not open it; the recordings page
lists it, shows its metadata, plays it and downloads the same bytes. Every state
is kept as a screenshot in $CALLREC_BUILD_DIR/e2e-artifacts/.

The browser part runs once for the class; each test checks one part of it.
"""

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run by path, too
import audio  # noqa: E402
from harness import (BUILD_DIR, SERVER_BIN, ServerProcess, free_port,  # noqa: E402
                     free_sip_port, http_call)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
WEB_DIR = os.path.join(REPO, "web")
E2E_DIR = os.path.join(REPO, "tests", "e2e")
AUDIO = os.path.join(REPO, "tests", "fixtures", "audio")
CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
CHROMIUM = os.environ.get("CALLREC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ.get("CALLREC_E2E_ARTIFACTS", os.path.join(BUILD_DIR, "e2e-artifacts"))
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
RTP_PORTS = (RTP_BASE + 1300, RTP_BASE + 1339)

# tests/fixtures/audio/README.md: the two 5 s files, looped for the call's length.
CUSTOMER_WAV = os.path.join(AUDIO, "customer_ulaw.wav")  # 600 Hz 0.5-1.5, 1400 Hz 3.0-4.0
AGENT_WAV = os.path.join(AUDIO, "agent_ulaw.wav")  # 1000 Hz 1.0-2.0, 1800 Hz 3.5-4.5
# When the browser presses each button, in seconds after the call shows up in the
# page (~ the 200 OK): the pause covers both 3.x s tones with margins.
SCHEDULE = {"start": 0.3, "pause": 2.4, "resume": 4.8, "stop": 7.2}
CALL_SECONDS = 10
CONTACT = "wk-call-1"
ALICE = "agent-alice"
BOB = "agent-bob"
PAUSE_LIMIT_MS = 300  # issue 6: Pause -> PAUSED within 300 ms
TOL = 0.06  # s: tone edges (as in test_callgen)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_node_modules():
    """tests/e2e/node_modules as package-lock.json says (scripts/install-deps.sh
    does the same); npm ci only when it is missing."""
    if os.path.isdir(os.path.join(E2E_DIR, "node_modules", "playwright-core")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=E2E_DIR, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)


class BrowserScript:
    """A tests/e2e script run by node with its config in $CALLREC_E2E; it speaks
    JSON lines on stdout ({"event": "ready" | "done" | "error", ...})."""

    def __init__(self, name, config):
        env = dict(os.environ, CALLREC_E2E=json.dumps(config), CALLREC_CHROMIUM=CHROMIUM)
        self.name = name
        self.proc = subprocess.Popen(["node", os.path.join(E2E_DIR, name)], cwd=E2E_DIR, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, event, timeout):
        """The next message; an AssertionError unless it is `event`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: no %r in %ss" % (self.name, event, timeout))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("%s exited without %r: %s" % (
                    self.name, event, self.proc.stderr.read()[-4000:]))
            if not line.startswith("{"):
                continue
            message = json.loads(line)
            if message.get("event") != event:
                raise AssertionError("%s: expected %r, got %s" % (
                    self.name, event, json.dumps(message, indent=1)[:20000]))
            return message

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def require_browser():
    if not os.path.exists(CHROMIUM):
        raise unittest.SkipTest("no Chromium at %s (scripts/install-deps.sh installs it)"
                                % CHROMIUM)
    if not os.path.exists(SERVER_BIN):
        raise unittest.SkipTest("no %s" % SERVER_BIN)
    if shutil.which("node") is None:
        raise AssertionError("node is missing (scripts/install-deps.sh installs it)")
    ensure_node_modules()
    os.makedirs(ARTIFACTS, exist_ok=True)


class WorkspaceEndToEndTest(unittest.TestCase):
    result = None

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CALLGEN_BIN):
            raise unittest.SkipTest("no %s" % CALLGEN_BIN)
        require_browser()
        cls.server = ServerProcess(name="workspace", extra_args=[
            "--web-dir", WEB_DIR, "--rtp-ports", "%d-%d" % RTP_PORTS,
            "--agent-match", "^sip:agent"])
        try:
            cls.server.start()
            cls.tokens = {agent: cls.create_agent(agent) for agent in (ALICE, BOB)}
            cls.result, cls.callgen_report = cls.run_browser()
            cls.contact = cls.server.get_contact(CONTACT)
            cls.wav_path = cls.contact["Recording"]["Path"]
            with open(cls.wav_path[:-len(".wav")] + ".json") as f:
                cls.meta = json.load(f)
            cls.wav = audio.read_wav(cls.wav_path)
        except BaseException:
            sys.stderr.write("\n==== callrec-server output ====\n%s\n" % cls.server.logs())
            cls.server.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.server.cleanup_files()

    @classmethod
    def create_agent(cls, agent_id):
        reply = cls.server.v1("POST", "/v1/agents", {"AgentId": agent_id})
        if reply.status != 201:
            raise AssertionError("POST /v1/agents %s: %r" % (agent_id, reply))
        body = reply.json()
        assert body["AgentId"] == agent_id, body
        return body["Token"]

    @classmethod
    def run_browser(cls):
        script = BrowserScript("workspace.mjs", {
            "url": cls.server.url + "/", "adminToken": cls.server.admin_token,
            "alice": {"id": ALICE, "token": cls.tokens[ALICE]},
            "bob": {"id": BOB, "token": cls.tokens[BOB]},
            "contactId": CONTACT, "artifacts": ARTIFACTS, "schedule": SCHEDULE,
        })
        callgen = None
        try:
            script.expect("ready", 90)
            callgen, out, err = cls.place_call()
            done = script.expect("done", 180)
            if out is None:
                out, err = callgen.communicate(timeout=60)
            if callgen.returncode != 0:
                raise AssertionError("callgen failed:\n%s\n%s" % (out, err))
            return done, json.loads(out)
        finally:
            script.close()
            if callgen is not None and callgen.poll() is None:
                callgen.kill()
                callgen.communicate()

    @classmethod
    def place_call(cls):
        """Starts callgen's call; (process, out, err), out and err None while it runs.
        A call that failed before its INVITE because no even RTP port was free (a
        machine crowded by a benchmark) is placed again: nothing of it exists yet."""
        argv = [CALLGEN_BIN, "--target", "127.0.0.1:%d" % cls.server.sip_port,
                "--contact-id", CONTACT, "--duration", str(CALL_SECONDS),
                "--agent-aor", "sip:%s@cc.example" % ALICE, "--customer-wav", CUSTOMER_WAV,
                "--agent-wav", AGENT_WAV, "--json"]
        for attempt in range(5):
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            try:
                out, err = proc.communicate(timeout=2)
            except subprocess.TimeoutExpired:
                return proc, None, None  # the call is on
            if proc.returncode == 0 or "no even port" not in out or attempt == 4:
                return proc, out, err
            sys.stderr.write("callgen: %s; placing the call again\n"
                             % json.loads(out)["sessions"][0]["failure"])
            time.sleep(0.5)
        raise AssertionError("unreachable")

    # ---- the card -------------------------------------------------------------------

    def test_card_follows_start_pause_resume_stop(self):
        r = self.result
        self.assertEqual(r["signedInAs"], ALICE)
        self.assertEqual((r["firstState"], r["firstBadgeText"]), ("NOT_STARTED", "NOT RECORDING"))
        self.assertEqual(r["enabledBefore"], ["START"], "only Start before recording")
        ops = r["operations"]
        self.assertEqual(ops["START"]["badgeText"], "RECORDING")
        self.assertEqual(ops["PAUSE"]["badgeText"], "PAUSED")
        self.assertEqual(ops["RESUME"]["badgeText"], "RECORDING")
        self.assertEqual(ops["STOP"]["badgeText"], "STOPPED")
        self.assertEqual(sorted(ops["START"]["enabledAfter"]), ["PAUSE", "STOP"])
        self.assertEqual(sorted(ops["PAUSE"]["enabledAfter"]), ["RESUME", "STOP"])
        self.assertEqual(sorted(ops["RESUME"]["enabledAfter"]), ["PAUSE", "STOP"])
        self.assertNotIn("PAUSE", ops["STOP"]["enabledAfter"])
        self.assertNotIn("RESUME", ops["STOP"]["enabledAfter"])
        # The timeline got every operation live, each done by the guide flow.
        seen = [(e["operation"], e["result"]) for e in r["timeline"]]
        for op in ("START", "PAUSE", "RESUME", "STOP"):
            self.assertIn((op, "OK"), seen, r["timeline"])
        trail = [(e["Operation"], e["Result"]) for e in self.contact["AuditTrail"]]
        for op in ("START", "PAUSE", "RESUME", "STOP"):
            self.assertEqual(trail.count((op, "OK")), 1, trail)
        self.assertEqual(self.contact["State"], "ENDED")
        self.assertEqual(r["pageErrors"], {"alice": [], "bob": []})

    def test_start_with_the_customer_track_only(self):
        track = self.result["track"]
        self.assertEqual(track["track"], "TO_AGENT", track)
        self.assertTrue(track["shownCustomerOnly"], track)
        starts = [e for e in track["audit"] if e[0] == "START"]
        self.assertEqual(len(starts), 1, track["audit"])
        self.assertEqual(starts[0][1:3], [ALICE, "OK"])

    def test_pause_shows_within_300_ms(self):
        ops = self.result["operations"]
        latencies = {op: round(v["latencyMs"], 1) for op, v in ops.items()}
        sys.stderr.write("\nclick -> badge (ms, in the page): %s\n" % latencies)
        self.assertLess(ops["PAUSE"]["latencyMs"], PAUSE_LIMIT_MS, latencies)
        for op in ("START", "RESUME", "STOP"):
            self.assertLess(ops[op]["latencyMs"], 1000, latencies)

    def test_guide_cards_view_is_rendered(self):
        guide = self.result["guide"]
        self.assertEqual(guide["heading"], "Manage Call Recording")
        for action in ("Start recording", "Start customer only", "Start agent only",
                       "Pause recording", "Resume recording", "Stop recording"):
            self.assertIn(action, guide["actions"])
        self.assertIn(self.contact["InitialContactId"], guide["attributeBar"])
        self.assertIn("PAUSED", self.result["pausedSection"])

    def test_changes_are_pushed_not_polled(self):
        push = self.result["push"]
        self.assertEqual(push["answerStatus"], 200, push)
        self.assertIsNotNone(push["shownAfterAnswerMs"], "the change never showed: %s" % push)
        self.assertLess(push["shownAfterAnswerMs"], 300, push)
        self.assertEqual(push["requestsMeanwhile"], [], "the page asked instead of being told")

    # ---- the recording ----------------------------------------------------------------

    def test_recording_has_the_pause_where_the_agent_pressed_it(self):
        wav, ops = self.wav, self.result["operations"]
        # Anchor on the agent's first 1000 Hz (call time 1.0-2.0): its place in the
        # file gives the call time of file offset 0.
        spans = audio.tone_spans(wav.right, 1000, min_duration=0.5)
        self.assertTrue(spans, "no agent tone at all")
        origin = 1.0 - spans[0][0]
        self.assertAlmostEqual(spans[0][1] - spans[0][0], 1.0, delta=2 * TOL,
                               msg="the first agent tone is whole: %s" % spans)
        # In the pause (2.4-4.8): 1400 Hz (3.0-4.0) and 1800 Hz (3.5-4.5) are absent.
        self.assertLess(audio.max_tone_amplitude(wav.left, 1400), 300, "customer during the pause")
        self.assertLess(audio.max_tone_amplitude(wav.right, 1800), 300, "agent during the pause")
        # After the resume: the loop's second 600 Hz (5.5-6.5).
        found = audio.tone_spans(wav.left, 600, min_duration=0.1)
        self.assertTrue(any(abs(s - (5.5 - origin)) <= TOL and abs(e - (6.5 - origin)) <= TOL
                            for s, e in found), "600 Hz after the resume: %s (origin %.3f)"
                        % (found, origin))
        # Nothing after the Stop: the file is as long as Start to Stop.
        recorded = ops["STOP"]["badgeAt"] - ops["START"]["badgeAt"]
        self.assertAlmostEqual(wav.duration, recorded, delta=0.3)
        pauses = self.meta["Pauses"]
        self.assertEqual(len(pauses), 1, self.meta)
        self.assertAlmostEqual(pauses[0]["FileOffsetStart"], ops["PAUSE"]["clickAt"] - origin,
                               delta=0.3)
        self.assertTrue(self.meta["Complete"])

    # ---- another agent ----------------------------------------------------------------

    def test_another_agent_sees_nothing_of_it(self):
        bob = self.result["bob"]
        self.assertEqual(bob["contactsShown"], [])
        self.assertTrue(bob["noContactsShown"])
        self.assertEqual([items for items in bob["listsSeen"] if items], [],
                         "a contact of alice's showed in bob's list at some point")
        self.assertEqual(bob["badgesSeen"], [], "no contact card ever showed for bob")
        self.assertFalse(bob["cardVisible"])
        self.assertIn("another agent", bob["noSelectionText"])
        self.assertTrue(bob["flash"], "the refusal is shown")
        self.assertEqual(bob["api"]["contact"], 403)
        self.assertEqual(bob["api"]["guide"], 403)
        self.assertEqual(bob["api"]["action"], 403)
        self.assertIn(bob["api"]["recording"], (403, 404))
        self.assertIn(bob["api"]["audio"], (403, 404))
        self.assertEqual(bob["recordingRows"], [])
        # bob's refused action changed nothing
        trail = [(e["Operation"], e["Result"]) for e in self.contact["AuditTrail"]]
        self.assertEqual(trail.count(("PAUSE", "OK")), 1, trail)

    # ---- the recordings page ------------------------------------------------------------

    def test_recordings_page_lists_plays_and_downloads(self):
        rec = self.result["recording"]
        self.assertIn(CONTACT, rec["rows"])
        # Contact, Initial contact, Agent, Started, Duration, Pauses, Status, Actions
        row = rec["row"]
        self.assertEqual(row[0], CONTACT)
        self.assertEqual(row[2], ALICE)
        self.assertRegex(row[3], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$")
        self.assertEqual(row[5], "1", "one pause")
        self.assertEqual(row[6], "Complete")
        filters = rec["filters"]
        self.assertEqual(filters["contactId"], [CONTACT])
        self.assertNotIn(CONTACT, filters["incomplete"])
        self.assertIn(CONTACT, filters["complete"])
        self.assertIn(CONTACT, filters["sameDay"])
        self.assertEqual(filters["otherDay"], [])
        on_disk = sha256_file(self.wav_path)
        self.assertEqual(self.meta["Sha256"], on_disk)
        self.assertEqual(rec["shaShown"], on_disk)
        self.assertIn("Complete", rec["metadataText"])
        self.assertEqual(len(rec["pauseRows"]), 1, rec["pauseRows"])
        for op in ("START", "PAUSE", "RESUME", "STOP"):
            self.assertIn(op, rec["auditShown"])
        self.assertAlmostEqual(rec["audio"]["duration"], self.wav.duration, delta=0.1)
        self.assertGreater(rec["audio"]["currentTime"], 0.2, "it played")
        self.assertEqual(rec["audio"]["src"], "blob:")
        self.assertEqual(rec["downloadName"], CONTACT + ".wav")
        self.assertEqual(sha256_file(rec["downloadPath"]), on_disk, "the download is the file")
        # Who listened: the page's access history and the contact's audit trail.
        shown = {(row[1], row[2]) for row in rec["accessRows"]}
        for what in ("Played", "Downloaded", "Opened"):
            self.assertIn((ALICE, what), shown, rec["accessRows"])
        trail = self.server.get_contact(CONTACT)["AuditTrail"]
        reads = [(e["Operation"], e["Principal"]) for e in trail
                 if e["Operation"] in ("PLAYBACK", "DOWNLOAD", "READ_METADATA")]
        self.assertIn(("PLAYBACK", ALICE), reads)
        self.assertIn(("DOWNLOAD", ALICE), reads)
        # The page and the test read the metadata many times: folded per minute.
        self.assertLessEqual(reads.count(("READ_METADATA", ALICE)), 3, reads)
        self.assertLessEqual(reads.count(("PLAYBACK", ALICE)), 2, reads)
        self.assertNotIn(BOB, {p for _, p in reads}, "a refused read is not an access")

    def test_sign_in_and_out(self):
        bad = self.result["badToken"]
        self.assertIn("not accepted", bad["error"])
        self.assertTrue(bad["appHidden"])
        self.assertEqual(bad["stored"], 0)
        out = self.result["signOut"]
        self.assertEqual(out["keysBefore"], ["callrec.session"])
        self.assertEqual(out["keysAfter"], [])
        self.assertTrue(out["signInShown"])

    def test_screenshots_of_each_state_are_kept(self):
        names = [os.path.basename(p) for p in self.result["screenshots"]]
        for label in ("not-recording", "recording", "paused", "resumed", "stopped", "ended",
                      "customer-only", "forbidden", "recording-detail"):
            self.assertTrue(any(n.endswith("-%s.png" % label) for n in names), (label, names))
        for path in self.result["screenshots"]:
            self.assertGreater(os.path.getsize(path), 10000, path)


class ReconnectTest(unittest.TestCase):
    """The server goes away mid-call (issue 20): the page shows no state the
    server has not confirmed, and after the server is back it shows the real
    one only once it has read it again (tests/e2e/reconnect.mjs)."""

    def setUp(self):
        require_browser()
        self.server = ServerProcess(name="reconnect", extra_args=[
            "--web-dir", WEB_DIR, "--rtp-ports", "%d-%d" % (RTP_PORTS[1] + 42, RTP_PORTS[1] + 57)])  # two calls
        self.addCleanup(self.server.cleanup_files)
        self.addCleanup(self.server.close)
        self.server.start()

    def test_server_goes_away_mid_call(self):
        token = self.server.v1("POST", "/v1/agents", {"AgentId": ALICE}).json()["Token"]
        self.server.create_contact("rc-1", agent_id=ALICE)
        self.server.create_contact("rc-2", agent_id=ALICE)
        script = BrowserScript("reconnect.mjs", {
            "url": self.server.url + "/", "adminToken": self.server.admin_token,
            "alice": {"id": ALICE, "token": token}, "contactId": "rc-1", "otherId": "rc-2",
            "artifacts": ARTIFACTS})
        port = self.server.port
        try:
            script.expect("ready", 60)
            self.assertEqual(self.server.state("rc-1"), "RECORDING")
            self.server.stop()
            down = script.expect("down", 60)
            self.server.start()  # the same data dir and port
            self.assertEqual(self.server.port, port, "the page knows only this port")
            done = script.expect("done", 60)
        finally:
            script.close()
        self.check_before(done["before"])
        self.check_down(down)
        self.check_after(done)

    def check_before(self, before):
        self.assertEqual((before["badge"]["state"], before["badge"]["text"]),
                         ("RECORDING", "RECORDING"))
        self.assertIsNone(before["guideUnknown"])
        self.assertIsNone(before["warning"])
        self.assertIn("RECORDING", before["guideText"])

    def check_down(self, down):
        """Every badge and the guide card: STATUS UNKNOWN, neutral, reconnecting;
        the controls warn. Also after a Pause tried meanwhile failed."""
        self.assertLess(down["noticedMs"], 5000, down)
        for when in ("down", "afterPause"):
            shown = down[when]
            self.assertNotEqual(shown["live"], "live", when)
            badge = shown["badge"]
            self.assertEqual((badge["state"], badge["text"]), ("UNKNOWN", "STATUS UNKNOWN"), when)
            self.assertIn("neutral", badge["tone"], when)
            self.assertIn("reconnecting", badge["detail"].lower(), when)
            self.assertEqual(sorted(item["contact"] for item in shown["list"]), ["rc-1", "rc-2"])
            for item in shown["list"]:
                self.assertEqual(item["text"], "STATUS UNKNOWN", (when, item))
                self.assertIn("neutral", item["tone"], (when, item))
                self.assertIn("reconnecting", item["meta"], (when, item))
            self.assertIn("STATUS UNKNOWN", shown["guideUnknown"] or "", when)
            self.assertIn("reconnecting", shown["guideUnknown"].lower(), when)
            for claim in ("RECORDING ⬤", "PAUSED ⬤", "NOT RECORDING", "STOPPED"):
                self.assertNotIn(claim, shown["guideText"], (when, shown["guideText"]))
            self.assertIn("may not take effect", shown["warning"] or "", when)
            enabled = [b for b in shown["buttons"] if not b["disabled"]]
            self.assertTrue(enabled, "the buttons the server last allowed stay usable")
            for button in enabled:
                self.assertIn("may not take effect", button["title"], (when, button))
        self.assertIn("failed", down["pauseFlash"])

    def check_after(self, done):
        # Down: nothing but UNKNOWN, until the real state (the restart ended the
        # call that was recording) — never the RECORDING seen before.
        self.assertEqual(done["badgesSinceGone"], ["UNKNOWN", "ENDED"])
        # Shown only after the page read the contacts again, after the stream was back.
        reads = done["reads"]
        answered = [r["end"] for r in reads
                    if r["path"] in ("/v1/contacts", "/v1/contacts/rc-1") and r["end"] > 0]
        self.assertTrue(answered, reads)
        self.assertGreaterEqual(done["realShownAt"], min(answered), done)
        guide_reads = [r["end"] for r in reads if r["path"] == "/v1/contacts/rc-1/guide"]
        self.assertTrue(guide_reads, reads)
        known = [g["t"] for g in done["guideShown"] if not g["unknown"]]
        self.assertTrue(known, done["guideShown"])
        self.assertGreaterEqual(known[-1], min(guide_reads), done)
        after = done["after"]
        self.assertEqual((after["badge"]["state"], after["badge"]["text"]), ("ENDED", "ENDED"))
        self.assertIsNone(after["warning"])
        self.assertEqual({i["contact"]: i["text"] for i in after["list"]},
                         {"rc-1": "ENDED", "rc-2": "NOT RECORDING"})
        self.assertNotIn("STATUS UNKNOWN", after["guideText"])
        # The guide, opened afresh by the restarted server, names the state as the badge
        # does and does not say the recording was never started.
        self.assertIn("ENDED ⬤", after["guideText"])
        self.assertIn("The contact has ended.", after["guideText"])
        self.assertNotIn("has not been started", after["guideText"])
        # Live again: changes are pushed as before.
        self.assertEqual(done["answerStatus"], 200, done)
        self.assertEqual(done["liveStates"][-1], "live")
        self.assertIn("connecting", done["liveStates"])
        self.assertLess(done["pushShownMs"], 1000, done)
        self.assertEqual(done["errors"], [])


class MakeRunDemoTest(unittest.TestCase):
    """`make run`'s demo (scripts/demo.sh): the dialogue generated with espeak-ng,
    the server up with the demo agent, the call placed and waiting for the agent
    to press Start, and everything gone after Ctrl-C (SIGTERM here)."""

    def setUp(self):
        for binary in (SERVER_BIN, CALLGEN_BIN):
            if not os.path.exists(binary):
                self.skipTest("no %s" % binary)
        if shutil.which("espeak-ng") is None:
            self.skipTest("no espeak-ng (scripts/install-deps.sh installs it)")
        self.tmp = tempfile.mkdtemp(prefix="callrec-demo-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_demo_call_waits_for_the_agent(self):
        port, sip = free_port(), free_sip_port()
        audio_dir = os.path.join(self.tmp, "audio")
        env = dict(os.environ, BUILD_DIR=BUILD_DIR, DEMO_AUDIO_DIR=audio_dir, CALL_SECONDS="30")
        script = subprocess.Popen(
            ["bash", "scripts/demo.sh", "--listen", "127.0.0.1:%d" % port, "--sip-listen",
             "127.0.0.1:%d" % sip, "--data-dir", os.path.join(self.tmp, "data"), "--rtp-ports",
             "%d-%d" % (RTP_PORTS[1] + 2, RTP_PORTS[1] + 41), "--log-level", "warn"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.addCleanup(self.stop, script)
        printed, info = [], {}
        deadline = time.monotonic() + 60
        while "contact" not in info and time.monotonic() < deadline:
            line = script.stdout.readline()
            if not line:
                break
            printed.append(line)
            for key, pattern in (("url", r"Agent workspace\s+(\S+)"), ("token", r"Token\s+(\S+)"),
                                 ("contact", r"A call \((\S+)\)")):
                match = re.search(pattern, line)
                if match:
                    info[key] = match.group(1)
        self.assertEqual(set(info), {"url", "token", "contact"}, "".join(printed))
        self.assertEqual(info["url"], "http://127.0.0.1:%d/?agent=demo-agent" % port)
        me = http_call(port, "GET", "/v1/me", headers=[("Authorization", "Bearer " + info["token"])])
        self.assertEqual(me.json()["AgentId"], "demo-agent")
        # The call is the demo agent's and nothing records until they press Start.
        contact = None
        for _ in range(100):
            reply = http_call(port, "GET", "/v1/contacts",
                              headers=[("Authorization", "Bearer " + info["token"])])
            contacts = reply.json()["Contacts"]
            if contacts:
                contact = contacts[0]
                break
            time.sleep(0.05)
        self.assertIsNotNone(contact, "the demo call never arrived")
        self.assertEqual((contact["ContactId"], contact["AgentId"], contact["State"]),
                         (info["contact"], "demo-agent", "NOT_STARTED"))
        self.assertEqual(http_call(port, "GET", "/").status, 200)
        self.check_dialogue(audio_dir)
        # Ctrl-C ends the server and the call.
        self.stop(script)
        with self.assertRaises(OSError):
            http_call(port, "GET", "/healthz", timeout=2)
        left = subprocess.run(["pgrep", "-f", audio_dir], stdout=subprocess.PIPE, text=True)
        self.assertEqual(left.stdout, "", "callgen is still running")

    def check_dialogue(self, audio_dir):
        """The customer reads the card number, announced, alone, on their track."""
        with open(os.path.join(audio_dir, "timeline.json")) as f:
            timeline = json.load(f)
        turns = timeline["turns"]
        card = [t for t in turns if t["card_number"]]
        self.assertEqual(len(card), 1)
        card = card[0]
        self.assertEqual(card["speaker"], "customer")
        self.assertIn("four one one one", card["text"].lower())
        before = turns[turns.index(card) - 1]
        self.assertIn("card number", before["text"])
        self.assertGreaterEqual(card["start"] - before["end"], 3.0, "time to press Pause")
        self.assertLess(card["start"], timeline["duration"] / 2 + 10, "about half-way")
        customer = audio.read_wav(os.path.join(audio_dir, "customer.wav"))
        agent = audio.read_wav(os.path.join(audio_dir, "agent.wav"))
        self.assertEqual((customer.rate, customer.channels, agent.rate), (8000, 1, 8000))

        def level(track, start, end):
            part = track.channel_data[0][int(start * 8000):int(end * 8000)]
            return (sum(x * x for x in part) / max(1, len(part))) ** 0.5

        self.assertGreater(level(customer, card["start"], card["end"]), 500, "the card is spoken")
        self.assertLess(level(agent, card["start"], card["end"]), 5, "the agent is silent then")
        self.assertLess(level(customer, before["start"], before["end"]), 5)

    @staticmethod
    def stop(script):
        if script.poll() is None:
            script.terminate()
            try:
                script.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(script.pid, signal.SIGKILL)
                script.wait()
        script.stdout.close()


class EventStreamParserTest(unittest.TestCase):
    """The page's text/event-stream parser on every way of cutting a stream
    into chunks (tests/e2e/events.test.mjs, node's test runner; no browser)."""

    def test_parser(self):
        if shutil.which("node") is None:
            self.fail("node is missing (scripts/install-deps.sh installs it)")
        run = subprocess.run(["node", "--test", os.path.join(E2E_DIR, "events.test.mjs")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout[-4000:])
        self.assertIn("# fail 0", run.stdout)


class CardsViewTest(unittest.TestCase):
    """The page's Cards view renderer on view data as the Connect console writes
    it (AttributeBar links, SubHeading, Back, NoMatchFound) and of the wrong
    shape: text stays text, nothing throws (tests/e2e/cards.test.mjs; no browser)."""

    def test_cards_view(self):
        if shutil.which("node") is None:
            self.fail("node is missing (scripts/install-deps.sh installs it)")
        run = subprocess.run(["node", "--test", os.path.join(E2E_DIR, "cards.test.mjs")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout[-4000:])
        self.assertIn("# fail 0", run.stdout)


if __name__ == "__main__":
    unittest.main()
