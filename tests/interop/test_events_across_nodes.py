"""`/v1/events` on any node streams the changes made on every node: two
callrec-server nodes on one real PostgreSQL 15 (tests/interop/postgres.py's
shared cluster, one database per test, each node its own data directory and
--node-id). A contact created and operated on node B through /v1 and the
Connect API, and a SIPREC call recorded on node B (tests/interop/sipclient.py),
reach a stream opened on node A in the same order and JSON shape as on B,
within a second; an agent's stream on A sees only that agent's contacts;
PostgreSQL restarted while streaming: node A's feed listens again by itself
and the changes made meanwhile and afterwards reach it. In Chromium
(tests/e2e/nodes.mjs), the supervisor's page on node A shows a contact of
node B change state as the agent drives it on B."""

import os
import time
import unittest

import postgres
import sipclient
from harness import SERVER_BIN, ServerTestCase, http_call
from test_workspace import ARTIFACTS, BrowserScript, require_browser
from test_workspace_api import EventReader

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
# This module's RTP ports: offsets +3140..+3199 (node A the first half, B the second).
RTP_A = (RTP_BASE + 3140, RTP_BASE + 3169)
RTP_B = (RTP_BASE + 3170, RTP_BASE + 3199)

CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")


def contact_events(reader, contact_id):
    """The contact events of `contact_id` a reader got so far: (time, data)."""
    with reader.lock:
        return [(at, data) for at, name, data in reader.events
                if name == "contact" and data["ContactId"] == contact_id]


def shape(data):
    """What must be equal on both nodes: the keys, the state and the audit line."""
    audit = data["Audit"]
    return (sorted(data.keys()), data["State"], data["Version"] if "Version" in data else None,
            audit and (audit["Operation"], audit["Principal"], audit["Result"],
                       audit.get("Detail")))


class EventsAcrossNodesTest(ServerTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.shared()

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        super().setUp()
        self.readers = []
        self.clients = []
        uri = self.pg.uri(self.pg.create_database("events"))
        common = ["--store", uri, "--auto-record", "ALL", "--agent-match", "^sip:agent"]
        self.a = self.new_server(name="node-a", extra_args=common + [
            "--node-id", "node-a", "--rtp-ports", "%d-%d" % RTP_A])
        self.b = self.new_server(name="node-b", extra_args=common + [
            "--node-id", "node-b", "--rtp-ports", "%d-%d" % RTP_B])

    def tearDown(self):
        for reader in self.readers:
            reader.close()
        for client in self.clients:
            client.close()
        super().tearDown()

    def stream(self, server, token=None):
        reader = EventReader(server.port, token or server.admin_token)
        self.readers.append(reader)
        self.assertIsNotNone(reader.wait_for(lambda e: e[1] == "hello"), "no hello")
        return reader

    def wait_events(self, reader, contact_id, count, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = contact_events(reader, contact_id)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        return contact_events(reader, contact_id)

    def assertSameStream(self, on_a, on_b, contact_id, count):
        """Both nodes' streams carry `count` events of the contact, equal in
        order and shape, each on A within a second of B's."""
        got_b = self.wait_events(on_b, contact_id, count)
        got_a = self.wait_events(on_a, contact_id, count)
        self.assertEqual(len(got_b), count, [d for _, d in got_b])
        self.assertEqual([shape(d) for _, d in got_a], [shape(d) for _, d in got_b])
        lags = [a - b for (a, _), (b, _) in zip(got_a, got_b)]
        self.assertLess(max(lags), 1.0, "lags %s" % lags)
        return lags

    def test_v1_and_connect_changes_on_b_stream_on_a_in_order(self):
        on_a, on_b = self.stream(self.a), self.stream(self.b)
        # Tokens are shared: one issued on A signs in on A, for a contact of B.
        token = self.a.v1("POST", "/v1/agents", {"AgentId": "alice"}).json()["Token"]
        alice_on_a = self.stream(self.a, token)
        self.b.create_contact("x-1", agent_id="alice")
        self.b.create_contact("x-other", agent_id="bob")
        for op in ("START", "PAUSE", "RESUME", "STOP"):
            self.assertEqual(self.b.connect_call(op, "x-1").status, 200)
        # A refusal is audited: an event with the contact unchanged.
        self.assertGreaterEqual(self.b.connect_call("RESUME", "x-1").status, 400)
        self.assertEqual(self.b.v1("POST", "/v1/contacts/x-1/end").status, 200)
        lags = self.assertSameStream(on_a, on_b, "x-1", 7)
        got = [(d["State"], d["Audit"]["Result"]) for _, d in contact_events(on_a, "x-1")]
        self.assertEqual([state for state, _ in got], [
            "NOT_STARTED", "RECORDING", "PAUSED", "RECORDING", "STOPPED", "STOPPED", "ENDED"])
        self.assertNotEqual(got[5][1], "OK", "the refused RESUME")
        print("\n  x-1 on node A after node B: max %.1f ms" % (max(lags) * 1000))
        # The agent's stream on A: her contact of B, not bob's.
        self.assertEqual(len(self.wait_events(alice_on_a, "x-1", 7)), 7)
        self.assertEqual(contact_events(alice_on_a, "x-other"), [])
        self.assertEqual(len(contact_events(on_a, "x-other")), 1)
        # A's own changes come once on A (published locally, the feed skips
        # them) and once on B (by the feed).
        self.a.create_contact("y-1")
        self.assertEqual(self.a.connect_call("START", "y-1").status, 200)
        self.assertSameStream(on_b, on_a, "y-1", 2)
        time.sleep(0.3)
        self.assertEqual(len(contact_events(on_a, "y-1")), 2)

    def test_a_siprec_call_recorded_on_b_streams_on_a(self):
        on_a, on_b = self.stream(self.a), self.stream(self.b)
        sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
        metadata = sipclient.siprec_metadata("sess-x", "grp-x", [
            (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]),
            (AGENT[0], AGENT[1], AGENT[2], ["2"])])
        body, content_type = sipclient.multipart(sdp, metadata)
        client = sipclient.SipClient(self.b.sip_port, "udp")
        self.clients.append(client)
        response = client.invite(body, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: sip-1", "X-Initial-Contact-Id: sip-0"))
        self.assertEqual(response.status, 200, response.reason)
        got = self.wait_events(on_a, "sip-1", 1)
        self.assertTrue(got, "no event on node A for the call on node B")
        token = self.a.v1("POST", "/v1/agents", {"AgentId": "agent7"}).json()["Token"]
        # Pause and resume through node B's workspace API, as the agent would.
        for op in ("PAUSE", "RESUME"):
            self.assertEqual(self.b.connect_call(op, "sip-1", initial_contact_id="sip-0").status,
                             200)
        client.bye()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
                d["State"] == "ENDED" for _, d in contact_events(on_b, "sip-1")):
            time.sleep(0.05)
        count = len(contact_events(on_b, "sip-1"))
        self.assertSameStream(on_a, on_b, "sip-1", count)
        states = [d["State"] for _, d in contact_events(on_a, "sip-1")]
        for state in ("RECORDING", "PAUSED", "ENDED"):
            self.assertIn(state, states)
        self.assertLess(states.index("PAUSED"), states.index("ENDED"))
        self.assertEqual(contact_events(on_a, "sip-1")[-1][1]["AgentId"], "agent7")
        self.assertIsNotNone(token)

    def test_supervisor_page_on_a_follows_a_contact_of_b(self):
        require_browser()
        sue = self.a.v1("POST", "/v1/agents", {"AgentId": "sup-sue", "Role": "supervisor"})
        self.assertEqual(sue.status, 201, sue)
        agent = self.b.v1("POST", "/v1/agents", {"AgentId": "agent-ann"})
        self.assertEqual(agent.status, 201, agent)
        script = BrowserScript("nodes.mjs", {
            "a": self.a.url, "b": self.b.url, "artifacts": ARTIFACTS, "admin": self.b.admin_token,
            "contact": "page-1", "sue": {"id": "sup-sue", "token": sue.json()["Token"]},
            "agent": {"id": "agent-ann", "token": agent.json()["Token"]}})
        try:
            result = script.expect("done", 60)
        finally:
            script.close()
        print("\n  supervisor page on A, after the change on B (ms): %s" % result["shown"])
        self.assertEqual(result["errors"], [])
        self.assertEqual(sorted(result["shown"]), sorted([
            "NOT_STARTED", "Start recording", "Pause recording", "Resume recording", "ENDED"]))
        # Shown within a second (the request on B, the commit, the
        # notification, the event on A, the page's render included).
        for step, ms in result["shown"].items():
            self.assertLess(ms, 1000, step)

    def test_postgres_restarted_while_streaming(self):
        on_a = self.stream(self.a)
        self.b.create_contact("r-1")
        self.assertEqual(len(self.wait_events(on_a, "r-1", 1)), 1)
        self.pg.restart()
        # B writes as soon as it can (its writers reconnect by themselves); A's
        # feed listens again by itself: the change comes by its notification
        # or by the resync that follows a lost feed.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.b.connect_call("START", "r-1").status == 200:
                break
            time.sleep(0.2)
        got = self.wait_events(on_a, "r-1", 2, timeout=10)
        self.assertEqual([d["State"] for _, d in got][-1], "RECORDING", [d for _, d in got])
        # And later changes come by notification again, in order, within a second.
        started = time.perf_counter()
        for op in ("PAUSE", "RESUME"):
            self.assertEqual(self.b.connect_call(op, "r-1").status, 200)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            later = [(at, d) for at, d in contact_events(on_a, "r-1") if at >= started]
            if len(later) >= 2:
                break
            time.sleep(0.02)
        self.assertEqual([d["State"] for _, d in later], ["PAUSED", "RECORDING"])
        self.assertLess(later[-1][0] - started, 1.0)
        self.assertIn("store.feed_lost", self.a.stderr_text() + self.a.stdout_text())


if __name__ == "__main__":
    unittest.main()
