"""The agent workspace's API against the real callrec-server (the pages
themselves are driven in Chromium by test_workspace.py): agent tokens, agents
confined to their own contacts on every route, server-sent events within
300 ms of an operation, the guide flow run per contact with its Lambda in
process, recordings (list, metadata, audio with Range), the static pages, and
guide flows refused at start-up naming the block.
"""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (ON_POSTGRES, SERVER_BIN, ServerTestCase, free_port, free_sip_port,
                     http_call)

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


class EventReader:
    """GET /v1/events on a raw socket: (arrival time, event name, data) tuples."""

    def __init__(self, port, token):
        self.events = []
        self.lock = threading.Condition()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                           "Accept: text/event-stream\r\n\r\n" % token).encode())
        self.head = b""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                now = time.perf_counter()
                buffer += chunk
                if not self.head:
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    self.head, buffer = buffer[:end], buffer[end + 4:]
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    name, data = None, None
                    for line in block.decode().split("\n"):
                        if line.startswith("event: "):
                            name = line[7:]
                        elif line.startswith("data: "):
                            data = json.loads(line[6:])
                    if name:
                        with self.lock:
                            self.events.append((now, name, data))
                            self.lock.notify_all()
        except OSError:
            pass

    def wait_for(self, predicate, timeout=5):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.lock.wait(remaining)

    def close(self):
        self.sock.close()


class WorkspaceApiTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1300, RTP_BASE + 1339)

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = {
            "extra_args": ["--rtp-ports", "%d-%d" % self.rtp_ports,
                           "--agent-token", "bob:bob-secret-token"],
            "name": "workspace"}
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

    def agent(self, agent_id):
        reply = self.server.v1("POST", "/v1/agents", {"AgentId": agent_id})
        self.assertEqual(reply.status, 201, reply)
        body = reply.json()
        self.assertEqual(body["AgentId"], agent_id)
        self.assertGreaterEqual(len(body["Token"]), 32)
        return body["Token"]

    def contact(self, contact_id, agent_id):
        return self.server.create_contact(contact_id, agent_id=agent_id)

    def act(self, contact_id, token, action):
        return self.call("POST", "/v1/contacts/%s/guide/actions" % contact_id, token,
                         {"Result": "ActionSelected", "ViewResultData": {"actionName": action}})

    def test_tokens_and_confinement(self):
        alice = self.agent("alice")
        me = self.call("GET", "/v1/me", alice).json()
        self.assertEqual((me["AgentId"], me["MaxPauseSeconds"]), ("alice", None))
        self.assertNotIn("Supervisor", me)
        self.assertEqual(self.call("GET", "/v1/me", "bob-secret-token").json()["AgentId"], "bob")
        self.assertEqual(self.call("GET", "/v1/me", "nonsense").status, 401)
        again = self.agent("alice")
        self.assertEqual(self.call("GET", "/v1/me", alice).status, 401, "a reissued token replaces")
        alice = again
        self.contact("conf-a", "alice")
        self.contact("conf-b", "bob")
        listed = [c["ContactId"] for c in self.call("GET", "/v1/contacts", alice).json()["Contacts"]]
        self.assertEqual(listed, ["conf-a"])
        listed = self.call("GET", "/v1/contacts?AgentId=bob", alice).json()["Contacts"]
        self.assertEqual(listed, [], "another agent's contacts are never listed")
        for method, path, body in (
                ("GET", "/v1/contacts/conf-b", None),
                ("GET", "/v1/contacts/conf-b/guide", None),
                ("POST", "/v1/contacts/conf-b/guide/actions",
                 {"Result": "ActionSelected", "ViewResultData": {"actionName": "Start recording"}})):
            with self.subTest(path=path):
                self.assertEqual(self.call(method, path, alice, body).status, 403)
        for method, path, body in (("POST", "/v1/contacts", {"InstanceId": "local"}),
                                   ("POST", "/v1/contacts/conf-a/end", None),
                                   ("POST", "/v1/agents", {"AgentId": "mallory"})):
            with self.subTest(path=path):
                self.assertEqual(self.call(method, path, alice, body).status, 403,
                                 "admin only")
        self.assertEqual(self.server.state("conf-b"), "NOT_STARTED", "nothing done for alice")
        # The token never reaches disk in clear (nor PostgreSQL, with --store).
        if ON_POSTGRES:
            stored = self.server.store_sql("SELECT agent_id, digest FROM agents")
            self.assertIn("alice|", stored)
        else:
            with open(os.path.join(self.server.data_dir, "agents.json")) as f:
                stored = f.read()
        self.assertNotIn(alice, stored)

    def test_guide_drives_the_recording_and_events_follow(self):
        alice = self.agent("alice")
        self.contact("guide-1", "alice")
        self.contact("other-1", "bob")
        events = EventReader(self.server.port, alice)
        bob_events = EventReader(self.server.port, "bob-secret-token")
        self.readers += [events, bob_events]
        self.assertIsNotNone(events.wait_for(lambda e: e[1] == "hello"))
        guide = self.call("GET", "/v1/contacts/guide-1/guide", alice).json()
        self.assertEqual(guide["State"], "NOT_STARTED")
        self.assertEqual(guide["Operations"], {"START": True, "PAUSE": False, "RESUME": False,
                                               "STOP": False})
        self.assertEqual(guide["ActionOperations"]["Pause recording"], {"Operation": "PAUSE"})
        view = guide["View"]
        self.assertEqual(view["ViewResource"], "cards")
        card = view["ViewData"]["Cards"][0]["Detail"]
        self.assertIn("NOT RECORDING", card["Sections"][0]["TemplateString"])
        self.assertEqual(view["ViewData"]["AttributeBar"][0]["Value"], "guide-1")

        for action, state, badge in (("Start recording", "RECORDING", "RECORDING"),
                                     ("Pause recording", "PAUSED", "PAUSED"),
                                     ("Resume recording", "RECORDING", "RECORDING"),
                                     ("Stop recording", "STOPPED", "STOPPED ⬤")):
            with self.subTest(action=action):
                sent = time.perf_counter()
                reply = self.act("guide-1", alice, action)
                self.assertEqual(reply.status, 200, reply)
                body = reply.json()
                self.assertEqual(body["State"], state)
                sections = body["View"]["ViewData"]["Cards"][0]["Detail"]["Sections"]
                self.assertIn(badge, sections[0]["TemplateString"])
                event = events.wait_for(lambda e: e[1] == "contact" and e[2]["ContactId"] ==
                                        "guide-1" and e[2]["State"] == state and e[0] >= sent)
                self.assertIsNotNone(event, "no event for %s" % action)
                self.assertLess(event[0] - sent, 0.3, "event %.3f s after the click" %
                                (event[0] - sent))
                self.assertEqual(event[2]["Audit"]["Principal"], "alice")
        # A refusal is an event too (audit only), the state unchanged.
        refused = self.act("guide-1", alice, "Pause recording")
        self.assertEqual(refused.json()["State"], "STOPPED")
        self.assertIn("STOPPED ⬤",
                      refused.json()["View"]["ViewData"]["Cards"][0]["Detail"]["Sections"][0]
                      ["TemplateString"])
        trail = self.server.get_contact("guide-1")["AuditTrail"]
        self.assertEqual([(e["Operation"], e["Principal"]) for e in trail[1:]],
                         [("START", "alice"), ("PAUSE", "alice"), ("RESUME", "alice"),
                          ("STOP", "alice"), ("PAUSE", "alice")])
        self.assertNotEqual(trail[-1]["Result"], "OK")
        # Bob's stream saw nothing of alice's contact.
        time.sleep(0.2)
        self.assertFalse([e for e in bob_events.events if e[1] == "contact"
                          and e[2]["ContactId"] == "guide-1"])
        # A change made elsewhere (the Connect API) reaches the guide's badge.
        self.contact("guide-2", "alice")
        self.call("GET", "/v1/contacts/guide-2/guide", alice)
        client = self.server.boto3_client()
        client.start_contact_recording(InstanceId="local", ContactId="guide-2",
                                       InitialContactId="guide-2",
                                       VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"})
        self.assertIsNotNone(events.wait_for(lambda e: e[1] == "contact" and
                                             e[2]["ContactId"] == "guide-2" and
                                             e[2]["State"] == "RECORDING"))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            guide = self.call("GET", "/v1/contacts/guide-2/guide", alice).json()
            if "RECORDING" in guide["View"]["ViewData"]["Cards"][0]["Detail"]["Sections"][0][
                    "TemplateString"]:
                break
            time.sleep(0.02)
        self.assertEqual(guide["Attributes"]["callRecordingStatus"], "ON")
        self.assertEqual(self.call("POST", "/v1/contacts/guide-2/guide/actions", alice,
                                   {"nonsense": 1}).status, 400)

    def test_recordings_and_pages(self):
        alice = self.agent("alice")
        self.contact("rec-1", "alice")
        self.act("rec-1", alice, "Start recording")
        time.sleep(0.3)
        self.server.v1("POST", "/v1/contacts/rec-1/end")
        deadline = time.monotonic() + 5
        rows = []
        while time.monotonic() < deadline:
            rows = self.call("GET", "/v1/recordings", alice).json()["Recordings"]
            if rows and rows[0]["Complete"]:
                break
            time.sleep(0.05)
        self.assertEqual([r["ContactId"] for r in rows], ["rec-1"])
        # From the state store, paged like /v1/contacts; where it lives: here.
        self.assertEqual(rows[0]["Storage"], {"LocalAudio": True, "Where": "local",
                                              "UploadState": "none"})
        page = self.call("GET", "/v1/recordings?MaxResults=1", alice).json()
        self.assertEqual([r["ContactId"] for r in page["Recordings"]], ["rec-1"])
        self.assertNotIn("NextToken", page)
        for bad in ("MaxResults=0", "MaxResults=1001", "NextToken=zz", "Complete=maybe",
                    # a token of the contacts list is not one of this list
                    "NextToken=" + "contacts:rec-0".encode().hex()):
            self.assertEqual(self.call("GET", "/v1/recordings?" + bad, alice).status, 400, bad)
        after = self.call("GET", "/v1/recordings?NextToken=" + "recordings:rec-1".encode().hex(),
                          alice).json()
        self.assertEqual(after, {"Recordings": []})
        self.assertEqual(self.call("GET", "/v1/recordings", "bob-secret-token").json(),
                         {"Recordings": []})
        meta = self.call("GET", "/v1/recordings/rec-1", alice).json()
        self.assertTrue(meta["Complete"])
        self.assertEqual(len(meta["Sha256"]), 64)
        self.assertEqual(self.call("GET", "/v1/recordings/rec-1", "bob-secret-token").status, 403)
        self.assertEqual(self.call("GET", "/v1/recordings/rec-1/audio", "bob-secret-token").status,
                         403)
        whole = self.call("GET", "/v1/recordings/rec-1/audio", alice)
        self.assertEqual(whole.status, 200)
        self.assertEqual(whole.header("Content-Type"), "audio/wav")
        self.assertEqual(whole.body[:4], b"RIFF")
        part = http_call(self.server.port, "GET", "/v1/recordings/rec-1/audio", b"",
                         [("Authorization", "Bearer " + alice), ("Range", "bytes=4-11")])
        self.assertEqual(part.status, 206)
        self.assertEqual(part.body, whole.body[4:12])
        self.assertEqual(part.header("Content-Range"), "bytes 4-11/%d" % len(whole.body))
        self.assertEqual(self.call("GET", "/v1/recordings/..%2Fcallrec.db", alice).status, 404)
        # Pages: served without a token, nothing outside web/.
        for path, status in (("/", 200), ("/../src/app/server_main.cpp", 404),
                             ("/%2e%2e/README.md", 404), ("/nothing-here.js", 404)):
            with self.subTest(path=path):
                reply = http_call(self.server.port, "GET", path)
                if path == "/" and reply.status == 404:
                    self.skipTest("web/ has no index.html yet")
                self.assertEqual(reply.status, status, path)


    def guides_in_memory(self):
        for line in self.server.metrics().splitlines():
            if line.startswith("callrec_guides_in_memory "):
                return int(line.split()[1])
        self.fail("no callrec_guides_in_memory in /metrics")

    def test_guides_opened_on_ended_contacts_are_bounded(self):
        """A run is forgotten when its contact ends; runs opened on contacts
        that had already ended (nothing will end them again) are kept among
        the last 256, so an agent looking back at 300 calls costs no more."""
        alice = self.agent("alice")
        self.contact("live-1", "alice")
        self.assertEqual(self.call("GET", "/v1/contacts/live-1/guide", alice).status, 200)
        self.contact("ends-later", "alice")
        self.assertEqual(self.call("GET", "/v1/contacts/ends-later/guide", alice).status, 200)
        self.assertEqual(self.guides_in_memory(), 2)
        self.assertEqual(self.server.v1("POST", "/v1/contacts/ends-later/end").status, 200)
        deadline = time.monotonic() + 5
        while self.guides_in_memory() != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.guides_in_memory(), 1, "the run of a contact that ended is gone")
        for i in range(300):
            self.contact("old-%d" % i, "alice")
            self.assertEqual(self.server.v1("POST", "/v1/contacts/old-%d/end" % i).status, 200)
        for i in range(300):
            view = self.call("GET", "/v1/contacts/old-%d/guide" % i, alice)
            self.assertEqual(view.status, 200, view)
            self.assertEqual(view.json()["State"], "ENDED")
        self.assertEqual(self.guides_in_memory(), 1 + 256)
        # The newest looked-back run is still the same run; the live one too.
        self.assertEqual(self.call("GET", "/v1/contacts/old-299/guide", alice).status, 200)
        self.assertEqual(self.call("GET", "/v1/contacts/live-1/guide", alice).status, 200)
        self.assertEqual(self.guides_in_memory(), 1 + 256)


class GuideFlowRefusedTest(unittest.TestCase):
    def test_unsupported_block_named_at_start(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        with open(os.path.join(ROOT, "flows", "agent-recording-guide.json")) as f:
            flow = json.load(f)
        flow["Actions"].append({"Identifier": "Play a prompt", "Type": "MessageParticipant",
                                "Parameters": {"Text": "hello"}, "Transitions": {}})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "guide.json")
            with open(path, "w") as f:
                json.dump(flow, f)
            run = subprocess.run([SERVER_BIN, "--data-dir", os.path.join(tmp, "data"),
                                  "--listen", "127.0.0.1:%d" % free_port(),
                                  "--sip-listen", "127.0.0.1:%d" % free_sip_port(),
                                  "--guide-flow", path], capture_output=True, text=True,
                                 timeout=30)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("Play a prompt", run.stderr)
        self.assertIn("MessageParticipant", run.stderr)


if __name__ == "__main__":
    unittest.main()
