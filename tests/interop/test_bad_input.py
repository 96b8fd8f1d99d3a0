"""Requests boto3 would never send: malformed bodies, bad fields, bad signatures.

Each is a raw SigV4-signed request (botocore's signer, http.client on the wire).
"""

import datetime
import json
import os
import stat
import unittest

from harness import (ACCESS_KEY, CONNECT_PATHS, SECRET_KEY, ServerTestCase, http_call, metric,
                     parse_metrics, parse_response, send_raw, utcnow)

START = CONNECT_PATHS["START"]
PAUSE = CONNECT_PATHS["PAUSE"]
MALFORMED_TYPES = ("InvalidRequestException", "InvalidParameterException",
                   "SerializationException")


def start_body(**changes):
    body = {"InstanceId": "local", "ContactId": "bad-c", "InitialContactId": "bad-c",
            "VoiceRecordingConfiguration": {"VoiceRecordingTrack": "ALL"}}
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


DROP = object()


class BadInputCase(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.server.create_contact("bad-c")

    def assertUntouched(self):
        contact = self.server.get_contact("bad-c")
        self.assertEqual(contact["State"], "NOT_STARTED", "a refused request changed the contact")
        self.assertTrue(all(e["Result"] != "OK" for e in contact["AuditTrail"][1:]),
                        contact["AuditTrail"])

    def assertStillServing(self):
        reply = http_call(self.server.port, "GET", "/healthz")
        self.assertEqual(reply.status, 200, repr(reply))
        reply = self.server.connect_call("START", "bad-c")
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(reply.json(), {})
        self.assertEqual(self.server.state("bad-c"), "RECORDING")


class MalformedBodyTest(BadInputCase):

    def test_malformed_bodies(self):
        cases = {
            "not json": b"{this is not json",
            "truncated": json.dumps(start_body()).encode()[:-3],
            "empty": b"",
            "array": json.dumps([start_body()]).encode(),
            "string": b'"InstanceId"',
            "number": b"42",
            "null": b"null",
            "trailing garbage": json.dumps(start_body()).encode() + b"}x",
            "invalid utf-8": b'{"InstanceId":"local","ContactId":"bad-\xff\xfe",'
                             b'"InitialContactId":"bad-c","VoiceRecordingConfiguration":'
                             b'{"VoiceRecordingTrack":"ALL"}}',
            "deep nesting": b"[" * 20000 + b"]" * 20000,
        }
        for name, body in cases.items():
            with self.subTest(case=name):
                reply = self.server.signed_request(START, body)
                body_json = self.assertAwsError(reply, 400, MALFORMED_TYPES)
                self.assertNotIn("Cannot", body_json["message"])
        self.assertUntouched()
        self.assertStillServing()

    def test_missing_required_fields(self):
        for field in ("InstanceId", "ContactId", "InitialContactId",
                      "VoiceRecordingConfiguration"):
            with self.subTest(field=field):
                reply = self.server.signed_request(START, start_body(**{field: DROP}))
                self.assertAwsError(reply, 400, "InvalidParameterException", field)
            with self.subTest(field=field, value="null"):
                reply = self.server.signed_request(START, start_body(**{field: None}))
                self.assertAwsError(reply, 400, "InvalidParameterException", field)
        with self.subTest(field="VoiceRecordingTrack"):
            reply = self.server.signed_request(
                START, start_body(VoiceRecordingConfiguration={}))
            self.assertAwsError(reply, 400, "InvalidParameterException", "VoiceRecordingTrack")
        for field in ("InstanceId", "ContactId", "InitialContactId"):
            with self.subTest(operation="PAUSE", field=field):
                body = {"InstanceId": "local", "ContactId": "bad-c", "InitialContactId": "bad-c"}
                del body[field]
                reply = self.server.signed_request(PAUSE, body)
                self.assertAwsError(reply, 400, "InvalidParameterException", field)
        self.assertUntouched()
        self.assertStillServing()

    def test_wrong_types(self):
        cases = [
            ("InstanceId", 7), ("ContactId", 12345), ("InitialContactId", ["bad-c"]),
            ("ContactId", {"id": "bad-c"}), ("InstanceId", True),
            ("VoiceRecordingConfiguration", "ALL"), ("VoiceRecordingConfiguration", ["ALL"]),
            ("VoiceRecordingConfiguration", {"VoiceRecordingTrack": 1}),
            ("VoiceRecordingConfiguration", {"VoiceRecordingTrack": None}),
        ]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                reply = self.server.signed_request(START, start_body(**{field: value}))
                self.assertAwsError(reply, 400, "InvalidParameterException", field)
        self.assertUntouched()
        self.assertStillServing()

    def test_lengths(self):
        cases = [
            ("ContactId", "c" * 257), ("ContactId", ""), ("InitialContactId", "i" * 257),
            ("InitialContactId", ""), ("InstanceId", "x" * 101), ("InstanceId", ""),
        ]
        for field, value in cases:
            with self.subTest(field=field, length=len(value)):
                reply = self.server.signed_request(START, start_body(**{field: value}))
                self.assertAwsError(reply, 400, "InvalidParameterException", field)
        # At the limits the values are valid and the contact is simply not found.
        for field, value in (("ContactId", "c" * 256), ("InstanceId", "x" * 100)):
            with self.subTest(field=field, length=len(value), at_limit=True):
                reply = self.server.signed_request(START, start_body(**{field: value}))
                self.assertAwsError(reply, 404, "ResourceNotFoundException")
        self.assertUntouched()
        self.assertStillServing()

    def test_unknown_track_and_recording_type(self):
        for track in ("BOTH", "all", "NONE", "", "TO_AGENT "):
            with self.subTest(track=track):
                reply = self.server.signed_request(
                    START, start_body(VoiceRecordingConfiguration={"VoiceRecordingTrack": track}))
                self.assertAwsError(reply, 400, "InvalidParameterException", "VoiceRecordingTrack")
        body = {"InstanceId": "local", "ContactId": "bad-c", "InitialContactId": "bad-c"}
        reply = self.server.signed_request(PAUSE, dict(body, ContactRecordingType="VIDEO"))
        self.assertAwsError(reply, 400, "InvalidParameterException", "ContactRecordingType")
        self.assertUntouched()
        self.assertStillServing()

    def test_body_over_64k(self):
        reply, raw = self.server.signed_raw(START, start_body(Padding="p" * (64 * 1024 + 100)))
        self.assertIsNotNone(reply, raw[:300])
        self.assertEqual(reply.status, 413, repr(reply))
        self.assertTrue(reply.error_type, "no x-amzn-ErrorType: %r" % reply)
        self.assertIn("message", reply.json())
        self.assertUntouched()
        # Just under the limit is read and handled (the extra member is ignored).
        reply = self.server.signed_request(START, start_body(Padding="p" * (60 * 1024)))
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(self.server.state("bad-c"), "RECORDING")

    def test_body_of_several_megabytes(self):
        # The server answers before reading the body; a client that reads the answer
        # even when sending fails (as urllib3 does) must get the 413, not a reset.
        for attempt in range(3):
            with self.subTest(attempt=attempt):
                reply, raw = self.server.signed_raw(START, start_body(Padding="p" * (4 << 20)))
                self.assertIsNotNone(reply, raw[:300])
                self.assertEqual(reply.status, 413, repr(reply))
                self.assertTrue(reply.error_type, repr(reply))
        self.assertUntouched()
        self.assertStillServing()

    def test_oversized_headers(self):
        reply, raw = self.server.signed_raw(START, start_body(),
                                            override_headers={"X-Filler": "f" * 20000})
        self.assertIsNotNone(reply, raw[:300])
        self.assertEqual(reply.status, 431, repr(reply))
        self.assertTrue(reply.error_type, repr(reply))
        self.assertUntouched()
        self.assertStillServing()

    def test_too_many_header_fields(self):
        # Each field is small (well under the 16 KiB of head): the count is the limit.
        signed = len(self.server.sign(START, start_body())[1]) + 1  # + Content-Length
        before = metric(parse_metrics(self.server.metrics()), "callrec_http_requests_total",
                        code="431")
        fillers = {"X-F%d" % i: "f" for i in range(101 - signed)}
        reply, raw = self.server.signed_raw(START, start_body(), override_headers=fillers)
        self.assertIsNotNone(reply, raw[:300])
        self.assertAwsError(reply, 431, "RequestHeaderFieldsTooLargeException",
                            "101 header fields; at most 100")
        self.assertEqual(reply.header("Connection"), "close")
        self.assertUntouched()
        after = metric(parse_metrics(self.server.metrics()), "callrec_http_requests_total",
                       code="431")
        self.assertEqual(after - before, 1)
        # Exactly 100 fields are read and handled.
        fillers = {"X-F%d" % i: "f" for i in range(100 - signed)}
        reply, raw = self.server.signed_raw(START, start_body(), override_headers=fillers)
        self.assertIsNotNone(reply, raw[:300])
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(self.server.state("bad-c"), "RECORDING")
        reply = http_call(self.server.port, "GET", "/healthz")
        self.assertEqual(reply.status, 200, repr(reply))

    def test_raw_socket_control(self):
        # The raw-socket requests below are refused for what they change, not for
        # how they are written: unchanged, the same request is accepted.
        reply, raw = self.server.signed_raw(START, start_body())
        self.assertIsNotNone(reply, raw[:300])
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(self.server.state("bad-c"), "RECORDING")

    def test_content_length_shorter_than_body(self):
        # The server reads Content-Length bytes: the signature covers the whole body,
        # so what it read does not match what was signed.
        body = json.dumps(start_body()).encode()
        reply, raw = self.server.signed_raw(START, body, content_length=len(body) - 4)
        self.assertIsNotNone(reply, raw[:300])
        self.assertIn(reply.status, (400, 403), repr(reply))
        self.assertTrue(reply.error_type, repr(reply))
        self.assertUntouched()
        self.assertStillServing()

    def test_content_length_longer_than_body(self):
        # The client stops sending before the declared length: nothing may happen.
        body = json.dumps(start_body()).encode()
        reply, raw = self.server.signed_raw(START, body, content_length=len(body) + 50,
                                            shutdown_write=True)
        self.assertFalse(raw.startswith(b"HTTP/1.1 200"), raw)
        self.assertUntouched()
        self.assertStillServing()


class RoutingTest(BadInputCase):

    def test_unknown_path(self):
        for path in ("/contact/start-recordings", "/contact/delete-recording", "/", "/contact",
                     "/contact/start-recording/extra"):
            with self.subTest(path=path):
                reply = self.server.signed_request(path, start_body())
                self.assertAwsError(reply, 404, "UnknownOperationException")
        self.assertUntouched()

    def test_wrong_method_on_connect_paths(self):
        for method in ("GET", "PUT", "DELETE"):
            for path in CONNECT_PATHS.values():
                with self.subTest(method=method, path=path):
                    reply = self.server.signed_request(path, b"" if method == "GET"
                                                       else json.dumps(start_body()),
                                                       method=method)
                    self.assertAwsError(reply, 405, ("MethodNotAllowedException",
                                                     "UnknownOperationException"))
        self.assertUntouched()

    def test_query_string_on_connect_path(self):
        # The query string is part of what is signed; the operation is the path.
        reply = self.server.signed_request(START + "?x=1&a=b%20c", start_body())
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(self.server.state("bad-c"), "RECORDING")


class HttpWireTest(BadInputCase):
    """HTTP/1.1 as other clients may write it."""

    def raw_request(self, operation, contact_id, extra_headers=""):
        body = {"InstanceId": "local", "ContactId": contact_id, "InitialContactId": contact_id}
        if operation == "START":
            body["VoiceRecordingConfiguration"] = {"VoiceRecordingTrack": "ALL"}
        body, headers = self.server.sign(CONNECT_PATHS[operation], body)
        head = "POST %s HTTP/1.1\r\n" % CONNECT_PATHS[operation]
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers) + extra_headers
        return head, body

    def test_pipelined_requests(self):
        head1, body1 = self.raw_request("START", "bad-c")
        head2, body2 = self.raw_request("PAUSE", "bad-c", "Connection: close\r\n")
        data = (head1 + "Content-Length: %d\r\n\r\n" % len(body1)).encode() + body1
        data += (head2 + "Content-Length: %d\r\n\r\n" % len(body2)).encode() + body2
        raw, _ = send_raw(self.server.port, data)
        self.assertEqual(raw.count(b"HTTP/1.1 200 OK"), 2, raw)
        self.assertEqual(self.server.state("bad-c"), "PAUSED")
        self.assertEqual([op for op, _, _ in self.trail("bad-c")], ["CREATE", "START", "PAUSE"])

    def test_chunked_body(self):
        head, body = self.raw_request("START", "bad-c",
                                      "Transfer-Encoding: chunked\r\nConnection: close\r\n")
        data = (head + "\r\n").encode()
        for i in range(0, len(body), 17):
            chunk = body[i:i + 17]
            data += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        data += b"0\r\n\r\n"
        raw, _ = send_raw(self.server.port, data)
        reply = parse_response(raw)
        self.assertIsNotNone(reply, raw)
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(self.server.state("bad-c"), "RECORDING")

    def test_garbage_instead_of_http(self):
        for data in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # TLS
                     b"HELLO WORLD\r\n\r\n",
                     b"POST /contact/start-recording HTTP/9.9\r\n\r\n"):
            with self.subTest(data=data[:12]):
                raw, _ = send_raw(self.server.port, data, shutdown_write=True)
                self.assertFalse(raw.startswith(b"HTTP/1.1 2"), raw)
        self.assertUntouched()
        self.assertStillServing()


class SignatureTest(BadInputCase):

    def test_missing_authorization(self):
        reply = self.server.signed_request(START, start_body(), drop_headers=("Authorization",))
        self.assertAwsError(reply, 403, "MissingAuthenticationTokenException")
        reply = http_call(self.server.port, "POST", START, json.dumps(start_body()),
                          [("Content-Type", "application/json")])
        self.assertAwsError(reply, 403, "MissingAuthenticationTokenException")
        self.assertUntouched()
        self.assertStillServing()

    def test_garbage_authorization(self):
        for value in ("garbage", "Bearer " + self.server.admin_token, "AWS4-HMAC-SHA256",
                      "AWS4-HMAC-SHA256 Credential=AKIDTEST", "AWS4-HMAC-SHA256 ,,,,",
                      "AWS4-HMAC-SHA256 Credential=/a/b, SignedHeaders=, Signature=",
                      "AWS4-HMAC-SHA256 Credential=AKIDTEST/20200101/us-east-1/connect/"
                      "aws4_request, SignedHeaders=host;x-amz-date, Signature=00"):
            with self.subTest(authorization=value):
                reply = self.server.signed_request(START, start_body(),
                                                   override_headers={"Authorization": value})
                self.assertEqual(reply.status, 403, repr(reply))
                self.assertIn(reply.error_type, ("IncompleteSignatureException",
                                                 "InvalidSignatureException",
                                                 "MissingAuthenticationTokenException"),
                              repr(reply))
                self.assertIn("message", reply.json())
        self.assertUntouched()
        self.assertStillServing()

    def test_stale_and_future_dates(self):
        for minutes in (-6, 6, -60 * 24):
            with self.subTest(minutes=minutes):
                when = utcnow() + datetime.timedelta(minutes=minutes)
                reply = self.server.signed_request(START, start_body(), when=when)
                self.assertAwsError(reply, 403, "InvalidSignatureException", "expired")
        self.assertUntouched()
        # Four minutes off is within the five AWS allows.
        reply = self.server.signed_request(START, start_body(),
                                           when=utcnow() - datetime.timedelta(minutes=4))
        self.assertEqual(reply.status, 200, repr(reply))

    def test_bad_amz_date(self):
        reply = self.server.signed_request(START, start_body(),
                                           override_headers={"X-Amz-Date": "yesterday"})
        self.assertEqual(reply.status, 403, repr(reply))
        reply = self.server.signed_request(START, start_body(), drop_headers=("X-Amz-Date",))
        self.assertEqual(reply.status, 403, repr(reply))
        self.assertUntouched()

    def test_body_altered_after_signing(self):
        signed = json.dumps(start_body(ContactId="bad-other", InitialContactId="bad-other"))
        sent = json.dumps(start_body())
        reply = self.server.signed_request(START, signed, send_body=sent)
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        # Same length, one byte changed.
        body = json.dumps(start_body(VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"}))
        altered = body.replace('"ALL"', '"AL_"')
        reply = self.server.signed_request(START, body, send_body=altered)
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        # A declared payload hash that is not the body's.
        reply = self.server.signed_request(
            START, start_body(), headers={"X-Amz-Content-Sha256": "0" * 64})
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        self.assertUntouched()
        self.assertStillServing()

    def test_signed_header_altered_after_signing(self):
        reply = self.server.signed_request(START, start_body(),
                                           override_headers={"Content-Type": "text/plain"})
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        reply = self.server.signed_request(PAUSE, start_body(),
                                           override_headers={"Host": "example.com"})
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        self.assertUntouched()

    def test_wrong_service_scope(self):
        reply = self.server.signed_request(START, start_body(), service="s3")
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        self.assertUntouched()

    def test_authentication_precedes_validation(self):
        # An unauthenticated caller learns nothing about the body or the contact.
        reply = self.server.signed_request(START, b"{not json", secret_key="WRONG")
        self.assertAwsError(reply, 403, "InvalidSignatureException")
        reply = self.server.signed_request(START, start_body(), access_key="AKIDNOBODY")
        self.assertAwsError(reply, 403, "UnrecognizedClientException")
        self.assertUntouched()


class SecretsTest(ServerTestCase):
    server_kwargs = {"log_level": "debug",
                     "access_keys": ((ACCESS_KEY, SECRET_KEY), ("AKIDSECOND", "S3CR3T-second-key"))}

    def test_secrets_never_logged(self):
        server = self.server
        server.create_contact("sec-c")
        server.connect_call("START", "sec-c")
        server.connect_call("PAUSE", "sec-c", secret_key="WRONG")
        server.connect_call("PAUSE", "sec-c", access_key="AKIDSECOND",
                            secret_key="S3CR3T-second-key")
        server.connect_call("STOP", "sec-c", when=utcnow() - datetime.timedelta(minutes=10))
        server.signed_request(START, b"{broken")
        server.signed_request(START, start_body(), override_headers={"Authorization": "junk"})
        server.v1("GET", "/v1/contacts", token="wrong-token")
        server.v1("GET", "/v1/contacts/sec-c")
        server.v1("GET", "/v1/contacts/sec-c", token=server.admin_token + "-typo")
        self.assertEqual(server.stop(), 0)
        server.start()  # a second start logs too
        # A contact whose recording had begun is ended by a restart (its media is gone).
        self.assertEqual(server.state("sec-c"), "ENDED")
        server.stop()
        log = server.stderr_text()
        self.assertTrue(log.strip(), "the server logged nothing at debug level")
        for secret in (SECRET_KEY, "S3CR3T-second-key", server.admin_token):
            self.assertNotIn(secret, log, "a secret is in the server's stderr log")
        self.assertNotIn("S3CR3T-second-key", server.stdout_text())


class GeneratedCredentialsTest(ServerTestCase):
    start_server = False

    def test_generated_credentials_work_and_stay_out_of_the_log(self):
        server = self.new_server(access_keys=(), admin_token=None, log_level="debug")
        path = os.path.join(server.data_dir, "credentials.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600,
                         "credentials.json must be readable by its owner only")
        creds = server.generated_credentials()
        key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["AdminToken"]
        self.assertTrue(key and len(secret) >= 30 and len(token) >= 30, creds)
        server.admin_token = token
        server.create_contact("gen-c")
        client = server.boto3_client(access_key=key, secret_key=secret)
        client.start_contact_recording(
            InstanceId="local", ContactId="gen-c", InitialContactId="gen-c",
            VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"})
        self.assertEqual(self.trail("gen-c", server)[-1], ("START", key, "OK"))
        # The banner shows them to whoever started the server (stdout), never the log.
        self.assertIn(secret, server.stdout_text())
        self.assertEqual(server.v1("GET", "/v1/contacts", token="nope").status, 401)
        server.connect_call("PAUSE", "gen-c", access_key=key, secret_key="wrong")
        # A restart keeps the same credentials.
        self.assertEqual(server.stop(), 0)
        server.start()
        self.assertEqual(server.generated_credentials(), creds)
        client = server.boto3_client(access_key=key, secret_key=secret)
        # gen-c was ended by the restart (its recording had begun): a new contact.
        server.create_contact("gen-d")
        client.start_contact_recording(
            InstanceId="local", ContactId="gen-d", InitialContactId="gen-d",
            VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"})
        self.assertEqual(self.trail("gen-d", server)[-1], ("START", key, "OK"))
        server.stop()
        log = server.stderr_text()
        self.assertTrue(log.strip(), "the server logged nothing at debug level")
        for value in (secret, token):
            self.assertNotIn(value, log, "a generated secret is in the server's stderr log")


if __name__ == "__main__":
    unittest.main()
