"""POST /v1/contacts/{ContactId}/events: a CRM or payment page pauses and
resumes a recording without the agent, by event type (--event-rule
TYPE=PAUSE|RESUME). Called with the admin's or the contact's agent's bearer
token, or signed with a Connect access key (SigV4, service connect, signed by
botocore as the AWS SDKs sign). Each applied event is audited with its type;
bad input is refused with a clear error and changes nothing."""

import datetime
import json
import os

from harness import SERVER_BIN, ServerTestCase, http_call

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))


class ContactEventsTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1780, RTP_BASE + 1799)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports,
                           "--agent-token", "bob:bob-secret-token",
                           "--agent-token", "eve:eve-secret-token",
                           "--event-rule", "payment-form-opened=PAUSE",
                           "--event-rule", "payment-form-closed=RESUME",
                           "--event-rule", "crm.card-entry.done=RESUME"],
            "name": "events"}
        super().setUp()

    def post(self, contact_id, body, token):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return http_call(self.server.port, "POST", "/v1/contacts/%s/events" % contact_id, data,
                         [("Authorization", "Bearer %s" % token),
                          ("Content-Type", "application/json")])

    def recording(self, contact_id, agent_id="bob"):
        self.server.create_contact(contact_id, agent_id=agent_id)
        self.assertEqual(self.server.connect_call("START", contact_id).status, 200)
        self.wait_state(contact_id, "RECORDING")

    def test_agent_admin_and_signed_callers_pause_and_resume(self):
        self.recording("ev-1")
        reply = self.post("ev-1", {"Type": "payment-form-opened"}, "bob-secret-token")
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(reply.json(), {"ContactId": "ev-1", "Type": "payment-form-opened",
                                        "Operation": "PAUSE", "State": "PAUSED"})
        self.assertEqual(self.server.state("ev-1"), "PAUSED")
        reply = self.post("ev-1", {"Type": "payment-form-closed"}, self.server.admin_token)
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(reply.json()["State"], "RECORDING")
        # A Connect access key, signed by botocore (harness.sign).
        reply = self.server.signed_request("/v1/contacts/ev-1/events",
                                           {"Type": "payment-form-opened"})
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(self.server.state("ev-1"), "PAUSED")
        reply = self.server.signed_request("/v1/contacts/ev-1/events",
                                           {"Type": "crm.card-entry.done"})
        self.assertEqual(reply.json()["State"], "RECORDING")
        trail = [(e["Operation"], e["Principal"], e["Result"], e["Detail"])
                 for e in self.server.get_contact("ev-1")["AuditTrail"]]
        events = [t for t in trail if "event=" in t[3]]
        self.assertEqual(events, [
            ("PAUSE", "bob", "OK", "PAUSED event=payment-form-opened"),
            ("RESUME", "admin", "OK", "RECORDING event=payment-form-closed"),
            ("PAUSE", "AKIDTEST", "OK", "PAUSED event=payment-form-opened"),
            ("RESUME", "AKIDTEST", "OK", "RECORDING event=crm.card-entry.done")], trail)
        # An event that changes nothing is audited UNCHANGED, like the operation.
        reply = self.post("ev-1", {"Type": "payment-form-closed"}, "bob-secret-token")
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(self.server.get_contact("ev-1")["AuditTrail"][-1]["Result"], "UNCHANGED")

    def test_refusals_change_nothing(self):
        self.recording("ev-2")
        cases = [
            ({"Type": "lunch-break"}, "bob-secret-token", 400, "No rule for the event type"),
            ({"Kind": "payment-form-opened"}, "bob-secret-token", 400, "string Type"),
            (b"{not json", "bob-secret-token", 400, "string Type"),
            ({"Type": ["payment-form-opened"]}, "bob-secret-token", 400, "string Type"),
            ({"Type": "payment-form-opened"}, "eve-secret-token", 403, "not one of yours"),
            ({"Type": "payment-form-opened"}, "wrong-token", 401, "bearer token"),
        ]
        for body, token, status, text in cases:
            reply = self.post("ev-2", body, token)
            self.assertEqual(reply.status, status, (body, token, reply.text))
            self.assertIn(text, reply.text, (body, token))
        reply = self.post("no-such-contact", {"Type": "payment-form-opened"},
                          self.server.admin_token)
        self.assertEqual(reply.status, 404, reply.text)
        # A wrong secret, and a captured signed request replayed later.
        reply = self.server.signed_request("/v1/contacts/ev-2/events",
                                           {"Type": "payment-form-opened"}, secret_key="wrong")
        self.assertEqual(reply.status, 403, reply.text)
        # Signed 10 s ago: past the grace in which an SDK's repeat is expected.
        signed_body, headers = self.server.sign(
            "/v1/contacts/ev-2/events", {"Type": "payment-form-closed"},
            when=datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) -
            datetime.timedelta(seconds=10))
        self.assertEqual(http_call(self.server.port, "POST", "/v1/contacts/ev-2/events",
                                   signed_body, headers).status, 200)  # RECORDING: unchanged
        self.assertEqual(self.post("ev-2", {"Type": "payment-form-opened"},
                                   "bob-secret-token").status, 200)
        replay = http_call(self.server.port, "POST", "/v1/contacts/ev-2/events", signed_body,
                           headers)
        self.assertEqual(replay.status, 403, replay.text)
        self.assertIn("Signature already used", replay.text)
        self.assertEqual(self.server.state("ev-2"), "PAUSED")
        get = http_call(self.server.port, "GET", "/v1/contacts/ev-2/events", b"",
                        [("Authorization", "Bearer %s" % self.server.admin_token)])
        self.assertEqual(get.status, 405, get.text)

    def test_a_bad_rule_stops_the_server_at_start(self):
        server = self.new_server(start=False, extra_args=["--event-rule", "opened=DELETE"])
        with self.assertRaises(Exception):
            server.start(timeout=5)
        self.assertIn("the operation must be PAUSE or RESUME", server.stderr_text())
