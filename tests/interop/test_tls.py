"""HTTPS on the HTTP API (--tls-cert/--tls-key): the real AWS CLI, boto3, the
`callrec` CLI and server-sent events over TLS; plain HTTP, a wrong CA, old TLS
versions and hostile handshakes refused without stopping good clients; clear
start-up errors.

A CA and a server certificate for 127.0.0.1 are made at test time with the
`openssl` CLI. Nothing here talks to anything but 127.0.0.1.
"""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
from unittest import mock

import boto3
import botocore.exceptions

from harness import (ACCESS_KEY, NO_RETRIES, REGION, SECRET_KEY, SERVER_BIN, HttpResult,
                     ServerProcess, ServerTestCase, boto3_recording_op, free_port, free_sip_port,
                     http_call)


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)


def make_ca(directory, name):
    """A self-signed CA: <name>.pem and <name>.key in `directory`."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
            "-subj", "/CN=callrec test %s" % name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return os.path.join(directory, name + ".pem")


def make_server_cert(directory, ca, name):
    """<name>.pem (for 127.0.0.1 and localhost, signed by `ca`) and <name>.key."""
    with open(os.path.join(directory, name + ".ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=127.0.0.1",
            cwd=directory)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
            cwd=directory)
    return os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")


class Pki:
    """Made once for the module: a CA and its server certificate, another CA, and a
    key that belongs to no certificate here."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="callrec-interop-pki-")
        self.ca = make_ca(self.dir, "ca")
        self.cert, self.key = make_server_cert(self.dir, "ca", "server")
        self.wrong_ca = make_ca(self.dir, "other-ca")
        _, self.other_key = make_server_cert(self.dir, "other-ca", "other")

    def client_context(self, ca=None):
        return ssl.create_default_context(cafile=ca or self.ca)


PKI = None


def setUpModule():
    global PKI
    PKI = Pki()


def tearDownModule():
    shutil.rmtree(PKI.dir, ignore_errors=True)


def https_call(port, method, path, body=b"", headers=(), context=None, timeout=20):
    """One request over HTTPS on a fresh connection, verified against the test CA."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                       context=context or PKI.client_context())
    try:
        conn.request(method, path, body=body or None, headers=dict(headers))
        response = conn.getresponse()
        return HttpResult(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


class TlsServerProcess(ServerProcess):
    """callrec-server with --tls-cert/--tls-key; its helpers speak HTTPS."""

    def __init__(self, **kwargs):
        extra = list(kwargs.pop("extra_args", ()))
        super().__init__(extra_args=["--tls-cert", PKI.cert, "--tls-key", PKI.key] + extra,
                         name="tls", **kwargs)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if https_call(self.port, "GET", "/healthz", timeout=2).status == 200:
                    return True
            except (OSError, ssl.SSLError):
                pass
            time.sleep(0.05)
        return False

    def v1(self, method, path, body=None, token=None, headers=()):
        hdrs = list(headers)
        token = self.admin_token if token is None else token
        if token is not False:
            hdrs.append(("Authorization", "Bearer %s" % token))
        data = b""
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.append(("Content-Type", "application/json"))
        return https_call(self.port, method, path, data, hdrs)

    def boto3_client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, config=NO_RETRIES,
                     verify=None):
        session = boto3.session.Session()
        return session.client("connect", endpoint_url=self.url, region_name=REGION,
                              aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                              config=config, verify=verify or PKI.ca)


class TlsTest(ServerTestCase):
    start_server = False

    def setUp(self):
        super().setUp()
        self.server = TlsServerProcess()
        self._servers.append(self.server)
        self.addCleanup(self.server.close)
        self.server.start()

    def test_banner_names_https(self):
        out = self.server.stdout_text()
        self.assertIn("Connect API : https://127.0.0.1:%d" % self.server.port, out)
        self.assertIn("https://127.0.0.1:%d/v1" % self.server.port, out)
        self.assertNotIn("http://", out)

    def test_aws_cli_start_suspend_resume_stop(self):
        self.server.create_contact("tls-cli")
        common = ["--instance-id", "local", "--contact-id", "tls-cli",
                  "--initial-contact-id", "tls-cli", "--ca-bundle", PKI.ca]
        steps = [("start-contact-recording", ["--voice-recording-configuration",
                                              "VoiceRecordingTrack=ALL"], "RECORDING"),
                 ("suspend-contact-recording", [], "PAUSED"),
                 ("resume-contact-recording", [], "RECORDING"),
                 ("stop-contact-recording", [], "STOPPED")]
        for command, extra, state in steps:
            with self.subTest(command=command):
                result = self.server.aws_cli("connect", command, *(common + extra))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(self.server.state("tls-cli"), state)

    def test_aws_cli_refuses_a_server_its_ca_bundle_does_not_vouch_for(self):
        self.server.create_contact("tls-cli-ca")
        result = self.server.aws_cli(
            "connect", "suspend-contact-recording", "--instance-id", "local",
            "--contact-id", "tls-cli-ca", "--initial-contact-id", "tls-cli-ca",
            "--ca-bundle", PKI.wrong_ca)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SSL", result.stderr)
        self.assertIn("certificate verify failed", result.stderr)

    def test_boto3_with_verify(self):
        self.server.create_contact("tls-b3")
        client = self.server.boto3_client()
        for operation, state in (("START", "RECORDING"), ("PAUSE", "PAUSED"),
                                 ("RESUME", "RECORDING"), ("STOP", "STOPPED")):
            reply = boto3_recording_op(client, operation, "tls-b3")
            self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
            self.assertEqual(self.server.state("tls-b3"), state)
        wrong = self.server.boto3_client(verify=PKI.wrong_ca)
        with self.assertRaises(botocore.exceptions.SSLError):
            boto3_recording_op(wrong, "START", "tls-b3")

    def test_keep_alive_over_tls(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=PKI.client_context())
        try:
            for _ in range(5):
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                self.assertEqual(response.status, 200)
            self.assertIsNotNone(conn.sock)  # one connection for all five
        finally:
            conn.close()

    def test_plain_http_is_refused_and_the_server_keeps_serving(self):
        reply = http_call(self.server.port, "GET", "/healthz")
        self.assertEqual(reply.status, 400, repr(reply))
        self.assertIn("https", reply.json()["message"].lower())
        self.assertEqual(reply.header("Connection"), "close")
        # A signed Connect request in plain text is refused the same way, unread.
        reply = self.server.connect_call("START", "tls-plain")
        self.assertEqual(reply.status, 400, repr(reply))
        self.assertEqual(https_call(self.server.port, "GET", "/healthz").status, 200)

    def test_tls_1_1_is_refused_1_2_and_1_3_accepted(self):
        for version, accepted in ((ssl.TLSVersion.TLSv1_1, False),
                                  (ssl.TLSVersion.TLSv1_2, True),
                                  (ssl.TLSVersion.TLSv1_3, True)):
            with self.subTest(version=version.name):
                context = PKI.client_context()
                context.minimum_version = version
                context.maximum_version = version
                if version < ssl.TLSVersion.TLSv1_2:
                    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer it
                if accepted:
                    with socket.create_connection(("127.0.0.1", self.server.port), 10) as raw:
                        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                            self.assertEqual(tls.version(), version.name.replace("_", "."))
                            cipher = tls.cipher()[0]
                            # Forward secret and AEAD only (TLS 1.3's suites all are).
                            self.assertTrue("GCM" in cipher or "CHACHA20" in cipher, cipher)
                            if version == ssl.TLSVersion.TLSv1_2:
                                self.assertTrue(cipher.startswith("ECDHE-"), cipher)
                else:
                    with self.assertRaises(ssl.SSLError):
                        https_call(self.server.port, "GET", "/healthz", context=context)
        self.assertEqual(https_call(self.server.port, "GET", "/healthz").status, 200)

    def test_server_sent_events_over_tls(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=PKI.client_context())
        try:
            conn.request("GET", "/v1/events", headers={
                "Authorization": "Bearer %s" % self.server.admin_token,
                "Accept": "text/event-stream"})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertIn("text/event-stream", response.getheader("Content-Type"))

            def next_event(name):
                deadline = time.monotonic() + 10
                current = None
                while time.monotonic() < deadline:
                    line = response.readline().decode().rstrip("\n")
                    if line.startswith("event: "):
                        current = line[7:]
                    elif line.startswith("data: ") and current == name:
                        return json.loads(line[6:])
                self.fail("no %s event" % name)

            next_event("hello")
            self.server.create_contact("tls-sse")
            boto3_recording_op(self.server.boto3_client(), "START", "tls-sse")
            states = []
            while "RECORDING" not in states:
                event = next_event("contact")
                if event.get("ContactId") == "tls-sse":
                    states.append(event.get("State"))
            self.assertEqual(states[-1], "RECORDING")
        finally:
            conn.close()
        # The stream's end left the server serving.
        self.assertEqual(https_call(self.server.port, "GET", "/healthz").status, 200)

    def test_callrec_cli_over_https(self):
        self.server.create_contact("tls-callrec")
        with mock.patch.dict(os.environ, {"SSL_CERT_FILE": PKI.ca}):
            result = self.server.callrec_cli("start", "tls-callrec")
            self.assertEqual(result.returncode, 0, result.stderr)
            result = self.server.callrec_cli("pause", "tls-callrec")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(self.server.state("tls-callrec"), "PAUSED")
            result = self.server.callrec_cli("status", "tls-callrec")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("PAUSED", result.stdout)
        with mock.patch.dict(os.environ, {"SSL_CERT_FILE": PKI.wrong_ca}):
            result = self.server.callrec_cli("resume", "tls-callrec")
            self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertEqual(self.server.state("tls-callrec"), "PAUSED")


class HostileHandshakeTest(ServerTestCase):
    """One HTTP thread: silent, junk and stalled handshakes must not take it."""

    start_server = False

    def test_bad_handshakes_do_not_stop_good_clients(self):
        server = TlsServerProcess(extra_args=["--http-threads", "1"])
        self._servers.append(server)
        self.addCleanup(server.close)
        server.start()
        server.create_contact("tls-hostile")
        sockets = []
        self.addCleanup(lambda: [s.close() for s in sockets])
        opened = time.monotonic()
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
            sockets.append(s)
            if i % 4 == 1:
                s.sendall(os.urandom(300))  # junk
            elif i % 4 == 2:
                # A TLS record header announcing a ClientHello that never comes.
                s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            elif i % 4 == 3:
                s.sendall(b"\x16\x03\x01\x00\x10" + b"\x00" * 16)  # garbage handshake
            # i % 4 == 0: connects and says nothing
        client = server.boto3_client()
        for operation in ("START", "PAUSE", "RESUME"):
            started = time.monotonic()
            boto3_recording_op(client, operation, "tls-hostile")
            self.assertLess(time.monotonic() - started, 3, operation)
        self.assertEqual(server.state("tls-hostile"), "RECORDING")
        # The silent and stalled ones are cut at the handshake timeout (10 s).
        for s in sockets:
            s.settimeout(max(0.1, opened + 15 - time.monotonic()))
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            except socket.timeout:
                self.fail("a connection without a handshake was still open after 15 s")
        self.assertGreater(time.monotonic() - opened, 9)
        self.assertEqual(https_call(server.port, "GET", "/healthz").status, 200)
        self.assertTrue(server.running)


class TlsStartupTest(unittest.TestCase):
    """Start-up refuses unusable TLS settings with a clear message and exit 1."""

    def run_server(self, *args):
        data = tempfile.mkdtemp(prefix="callrec-interop-tls-start-")
        self.addCleanup(shutil.rmtree, data, True)
        return subprocess.run(
            [SERVER_BIN, "--listen", "127.0.0.1:%d" % free_port(), "--sip-listen",
             "127.0.0.1:%d" % free_sip_port(), "--data-dir", data, "--log-level", "error"] +
            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)

    def assertRefused(self, result, *needles):
        self.assertNotEqual(result.returncode, 0, result.stdout)
        for needle in needles:
            self.assertIn(needle, result.stderr)
        self.assertNotIn("callrec-server ready", result.stdout)

    def test_missing_files(self):
        missing = os.path.join(PKI.dir, "absent.pem")
        self.assertRefused(self.run_server("--tls-cert", missing, "--tls-key", PKI.key),
                           "TLS certificate", missing, "No such file")
        self.assertRefused(self.run_server("--tls-cert", PKI.cert, "--tls-key", missing),
                           "TLS private key", missing)

    def test_key_of_another_certificate(self):
        self.assertRefused(self.run_server("--tls-cert", PKI.cert, "--tls-key", PKI.other_key),
                           "TLS private key", PKI.other_key, "certificate")

    def test_not_pem(self):
        junk = os.path.join(PKI.dir, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        self.assertRefused(self.run_server("--tls-cert", junk, "--tls-key", PKI.key),
                           "TLS certificate", junk)
        self.assertRefused(self.run_server("--tls-cert", PKI.cert, "--tls-key", junk),
                           "TLS private key", junk)

    def test_certificate_without_key_and_key_without_certificate(self):
        self.assertRefused(self.run_server("--tls-cert", PKI.cert), "--tls-key", "both")
        self.assertRefused(self.run_server("--tls-key", PKI.key), "--tls-key", "both")

    def test_encrypted_key_fails_without_asking_for_a_passphrase(self):
        encrypted = os.path.join(PKI.dir, "encrypted.key")
        openssl("pkey", "-in", PKI.key, "-aes256", "-passout", "pass:secret", "-out", encrypted,
                cwd=PKI.dir)
        self.assertRefused(self.run_server("--tls-cert", PKI.cert, "--tls-key", encrypted),
                           "TLS private key", encrypted)


if __name__ == "__main__":
    unittest.main()
