"""boto3 against callrec-server's Connect-compatible API, plus /v1, /metrics, /healthz."""

import unittest

from botocore.exceptions import ClientError

from harness import ACCESS_KEY, ServerTestCase, metric, parse_metrics

METHODS = {
    "START": "start_contact_recording",
    "PAUSE": "suspend_contact_recording",
    "RESUME": "resume_contact_recording",
    "STOP": "stop_contact_recording",
}


class Boto3Case(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.server.boto3_client()

    def call(self, operation, contact_id, initial_contact_id=None, instance_id="local",
             track="ALL", client=None):
        params = {"InstanceId": instance_id, "ContactId": contact_id,
                  "InitialContactId": initial_contact_id or contact_id}
        if operation == "START":
            params["VoiceRecordingConfiguration"] = {"VoiceRecordingTrack": track}
        return getattr(client or self.client, METHODS[operation])(**params)

    def ok(self, operation, contact_id, **kwargs):
        response = self.call(operation, contact_id, **kwargs)
        metadata = response.pop("ResponseMetadata")
        self.assertEqual(metadata["HTTPStatusCode"], 200, metadata)
        self.assertEqual(response, {}, "the operations answer {}")
        self.assertTrue(metadata.get("RequestId"), "no x-amzn-RequestId: %s" % metadata)
        return metadata

    def error(self, operation, contact_id, code, status, *needles, **kwargs):
        with self.assertRaises(ClientError) as raised:
            self.call(operation, contact_id, **kwargs)
        response = raised.exception.response
        self.assertEqual(response["Error"]["Code"], code, response)
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], status, response)
        message = response["Error"].get("Message", "")
        self.assertTrue(message, "empty error message: %s" % response)
        for needle in needles:
            self.assertIn(needle, message, response)
        return response


class Boto3OperationsTest(Boto3Case):

    def test_full_life_cycle(self):
        self.server.create_contact("b3-life")
        request_ids = set()
        for operation, expected in (("START", "RECORDING"), ("PAUSE", "PAUSED"),
                                    ("RESUME", "RECORDING"), ("STOP", "STOPPED")):
            with self.subTest(operation=operation):
                request_ids.add(self.ok(operation, "b3-life")["RequestId"])
                self.assertEqual(self.server.state("b3-life"), expected)
        self.assertEqual(len(request_ids), 4, "request ids are not unique: %s" % request_ids)
        self.assertEqual(self.trail("b3-life"), [
            ("CREATE", "admin", "OK"), ("START", ACCESS_KEY, "OK"), ("PAUSE", ACCESS_KEY, "OK"),
            ("RESUME", ACCESS_KEY, "OK"), ("STOP", ACCESS_KEY, "OK")])

    def test_idempotent_repeats(self):
        self.server.create_contact("b3-idem")
        for operation, expected in (("START", "RECORDING"), ("PAUSE", "PAUSED"),
                                    ("RESUME", "RECORDING"), ("STOP", "STOPPED")):
            for attempt in range(2):
                with self.subTest(operation=operation, attempt=attempt):
                    self.ok(operation, "b3-idem")
                    self.assertEqual(self.server.state("b3-idem"), expected)
        results = [(op, result) for op, _, result in self.trail("b3-idem")[1:]]
        self.assertEqual(results, [
            ("START", "OK"), ("START", "UNCHANGED"), ("PAUSE", "OK"), ("PAUSE", "UNCHANGED"),
            ("RESUME", "OK"), ("RESUME", "UNCHANGED"), ("STOP", "OK"), ("STOP", "UNCHANGED")])

    def test_tracks(self):
        for track in ("TO_AGENT", "FROM_AGENT", "ALL"):
            with self.subTest(track=track):
                self.server.create_contact("b3-track-" + track)
                self.ok("START", "b3-track-" + track, track=track)
                self.assertEqual(self.server.get_contact("b3-track-" + track)["Track"], track)

    def test_track_is_kept_through_pause_resume_stop(self):
        self.server.create_contact("b3-keep")
        self.ok("START", "b3-keep", track="FROM_AGENT")
        for operation in ("PAUSE", "RESUME", "STOP"):
            self.ok(operation, "b3-keep")
            self.assertEqual(self.server.get_contact("b3-keep")["Track"], "FROM_AGENT")
        # A repeated START does not change the track that was chosen first.
        self.server.create_contact("b3-keep2")
        self.ok("START", "b3-keep2", track="TO_AGENT")
        self.ok("START", "b3-keep2", track="ALL")
        self.assertEqual(self.server.get_contact("b3-keep2")["Track"], "TO_AGENT")

    def test_refusals(self):
        self.server.create_contact("b3-new")
        self.server.create_contact("b3-paused")
        self.ok("START", "b3-paused")
        self.ok("PAUSE", "b3-paused")
        self.server.create_contact("b3-stopped")
        self.ok("START", "b3-stopped")
        self.ok("STOP", "b3-stopped")
        cases = [
            ("PAUSE", "b3-new", "NOT_STARTED"),
            ("RESUME", "b3-new", "NOT_STARTED"),
            ("START", "b3-paused", "PAUSED"),
            ("START", "b3-stopped", "STOPPED"),
            ("PAUSE", "b3-stopped", "STOPPED"),
            ("RESUME", "b3-stopped", "STOPPED"),
        ]
        for operation, contact_id, state in cases:
            with self.subTest(operation=operation, state=state):
                self.error(operation, contact_id, "InvalidRequestException", 400, state)
                self.assertEqual(self.server.state(contact_id), state)
                self.assertEqual(self.trail(contact_id)[-1],
                                 (operation, ACCESS_KEY, "InvalidRequestException"))

    def test_stop_from_every_running_state(self):
        self.server.create_contact("b3-stop-paused")
        self.ok("START", "b3-stop-paused")
        self.ok("PAUSE", "b3-stop-paused")
        self.ok("STOP", "b3-stop-paused")
        self.server.create_contact("b3-stop-waiting", agent_joined=False)
        self.ok("START", "b3-stop-waiting")
        self.ok("STOP", "b3-stop-waiting")
        for contact_id in ("b3-stop-paused", "b3-stop-waiting"):
            with self.subTest(contact_id=contact_id):
                self.assertEqual(self.server.state(contact_id), "STOPPED")
                self.assertEqual(self.trail(contact_id)[-1], ("STOP", ACCESS_KEY, "OK"))
                self.error("RESUME", contact_id, "InvalidRequestException", 400, "STOPPED")

    def test_not_found_and_bad_parameters(self):
        self.server.create_contact("b3-found", initial_contact_id="b3-first")
        self.error("START", "b3-missing", "ResourceNotFoundException", 404, "b3-missing")
        self.error("START", "b3-found", "ResourceNotFoundException", 404,
                   initial_contact_id="b3-first", instance_id="other-instance")
        self.error("START", "b3-found", "InvalidParameterException", 400, "b3-wrong",
                   initial_contact_id="b3-wrong")
        self.assertEqual(self.server.state("b3-found"), "NOT_STARTED")

    def test_authentication_errors(self):
        self.server.create_contact("b3-auth")
        bad_secret = self.server.boto3_client(secret_key="WRONG-SECRET")
        self.error("START", "b3-auth", "InvalidSignatureException", 403, client=bad_secret)
        unknown = self.server.boto3_client(access_key="AKIDNOBODY")
        self.error("START", "b3-auth", "UnrecognizedClientException", 403, client=unknown)
        self.assertEqual(self.server.state("b3-auth"), "NOT_STARTED")
        self.assertEqual(len(self.trail("b3-auth")), 1)


class Boto3ContactLifeTest(Boto3Case):
    """Agent joining, contact end, and what is refused after it."""

    def test_waiting_for_agent_then_agent_joins(self):
        self.server.create_contact("b3-wait", agent_joined=False)
        self.ok("START", "b3-wait")
        contact = self.server.get_contact("b3-wait")
        self.assertEqual((contact["State"], contact["AgentJoined"]), ("WAITING_FOR_AGENT", False))
        self.ok("START", "b3-wait")  # idempotent while waiting too
        reply = self.server.v1("POST", "/v1/contacts/b3-wait/agent-joined")
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual((reply.json()["State"], reply.json()["AgentJoined"]), ("RECORDING", True))
        self.assertEqual(self.server.state("b3-wait"), "RECORDING")
        self.assertEqual(self.trail("b3-wait")[1:], [
            ("START", ACCESS_KEY, "OK"), ("START", ACCESS_KEY, "UNCHANGED"),
            ("AGENT_JOINED", "admin", "OK")])

    def test_pause_while_waiting_for_agent(self):
        self.server.create_contact("b3-wait-pause", agent_joined=False)
        self.ok("START", "b3-wait-pause")
        self.ok("PAUSE", "b3-wait-pause")
        self.assertEqual(self.server.state("b3-wait-pause"), "PAUSED")
        # The agent joins while paused: still paused, nothing is recorded.
        reply = self.server.v1("POST", "/v1/contacts/b3-wait-pause/agent-joined")
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(reply.json()["State"], "PAUSED")
        self.ok("RESUME", "b3-wait-pause")
        self.assertEqual(self.server.state("b3-wait-pause"), "RECORDING")

    def test_resume_while_agent_still_absent_goes_back_to_waiting(self):
        self.server.create_contact("b3-wait-resume", agent_joined=False)
        self.ok("START", "b3-wait-resume")
        self.ok("PAUSE", "b3-wait-resume")
        self.ok("RESUME", "b3-wait-resume")
        self.assertEqual(self.server.state("b3-wait-resume"), "WAITING_FOR_AGENT")

    def test_end_keeps_recording_state_and_refuses_operations(self):
        self.server.create_contact("b3-end")
        self.ok("START", "b3-end")
        self.ok("PAUSE", "b3-end")
        reply = self.server.v1("POST", "/v1/contacts/b3-end/end")
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual((reply.json()["State"], reply.json()["RecordingState"]),
                         ("ENDED", "PAUSED"))
        contact = self.server.get_contact("b3-end")
        self.assertEqual((contact["State"], contact["RecordingState"], contact["Track"]),
                         ("ENDED", "PAUSED", "ALL"))
        for operation in ("START", "PAUSE", "RESUME", "STOP"):
            with self.subTest(operation=operation):
                self.error(operation, "b3-end", "InvalidRequestException", 400, "ENDED")
                contact = self.server.get_contact("b3-end")
                self.assertEqual((contact["State"], contact["RecordingState"]),
                                 ("ENDED", "PAUSED"))
        # Ending again changes nothing, and keeps what the recording was.
        reply = self.server.v1("POST", "/v1/contacts/b3-end/end")
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual((reply.json()["State"], reply.json()["RecordingState"]),
                         ("ENDED", "PAUSED"))
        results = [(op, principal, result) for op, principal, result in self.trail("b3-end")]
        self.assertEqual(results[3], ("END", "admin", "OK"))
        self.assertEqual([r for _, _, r in results[4:8]], ["InvalidRequestException"] * 4)
        self.assertEqual(results[8], ("END", "admin", "UNCHANGED"))

    def test_end_of_unknown_contact(self):
        reply = self.server.v1("POST", "/v1/contacts/b3-nobody/end")
        self.assertAwsError(reply, 404, "ResourceNotFoundException")
        reply = self.server.v1("POST", "/v1/contacts/b3-nobody/agent-joined")
        self.assertAwsError(reply, 404, "ResourceNotFoundException")


class V1Test(Boto3Case):

    def test_list_filters(self):
        self.server.create_contact("b3-l1", agent_id="ann")
        self.server.create_contact("b3-l2", agent_id="ann")
        self.server.create_contact("b3-l3", agent_id="bob")
        self.server.create_contact("b3-l4", agent_id="bob")
        self.ok("START", "b3-l1")
        self.ok("PAUSE", "b3-l1")
        self.ok("START", "b3-l2")
        self.ok("START", "b3-l3")
        self.ok("PAUSE", "b3-l3")

        def ids(**query):
            return sorted(c["ContactId"] for c in self.server.list_contacts(**query))

        self.assertEqual(ids(), ["b3-l1", "b3-l2", "b3-l3", "b3-l4"])
        self.assertEqual(ids(AgentId="ann"), ["b3-l1", "b3-l2"])
        self.assertEqual(ids(State="PAUSED"), ["b3-l1", "b3-l3"])
        self.assertEqual(ids(State="RECORDING"), ["b3-l2"])
        self.assertEqual(ids(State="NOT_STARTED"), ["b3-l4"])
        self.assertEqual(ids(AgentId="bob", State="PAUSED"), ["b3-l3"])
        self.assertEqual(ids(AgentId="nobody"), [])
        listed = {c["ContactId"]: c for c in self.server.list_contacts(AgentId="ann")}
        self.assertEqual(listed["b3-l1"]["State"], "PAUSED")
        self.assertEqual(listed["b3-l1"]["AgentId"], "ann")
        reply = self.server.v1("GET", "/v1/contacts?State=SLEEPING")
        self.assertAwsError(reply, 400, "InvalidParameterException", "SLEEPING")

    def test_list_filter_values_with_spaces(self):
        self.server.create_contact("b3-sp1", agent_id="Ann Smith")
        self.server.create_contact("b3-sp2", agent_id="Ann")
        self.server.create_contact("b3-sp3", agent_id="Ann+Smith")
        queries = {
            # RFC 3986 percent-encoding, as the callrec CLI writes it.
            "AgentId=Ann%20Smith": ["b3-sp1"],
            # application/x-www-form-urlencoded, as Python's urlencode, requests'
            # params=, browsers' URLSearchParams and HTML forms write it.
            "AgentId=Ann+Smith": ["b3-sp1"],
            "AgentId=Ann%2BSmith": ["b3-sp3"],
            "AgentId=Ann": ["b3-sp2"],
        }
        for query, expected in queries.items():
            with self.subTest(query=query):
                reply = self.server.v1("GET", "/v1/contacts?" + query)
                self.assertEqual(reply.status, 200, repr(reply))
                self.assertEqual(sorted(c["ContactId"] for c in reply.json()["Contacts"]),
                                 expected)

    def test_token_required(self):
        self.server.create_contact("b3-tok")
        requests = [("GET", "/v1/contacts", None), ("GET", "/v1/contacts/b3-tok", None),
                    ("POST", "/v1/contacts", {"InstanceId": "local", "ContactId": "b3-intruder"}),
                    ("POST", "/v1/contacts/b3-tok/end", None)]
        for method, path, body in requests:
            for token in (False, "wrong-token", "", self.server.admin_token + "x",
                          self.server.admin_token[:-1]):
                with self.subTest(method=method, path=path, token=token):
                    reply = self.server.v1(method, path, body, token=token)
                    self.assertEqual(reply.status, 401, repr(reply))
            with self.subTest(method=method, path=path, scheme="no Bearer"):
                reply = self.server.v1(method, path, body, token=False,
                                       headers=[("Authorization", self.server.admin_token)])
                self.assertEqual(reply.status, 401, repr(reply))
        # Nothing of the refused calls happened.
        self.assertEqual([c["ContactId"] for c in self.server.list_contacts()], ["b3-tok"])
        self.assertEqual(self.server.state("b3-tok"), "NOT_STARTED")

    def test_create_contact_answers(self):
        created = self.server.create_contact("b3-create", agent_id="zoe",
                                             initial_contact_id="b3-root", codec="PCMA")
        for key, value in (("ContactId", "b3-create"), ("InitialContactId", "b3-root"),
                           ("InstanceId", "local"), ("AgentId", "zoe"), ("Codec", "PCMA"),
                           ("State", "NOT_STARTED"), ("Track", None), ("AgentJoined", True)):
            self.assertEqual(created[key], value, key)
        self.assertEqual([(e["Operation"], e["Principal"], e["Result"])
                          for e in created["AuditTrail"]], [("CREATE", "admin", "OK")])
        reply = self.server.v1("POST", "/v1/contacts",
                               {"InstanceId": "nowhere", "ContactId": "b3-x"})
        self.assertAwsError(reply, 404, "ResourceNotFoundException")
        reply = self.server.v1("POST", "/v1/contacts",
                               {"InstanceId": "local", "ContactId": "b3-y", "Codec": "OPUS"})
        self.assertAwsError(reply, 400, "InvalidParameterException")

    def test_unusual_contact_ids(self):
        ids = ["with space", "a/b", "plus+sign", "per%cent", "caf\u00e9-\u00fcnicode",
               "question?mark", "hash#tag", "x" * 256]
        for contact_id in ids:
            with self.subTest(contact_id=contact_id[:20]):
                created = self.server.create_contact(contact_id)
                self.assertEqual(created["ContactId"], contact_id)
                self.ok("START", contact_id)
                self.ok("PAUSE", contact_id)
                contact = self.server.get_contact(contact_id)  # percent-encoded in the path
                self.assertEqual((contact["ContactId"], contact["State"]), (contact_id, "PAUSED"))
                self.assertEqual([e["Operation"] for e in contact["AuditTrail"]],
                                 ["CREATE", "START", "PAUSE"])
        self.assertEqual(sorted(c["ContactId"] for c in self.server.list_contacts()), sorted(ids))

    def test_create_contact_is_idempotent_and_detects_conflicts(self):
        first = self.server.create_contact("b3-dup", agent_id="ann")
        self.ok("START", "b3-dup")
        # The same create again (a retry) answers with the contact as it is now.
        reply = self.server.v1("POST", "/v1/contacts", {
            "InstanceId": "local", "ContactId": "b3-dup", "InitialContactId": "b3-dup",
            "AgentId": "ann", "Codec": "PCMU", "AgentJoined": True})
        self.assertIn(reply.status, (200, 201), repr(reply))
        self.assertEqual(reply.json()["State"], "RECORDING")
        self.assertEqual(reply.json()["CreatedAt"], first["CreatedAt"])
        self.assertEqual([op for op, _, _ in self.trail("b3-dup")], ["CREATE", "START"])
        # A different identity under the same ContactId is a conflict.
        reply = self.server.v1("POST", "/v1/contacts", {
            "InstanceId": "local", "ContactId": "b3-dup", "AgentId": "bob"})
        self.assertAwsError(reply, 409, "ConflictException")
        contact = self.server.get_contact("b3-dup")
        self.assertEqual((contact["AgentId"], contact["State"]), ("ann", "RECORDING"))

    def test_create_contact_generates_an_id(self):
        reply = self.server.v1("POST", "/v1/contacts", {"InstanceId": "local", "AgentId": "gen"})
        self.assertEqual(reply.status, 201, repr(reply))
        contact = reply.json()
        self.assertRegex(contact["ContactId"],
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(contact["InitialContactId"], contact["ContactId"])
        self.ok("START", contact["ContactId"])
        self.assertEqual(self.server.state(contact["ContactId"]), "RECORDING")
        other = self.server.v1("POST", "/v1/contacts", {"InstanceId": "local"}).json()
        self.assertNotEqual(other["ContactId"], contact["ContactId"])

    def test_v1_routing(self):
        self.server.create_contact("b3-route")
        for method, path, status in (("GET", "/v1/contacts/b3-route/end", 405),
                                     ("POST", "/v1/contacts/b3-route", 405),
                                     ("DELETE", "/v1/contacts", 405),
                                     ("GET", "/v1/nothing-here", 404),
                                     ("POST", "/v1/contacts/b3-route/explode", 404),
                                     ("GET", "/v1/contacts/nobody", 404)):
            with self.subTest(method=method, path=path):
                reply = self.server.v1(method, path, {} if method == "POST" else None)
                self.assertEqual(reply.status, status, repr(reply))
                self.assertTrue(reply.error_type, repr(reply))
        self.assertEqual(self.server.state("b3-route"), "NOT_STARTED")

    def test_metrics_count_operations(self):
        self.server.create_contact("b3-m")
        before = parse_metrics(self.server.metrics())
        self.ok("START", "b3-m")
        self.ok("START", "b3-m")
        self.ok("PAUSE", "b3-m")
        self.error("START", "b3-m", "InvalidRequestException", 400)
        self.error("STOP", "b3-none", "ResourceNotFoundException", 404)
        bad = self.server.boto3_client(secret_key="WRONG")
        self.error("RESUME", "b3-m", "InvalidSignatureException", 403, client=bad)
        after = parse_metrics(self.server.metrics())

        def delta(name, **labels):
            return metric(after, name, **labels) - metric(before, name, **labels)

        ops = "callrec_recording_operations_total"
        self.assertEqual(delta(ops, operation="START", result="OK"), 2)
        self.assertEqual(delta(ops, operation="PAUSE", result="OK"), 1)
        self.assertEqual(delta(ops, operation="START", result="InvalidRequestException"), 1)
        self.assertEqual(delta(ops, operation="STOP", result="ResourceNotFoundException"), 1)
        self.assertEqual(delta(ops, operation="RESUME", result="InvalidSignatureException"), 1)
        self.assertEqual(delta("callrec_auth_failures_total", type="InvalidSignatureException"), 1)
        self.assertGreaterEqual(delta("callrec_http_requests_total", code="200"), 3)
        self.assertGreaterEqual(delta("callrec_http_requests_total", code="400"), 1)
        self.assertEqual(delta("callrec_recording_operation_seconds_count"), 6)
        self.assertEqual(metric(after, "callrec_contacts", state="PAUSED"), 1)
        self.assertGreater(metric(after, "callrec_store_commits_total"), 0)

    def test_healthz(self):
        reply = self.server.v1("GET", "/healthz", token=False)
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(reply.json()["Status"], "ok")
        self.assertEqual(self.server.v1("POST", "/healthz", token=False).status, 405)


if __name__ == "__main__":
    unittest.main()
