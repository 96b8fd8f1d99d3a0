"""The real callrec-lambda binary under a Lambda Runtime API emulator written
here, with events shaped like Amazon Connect's InvokeLambdaFunction, against a
real callrec-server as the Connect endpoint (CONNECT_ENDPOINT)."""

import http.client
import http.server
import json
import os
import queue
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import ACCESS_KEY, BUILD_DIR, SECRET_KEY, ServerTestCase, free_port

# `make interop-test` points this at the static bootstrap of `make lambda-zip`,
# the binary that is deployed; by default the development build.
LAMBDA_BIN = os.environ.get("CALLREC_LAMBDA_BIN") or os.path.join(BUILD_DIR, "src",
                                                                  "callrec-lambda")


class RuntimeApiEmulator:
    """The Runtime API 2018-06-01: /invocation/next hands out queued events with
    a request id and deadline; /response and /error record the answers."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = {}
        self.init_errors = []
        self.answered = threading.Condition()
        emulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self._reply(404)
                request_id, event, timeout_ms = emulator.events.get()
                deadline = int(time.time() * 1000) + timeout_ms
                self._reply(200, event, [("Lambda-Runtime-Aws-Request-Id", request_id),
                                         ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                                         ("Content-Type", "application/json")])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.split("/")
                with emulator.answered:
                    if self.path == "/2018-06-01/runtime/init/error":
                        emulator.init_errors.append(json.loads(body))
                    elif len(parts) == 6 and parts[5] in ("response", "error"):
                        emulator.answers[parts[4]] = (parts[5], json.loads(body))
                    else:
                        return self._reply(404)
                    emulator.answered.notify_all()
                self._reply(202, b'{"status":"OK"}')

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def invoke(self, event, timeout_ms=8000, raw=None):
        request_id = str(uuid.uuid4())
        body = raw if raw is not None else json.dumps(event).encode()
        self.events.put((request_id, body, timeout_ms))
        deadline = time.time() + timeout_ms / 1000 + 5
        with self.answered:
            while request_id not in self.answers:
                if not self.answered.wait(timeout=max(0.1, deadline - time.time())):
                    if time.time() > deadline:
                        raise AssertionError("the Lambda did not answer %s" % request_id)
            return self.answers[request_id]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def forward(handler, upstream, body):
    """Passes a POST unchanged to the real server and its answer back."""
    conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=10)
    conn.request("POST", handler.path, body, dict(handler.headers.items()))
    reply = conn.getresponse()
    data = reply.read()
    handler.send_response(reply.status)
    for name, value in reply.getheaders():
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def connect_event(operation, contact_id, track=None, initial=None, related=None, status=None):
    """An InvokeLambdaFunction event as Amazon Connect sends it."""
    parameters = {"operation": operation, "initialContactId": initial or contact_id}
    if track is not None:
        parameters["voiceRecordingTrack"] = track
    contact = {"ContactId": contact_id, "InitialContactId": initial or contact_id,
               "Channel": "VOICE", "InstanceARN":
               "arn:aws:connect:us-east-1:123456789012:instance/local",
               "Attributes": {} if status is None else {"callRecordingStatus": status}}
    if related:
        contact["RelatedContactId"] = related
    return {"Name": "ContactFlowEvent",
            "Details": {"ContactData": contact, "Parameters": parameters}}


class LambdaTest(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.runtime = RuntimeApiEmulator()
        self.addCleanup(self.runtime.close)

    def start_lambda(self, endpoint=None, instance_id="local", secret=SECRET_KEY, extra_env=None):
        env = {"PATH": os.environ.get("PATH", ""),
               "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % self.runtime.port,
               "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": secret,
               "AWS_SESSION_TOKEN": "session-token-not-checked",
               "CONNECT_ENDPOINT": endpoint or self.server.url}
        if instance_id is not None:
            env["INSTANCE_ID"] = instance_id
        env.update(extra_env or {})
        self.log_path = os.path.join(self.server.data_dir, "lambda.log")
        log = open(self.log_path, "wb")
        self.addCleanup(log.close)
        process = subprocess.Popen([LAMBDA_BIN], env=env, stdout=log, stderr=subprocess.STDOUT)

        def stop():
            process.kill()
            process.wait()
        self.addCleanup(stop)
        return process

    def invoke(self, event, **kwargs):
        kind, body = self.runtime.invoke(event, **kwargs)
        self.assertEqual(kind, "response", body)
        self.assertTrue(all(isinstance(v, str) for v in body.values()),
                        "the answer must be a flat string map: %r" % body)
        return body

    def test_every_operation_reports_the_state_reached(self):
        self.server = self.new_server()
        self.server.create_contact("c1")
        self.start_lambda()
        steps = [("START", "ALL", "ON", "RECORDING"), ("PAUSE", None, "PAUSED", "PAUSED"),
                 ("RESUME", None, "ON", "RECORDING"), ("STOP", None, "OFF", "STOPPED")]
        for operation, track, status, state in steps:
            answer = self.invoke(connect_event(operation, "c1", track=track))
            self.assertEqual(answer["statusCode"], "200", answer)
            self.assertEqual(answer["operation"], operation)
            self.assertEqual(answer["callRecordingStatus"], status)
            # Named as the workspace's badge names the state reached.
            self.assertIn(">%s ⬤<" % ("NOT RECORDING" if state == "NOT_STARTED" else state),
                          answer["callRecordingHTML"])
            self.assertEqual(self.server.state("c1"), state)
        trail = self.server.get_contact("c1")["AuditTrail"]
        self.assertEqual([e["Principal"] for e in trail[1:]], [ACCESS_KEY] * 4)

    def test_related_contact_and_track(self):
        self.server = self.new_server()
        self.server.create_contact("agent-leg", initial_contact_id="first")
        self.start_lambda()
        answer = self.invoke(connect_event("START", "guide-contact", track="FROM_AGENT",
                                           initial="first", related="agent-leg"))
        self.assertEqual(answer["statusCode"], "200", answer)
        self.assertEqual(self.server.get_contact("agent-leg")["Track"], "FROM_AGENT")

    def test_refusals_are_400_and_never_claim_recording(self):
        self.server = self.new_server()
        self.server.create_contact("c2")
        self.start_lambda()
        for event, needle in [
                (connect_event("REWIND", "c2"), "Unknown operation"),
                (connect_event("START", "c2", track="BOTH"), "voiceRecordingTrack")]:
            answer = self.invoke(event)
            self.assertEqual(answer["statusCode"], "400", answer)
            self.assertIn(needle, answer["message"])
            self.assertEqual(answer["callRecordingStatus"], "OFF")
        self.assertEqual(self.server.state("c2"), "NOT_STARTED")
        # A Connect refusal: its status and message, and the state really reached.
        answer = self.invoke(connect_event("PAUSE", "c2"))
        self.assertEqual(answer["statusCode"], "400", answer)
        self.assertIn("InvalidRequestException", answer["message"])
        self.assertEqual(answer["callRecordingStatus"], "OFF")
        self.invoke(connect_event("START", "c2", track="ALL"))
        self.invoke(connect_event("PAUSE", "c2"))
        answer = self.invoke(connect_event("START", "c2", track="ALL", status="PAUSED"))
        self.assertEqual(answer["statusCode"], "400", answer)
        self.assertEqual(answer["callRecordingStatus"], "PAUSED")
        answer = self.invoke(connect_event("PAUSE", "nobody"))
        self.assertEqual(answer["statusCode"], "404", answer)
        self.assertIn("ResourceNotFoundException", answer["message"])

    def test_bad_signature_is_reported_as_connect_error(self):
        self.server = self.new_server()
        self.server.create_contact("c3")
        self.start_lambda(secret="not-the-secret")
        answer = self.invoke(connect_event("START", "c3", track="ALL"))
        self.assertEqual(answer["statusCode"], "403", answer)
        self.assertIn("InvalidSignatureException", answer["message"])
        self.assertEqual(self.server.state("c3"), "NOT_STARTED")

    def test_dead_endpoint_is_502_within_the_deadline(self):
        self.server = self.new_server()
        self.server.create_contact("c4")
        dead = "http://127.0.0.1:%d" % free_port()
        process = self.start_lambda(endpoint=dead)
        started = time.time()
        answer = self.invoke(connect_event("START", "c4", track="ALL"), timeout_ms=1500)
        self.assertEqual(answer["statusCode"], "502", answer)
        self.assertEqual(answer["callRecordingStatus"], "OFF")
        self.assertLess(time.time() - started, 3, "retries must stay within the deadline")
        self.assertIsNone(process.poll(), "the runtime must keep serving")

    def test_malformed_events_then_a_good_one_in_the_same_process(self):
        self.server = self.new_server()
        self.server.create_contact("c6")
        process = self.start_lambda()
        for raw in (b"{not json", b"[1,2,3]", b'{"unexpected": {}}', b'"just a string"'):
            answer = self.invoke(None, raw=raw)
            self.assertEqual(answer["statusCode"], "400", (raw, answer))
        answer = self.invoke(connect_event("START", "c6", track="ALL"))
        self.assertEqual(answer["statusCode"], "200", answer)
        self.assertEqual(self.server.state("c6"), "RECORDING")
        self.assertIsNone(process.poll(), "the runtime must keep serving")

    def test_throttling_is_retried_with_backoff_within_the_deadline(self):
        # A fault injector in front of the real server: the first two calls are
        # refused as Connect refuses when throttling, the rest pass through.
        self.server = self.new_server()
        self.server.create_contact("c7")
        upstream = self.server.port
        seen = []

        class Throttle(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seen.append(time.time())
                if len(seen) <= 2:
                    payload = b'{"message":"Rate exceeded"}'
                    self.send_response(429)
                    self.send_header("x-amzn-ErrorType", "ThrottlingException")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                forward(self, upstream, body)

        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Throttle)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        self.addCleanup(proxy.server_close)
        self.addCleanup(proxy.shutdown)
        # The Host header the Lambda signs names the proxy; the server checks
        # signatures over what it receives, which the proxy passes unchanged.
        self.start_lambda(endpoint="http://127.0.0.1:%d" % proxy.server_address[1])
        answer = self.invoke(connect_event("START", "c7", track="ALL"))
        self.assertEqual(answer["statusCode"], "200", answer)
        self.assertEqual(len(seen), 3)
        self.assertGreaterEqual(seen[2] - seen[1], 1.5 * (seen[1] - seen[0]) - 0.02,
                                "the back-off must grow: %s" % seen)
        self.assertEqual(self.server.state("c7"), "RECORDING")

    def test_https_endpoint_with_certificate_verification(self):
        # A TLS front (Python's ssl with a certificate made here for 127.0.0.1)
        # before the real server: the Lambda must verify it against the CA
        # bundle it is given, and refuse it against any other.
        self.server = self.new_server()
        self.server.create_contact("c8")
        workdir = tempfile.mkdtemp(prefix="callrec-tls-")
        self.addCleanup(shutil.rmtree, workdir, True)
        cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        upstream = self.server.port

        class Front(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                forward(self, upstream, body)

        front = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Front)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        front.socket = context.wrap_socket(front.socket, server_side=True)
        threading.Thread(target=front.serve_forever, daemon=True).start()
        self.addCleanup(front.server_close)
        self.addCleanup(front.shutdown)
        endpoint = "https://127.0.0.1:%d" % front.server_address[1]

        trusted = self.start_lambda(endpoint=endpoint, extra_env={"SSL_CERT_FILE": cert})
        answer = self.invoke(connect_event("START", "c8", track="ALL"))
        self.assertEqual(answer["statusCode"], "200", answer)
        self.assertEqual(self.server.state("c8"), "RECORDING")
        trusted.kill()
        trusted.wait()
        # A fresh Runtime API: the killed process's long poll still holds the old one.
        self.runtime = RuntimeApiEmulator()
        self.addCleanup(self.runtime.close)

        # Against a bundle that does not hold that certificate: refused, nothing changes.
        other = os.path.join(workdir, "other.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=someone-else", "-keyout", os.path.join(workdir, "k2.pem"),
                        "-out", other], check=True, capture_output=True)
        self.start_lambda(endpoint=endpoint, extra_env={"SSL_CERT_FILE": other})
        answer = self.invoke(connect_event("PAUSE", "c8"), timeout_ms=1500)
        self.assertEqual(answer["statusCode"], "502", answer)
        self.assertIn("certificate", answer["message"].lower())
        self.assertEqual(answer["callRecordingStatus"], "OFF")
        self.assertEqual(self.server.state("c8"), "RECORDING")

    def test_logs_are_json_lines_without_secrets(self):
        self.server = self.new_server()
        self.server.create_contact("c5")
        self.start_lambda()
        self.invoke(connect_event("START", "c5", track="ALL"))
        self.invoke(connect_event("REWIND", "c5"))
        time.sleep(0.2)
        with open(self.log_path, "rb") as f:
            lines = [json.loads(line) for line in f.read().decode().splitlines() if line]
        invocations = [line for line in lines if line.get("event") == "invocation"]
        self.assertEqual(len(invocations), 2, lines)
        self.assertEqual(invocations[0]["statusCode"], 200)
        self.assertIn("requestId", invocations[0])
        text = json.dumps(lines)
        for secret in (SECRET_KEY, "session-token-not-checked"):
            self.assertNotIn(secret, text)

    def test_missing_instance_id_is_an_init_error(self):
        self.server = self.new_server()
        process = self.start_lambda(instance_id=None)
        self.assertEqual(process.wait(timeout=10), 1)
        self.assertEqual(len(self.runtime.init_errors), 1)
        self.assertIn("INSTANCE_ID", self.runtime.init_errors[0]["errorMessage"])


class BootstrapPortabilityTest(unittest.TestCase):
    """provided.al2023 has glibc 2.34 and nothing else we may rely on."""

    def setUp(self):
        if not os.environ.get("CALLREC_LAMBDA_BIN"):
            self.skipTest("only the static bootstrap of `make lambda-zip` is checked")

    def test_needs_no_glibc_newer_than_2_34(self):
        dynamic = subprocess.run(["objdump", "-T", LAMBDA_BIN], capture_output=True,
                                 text=True, check=True).stdout
        versions = set()
        for word in dynamic.split():
            word = word.strip("()")
            if word.startswith("GLIBC_2."):
                versions.add(tuple(int(x) for x in word[len("GLIBC_"):].split(".")))
        self.assertTrue(versions, "no versioned glibc symbols found: is it dynamic at all?")
        self.assertLessEqual(max(versions), (2, 34), sorted(versions))

    def test_needs_no_shared_library_outside_glibc(self):
        needed = subprocess.run(["objdump", "-p", LAMBDA_BIN], capture_output=True,
                                text=True, check=True).stdout
        libraries = [line.split()[1] for line in needed.splitlines()
                     if line.strip().startswith("NEEDED")]
        glibc = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "ld-linux-x86-64.so.2",
                 "ld-linux-aarch64.so.1", "librt.so.1"}
        self.assertTrue(libraries)
        self.assertEqual([lib for lib in libraries if lib not in glibc], [], libraries)


if __name__ == "__main__":
    unittest.main()
