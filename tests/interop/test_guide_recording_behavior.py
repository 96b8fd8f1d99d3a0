"""A guide flow that pauses and resumes by itself, as Amazon Connect's own
flows do in a payment IVR: Connect's recording-behaviour block
(UpdateContactRecordingBehavior, RecordedParticipants [] to stop recording,
["Agent", "Customer"] to record again) run by the real server's guide runtime
(--guide-flow tests/fixtures/flows/payment-guide.json). The agent clicks
"Take card payment" and the recording pauses with no PAUSE button; "Payment
done" resumes it; the audit trail names the agent and the flow."""

import os

from harness import SERVER_BIN, ServerTestCase, click, guide_call

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
HERE = os.path.dirname(os.path.abspath(__file__))
FLOW = os.path.join(HERE, "..", "fixtures", "flows", "payment-guide.json")
AGENT, TOKEN = "pat", "pat-secret-token-for-payments"


class GuideRecordingBehaviorTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1800, RTP_BASE + 1819)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports, "--guide-flow", FLOW,
                           "--agent-token", "%s:%s" % (AGENT, TOKEN)],
            "name": "guide-behavior"}
        super().setUp()

    def guide(self, contact_id, action=None):
        reply = guide_call(self.server.port, contact_id, TOKEN,
                           None if action is None else click(action))
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def test_the_flow_pauses_for_the_card_and_records_again(self):
        self.server.create_contact("pay-1", agent_id=AGENT)
        body = self.guide("pay-1")  # the flow's first block starts the recording
        self.assertEqual(body["View"]["ViewData"]["Heading"], "Card payment")
        self.assertEqual(self.server.state("pay-1"), "RECORDING")
        self.guide("pay-1", "Take card payment")
        self.assertEqual(self.server.state("pay-1"), "PAUSED")
        self.guide("pay-1", "Take card payment")  # already paused: nothing changes
        self.assertEqual(self.server.state("pay-1"), "PAUSED")
        self.guide("pay-1", "Payment done")
        self.assertEqual(self.server.state("pay-1"), "RECORDING")
        trail = [(e["Operation"], e["Principal"], e["Result"], e["Detail"])
                 for e in self.server.get_contact("pay-1")["AuditTrail"]]
        flow = [t for t in trail if "flow=UpdateContactRecordingBehavior" in t[3]]
        self.assertEqual([t[:3] for t in flow], [("START", AGENT, "OK"), ("PAUSE", AGENT, "OK"),
                                                 ("RESUME", AGENT, "OK")], trail)
        self.assertIn("track=ALL", flow[0][3])

    def test_a_stopped_recording_stays_stopped_until_the_flow_records_again(self):
        self.server.create_contact("pay-2", agent_id=AGENT)
        self.guide("pay-2")
        self.assertEqual(self.server.connect_call("STOP", "pay-2").status, 200)
        self.guide("pay-2", "Take card payment")  # not recording: nothing to pause
        self.assertEqual(self.server.state("pay-2"), "STOPPED")
