"""A guide flow as the Amazon Connect console exports it, run by the real
callrec-server (issue 15): tests/fixtures/flows/console-export-guide.json
(written by hand in the console's shape: {"Id": "cards", "Version": "Latest"},
a Lambda ARN of another account, UUID identifiers, string time limits,
STRING_MAP, AttributeBar links, Back, NoMatchFound, the console's Metadata) is
the server's --guide-flow. An agent drives Start, Pause, Resume and Stop
through the guide API as the workspace does, and after each step the contact's
recording state, read back over /v1, is what the button asked for. Views other
than Cards are refused at start-up, naming the block.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run by path, too
from harness import (SERVER_BIN, ServerTestCase, click, free_port,  # noqa: E402
                     free_sip_port, guide_call)

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
EXPORT = os.path.join(ROOT, "tests", "fixtures", "flows", "console-export-guide.json")
CARD = "e3b1c2d4-5a6f-4b7c-8d9e-0f1a2b3c4d5e"  # the export's ShowView block
AGENT, TOKEN = "alice", "alice-secret-token-for-the-export"


class GuideExportTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1440, RTP_BASE + 1459)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports, "--guide-flow", EXPORT,
                           "--agent-token", "%s:%s" % (AGENT, TOKEN)],
            "name": "guide-export", "log_level": "info"}
        super().setUp()

    def guide(self, contact_id, output=None):
        """GET the guide, or POST the view's output as the workspace does."""
        reply = guide_call(self.server.port, contact_id, TOKEN, output)
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def click(self, contact_id, action):
        return self.guide(contact_id, click(action))

    @staticmethod
    def card(body):
        return body["View"]["ViewData"]["Cards"][0]

    def test_start_pause_resume_stop_change_the_real_recording(self):
        self.server.create_contact("export-1", agent_id=AGENT)
        body = self.guide("export-1")
        view = body["View"]
        self.assertEqual(view["Action"], CARD)
        self.assertEqual(view["ViewResource"], "cards")
        self.assertEqual(view["ViewResourceId"], "cards")
        data = view["ViewData"]
        self.assertEqual(data["Heading"], "Manage Call Recording")
        self.assertEqual(data["AttributeBar"][0],
                         {"Label": "Contact", "Value": "export-1", "LinkType": "case",
                          "ResourceId": "export-1", "Copyable": True})
        self.assertEqual(data["Back"], {"Label": "Back"})
        self.assertEqual(data["NoMatchFound"], {"Label": "None of these"})
        self.assertIn("NOT RECORDING", self.card(body)["Detail"]["Sections"][0]["TemplateString"])
        # The workspace's Start/Pause/Resume/Stop buttons find the export's actions.
        self.assertEqual(body["ActionOperations"], {
            "Start Recording": {"Operation": "START", "Track": "ALL"},
            "Pause Recording": {"Operation": "PAUSE"},
            "Resume Recording": {"Operation": "RESUME"},
            "Stop Recording": {"Operation": "STOP"}})
        self.assertEqual(self.server.state("export-1"), "NOT_STARTED")

        for action, state, status, badge in (
                ("Start Recording", "RECORDING", "ON", "RECORDING"),
                ("Pause Recording", "PAUSED", "PAUSED", "PAUSED"),
                ("Resume Recording", "RECORDING", "ON", "RECORDING"),
                ("Stop Recording", "STOPPED", "OFF", "STOPPED ⬤")):
            with self.subTest(action=action):
                body = self.click("export-1", action)
                # The real state, read back over /v1, not what the flow says.
                contact = self.server.get_contact("export-1")
                self.assertEqual(contact["State"], state)
                self.assertEqual(body["State"], state)
                self.assertEqual(body["View"]["Action"], CARD)
                self.assertEqual(body["Attributes"]["callRecordingStatus"], status)
                self.assertEqual(self.card(body)["Summary"]["Status"], status)
                self.assertEqual(self.card(body)["Summary"]["Description"],
                                 "%s succeeded." % action.split()[0].upper())
                self.assertIn(badge, self.card(body)["Detail"]["Sections"][0]["TemplateString"])
        self.assertEqual(contact["Track"], "ALL")
        trail = self.server.get_contact("export-1")["AuditTrail"]
        self.assertEqual([(e["Operation"], e["Principal"], e["Result"]) for e in trail[1:]],
                         [("START", AGENT, "OK"), ("PAUSE", AGENT, "OK"),
                          ("RESUME", AGENT, "OK"), ("STOP", AGENT, "OK")])
        # The log names the function the flow names, not its whole ARN.
        lambdas = [json.loads(line) for line in self.server.stderr_text().splitlines()
                   if '"guide.lambda"' in line]
        self.assertTrue(lambdas)
        self.assertEqual({entry.get("function") for entry in lambdas}, {"RecordingControl"})

    def test_back_and_no_match_found_take_their_branches(self):
        self.server.create_contact("export-2", agent_id=AGENT)
        self.guide("export-2")
        body = self.guide("export-2", {"Result": "Back"})
        self.assertEqual(body["View"]["Action"], CARD)
        body = self.guide("export-2", {"Result": "NoMatchFound"})
        self.assertEqual(body["View"]["Action"], CARD)
        self.assertEqual(self.card(body)["Summary"]["Description"],
                         "No recording action was chosen.")
        self.assertEqual(self.server.state("export-2"), "NOT_STARTED")
        self.assertEqual(len(self.server.get_contact("export-2")["AuditTrail"]), 1,
                         "no operation was asked for")


class GuideExportRefusedTest(unittest.TestCase):
    def test_views_other_than_cards_are_refused_naming_the_block(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        with open(EXPORT) as f:
            export = json.load(f)
        for resource, why in (({"Id": "form", "Version": "Latest"}, "view 'form'"),
                              ({"Id": "cards", "Version": "banana"}, "banana"),
                              ({"Id": "arn:aws:connect:us-east-1:aws:view/detail"}, "view/detail")):
            with self.subTest(resource=resource), tempfile.TemporaryDirectory() as tmp:
                flow = copy.deepcopy(export)
                next(a for a in flow["Actions"] if a["Identifier"] == CARD)["Parameters"][
                    "ViewResource"] = resource
                path = os.path.join(tmp, "guide.json")
                with open(path, "w") as f:
                    json.dump(flow, f)
                run = subprocess.run([SERVER_BIN, "--data-dir", os.path.join(tmp, "data"),
                                      "--listen", "127.0.0.1:%d" % free_port(),
                                      "--sip-listen", "127.0.0.1:%d" % free_sip_port(),
                                      "--guide-flow", path], capture_output=True, text=True,
                                     timeout=30)
                self.assertNotEqual(run.returncode, 0)
                self.assertIn("block '%s', ShowView" % CARD, run.stderr)
                self.assertIn(why, run.stderr)


if __name__ == "__main__":
    unittest.main()
