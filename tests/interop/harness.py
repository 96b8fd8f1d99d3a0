"""Shared helpers for callrec's interop tests.

The tests run the real `callrec-server` (and the real `callrec` CLI) built in
$CALLREC_BUILD_DIR and talk to it over 127.0.0.1 with real peers: the AWS CLI,
boto3, and hand-made SigV4 requests for what boto3 refuses to send.

Nothing here talks to anything but 127.0.0.1.
"""

import atexit
import datetime
import errno
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid
from unittest import mock

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get(
    "CALLREC_BUILD_DIR", os.path.normpath(os.path.join(HERE, "..", "..", "build")))
SERVER_BIN = os.path.join(BUILD_DIR, "src", "callrec-server")
CLI_BIN = os.path.join(BUILD_DIR, "src", "callrec")
# `make interop-test-pg` (CALLREC_TEST_STORE=postgresql): every server runs on
# a fresh database of its own in one PostgreSQL started for the run
# (tests/interop/postgres.py) instead of the SQLite file in its data dir.
TEST_STORE = os.environ.get("CALLREC_TEST_STORE", "sqlite")
if TEST_STORE not in ("sqlite", "postgresql"):
    raise RuntimeError("CALLREC_TEST_STORE: sqlite or postgresql, not %r" % TEST_STORE)
ON_POSTGRES = TEST_STORE == "postgresql"


def store_args():
    """--store for a new server under CALLREC_TEST_STORE (none for SQLite)."""
    if not ON_POSTGRES:
        return []
    import postgres  # only then: it needs PostgreSQL installed
    cluster = postgres.shared()
    return ["--store", cluster.uri(cluster.create_database())]


# Set by `make test-sanitize`: the binaries are ASan+UBSan builds, whose shadow
# memory and free quarantine make resident-memory figures meaningless.
SANITIZED = os.environ.get("CALLREC_SANITIZED") == "1"


def sanitizer_env(full_stacks):
    """The environment of a process under test, or None for ours unchanged.
    Under the sanitizers, full_stacks makes ASan unwind each allocation from
    debug info instead of frame pointers, which stop in OpenSSL (built without
    them): a leak inside sofia-sip's TLS transport would otherwise show no
    sofia-sip frame for tests/sanitizers/lsan.supp to match. It is slower, so
    only processes that speak SIP over TLS ask for it."""
    if not (SANITIZED and full_stacks):
        return None
    env = dict(os.environ)
    options = [o for o in env.get("ASAN_OPTIONS", "").split(":") if o]
    env["ASAN_OPTIONS"] = ":".join(options + ["fast_unwind_on_malloc=0"])
    return env

ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "SECRETTEST"
ADMIN_TOKEN = "admintoken-9f3c2a7e51"
REGION = "us-east-1"

# Keep the machine's own AWS configuration (profiles, retry settings, endpoints)
# out of the tests: every client gets its credentials and region explicitly.
_ISOLATED_AWS_DIR = tempfile.mkdtemp(prefix="callrec-interop-aws-")
atexit.register(shutil.rmtree, _ISOLATED_AWS_DIR, True)
for _name, _file in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials")):
    os.environ[_name] = os.path.join(_ISOLATED_AWS_DIR, _file)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN",
              "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)

NO_RETRIES = botocore.config.Config(
    retries={"max_attempts": 0}, connect_timeout=5, read_timeout=20)


def _retry_while_rebuilt(launch, patience=120):
    """Runs launch(); while the binary is being rewritten by a build running at the
    same time (EACCES, ETXTBSY, ENOEXEC; ENOENT for a short while), waits and retries."""
    started = time.monotonic()
    while True:
        try:
            return launch()
        except OSError as error:
            waited = time.monotonic() - started
            busy = error.errno in (errno.EACCES, errno.ETXTBSY, errno.ENOEXEC)
            if not (busy and waited < patience) and not (error.errno == errno.ENOENT and
                                                         waited < 10):
                raise
            time.sleep(0.5)


def wait_until(what, predicate, timeout, step=0.05):
    """predicate()'s first true value, polled every `step` s; AssertionError
    naming `what` when none came within `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(step)


def complete_metadata(wav_path, timeout=10):
    """The metadata JSON beside a recording once it says Complete."""
    meta_path = wav_path[:-len(".wav")] + ".json"

    def complete():
        try:
            with open(meta_path) as f:
                meta = json.load(f)
            return meta if meta.get("Complete") else None
        except (OSError, ValueError):
            return None
    return wait_until("%s complete" % meta_path, complete, timeout)


class NodeLogsOnFailure:
    """Mixin for a TestCase holding several servers in `self.nodes` (name ->
    ServerProcess): a failed test prints the end of each one's log, then those
    of peer_logs() ([(name, text)]: the daemons in front of them)."""
    node_log_chars = 4000

    def peer_logs(self):
        return []

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        try:
            return super().run(result)
        finally:
            if result and len(result.failures) + len(result.errors) > before:
                for name, node in self.nodes.items():
                    sys.stderr.write("\n==== node %s ====\n%s\n"
                                     % (name, node.logs(self.node_log_chars)))
                for name, text in self.peer_logs():
                    sys.stderr.write("\n==== %s ====\n%s\n" % (name, text))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_sip_port():
    """A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free SIP port")


class HttpResult:
    """A response: status, headers (case-insensitive lookup), raw body, parsed JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self._headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name, default=None):
        return self._headers.get(name.lower(), default)

    @property
    def headers(self):
        return dict(self._headers)

    @property
    def error_type(self):
        return self.header("x-amzn-ErrorType")

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "HttpResult(status=%s, type=%s, body=%r)" % (
            self.status, self.error_type, self.body[:500])


def http_call(port, method, path, body=b"", headers=(), timeout=20, host="127.0.0.1"):
    """One request on a fresh connection; headers are sent exactly as given
    (Host and Content-Length too, when given), in order."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        names = {k.lower() for k, _ in headers}
        conn.putrequest(method, path, skip_host="host" in names, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if "content-length" not in names and (body or method in ("POST", "PUT")):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        response = conn.getresponse()
        data = response.read()
        return HttpResult(response.status, response.getheaders(), data)
    finally:
        conn.close()


def send_raw(port, data, timeout=20, shutdown_write=False):
    """Sends bytes on a fresh connection and reads until the server closes it, as a
    careful client does: an error while sending (the server may refuse a request
    before reading all of it) does not stop it from reading the answer.
    Returns (bytes received, the error seen while sending or None)."""
    send_error = None
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
        except OSError as error:
            send_error = error
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError as error:
            if not received:
                raise AssertionError("no answer; sending failed with %r, reading with %r"
                                     % (send_error, error))
    return received, send_error


def parse_response(data):
    """The first HTTP response in `data` as an HttpResult (None if there is none)."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1."):
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), len(rest))
    return HttpResult(status, headers, rest[:length])


def guide_call(port, contact_id, token, output=None):
    """The agent guide as the workspace drives it: GET the view, or POST the view's
    output ({"Result": "ActionSelected", "ViewResultData": {"actionName": ...}})."""
    headers = [("Authorization", "Bearer %s" % token)]
    if output is None:
        return http_call(port, "GET", "/v1/contacts/%s/guide" % contact_id, b"", headers)
    return http_call(port, "POST", "/v1/contacts/%s/guide/actions" % contact_id,
                     json.dumps(output).encode(), headers + [("Content-Type", "application/json")])


def click(action):
    """A Cards view's output for the action chosen."""
    return {"Result": "ActionSelected", "ViewResultData": {"actionName": action}}


class ServerProcess:
    """The real callrec-server on 127.0.0.1, a free port and a temporary data dir."""

    def __init__(self, instance_ids=("local",), access_keys=((ACCESS_KEY, SECRET_KEY),),
                 admin_token=ADMIN_TOKEN, log_level=os.environ.get("CALLREC_TEST_LOG_LEVEL", "warn"), extra_args=(), name="server",
                 env=None, binary=None):
        self.binary = binary or SERVER_BIN  # another: an installed package's
        self.instance_ids = list(instance_ids)
        self.access_keys = list(access_keys)
        self.admin_token = admin_token
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.env = env  # None: the tests' own
        # Under CALLREC_TEST_STORE=postgresql a database of its own (kept across
        # restarts), unless the test chose a store itself.
        if "--store" not in self.extra_args:
            self.extra_args = store_args() + self.extra_args
        self.store = (self.extra_args[self.extra_args.index("--store") + 1]
                      if "--store" in self.extra_args else "sqlite")
        self.tmp = tempfile.mkdtemp(prefix="callrec-interop-%s-" % name)
        self.data_dir = os.path.join(self.tmp, "data")
        self.port = None
        self.sip_port = None
        self.proc = None
        self.starts = 0
        self._out = None
        self._err = None

    # ---- life cycle -------------------------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _args(self):
        args = [self.binary, "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir,
                "--log-level", self.log_level, "--sip-listen", "127.0.0.1:%d" % self.sip_port]
        if self.admin_token:  # none: the server generates one into the data dir
            args += ["--admin-token", self.admin_token]
        for key_id, secret in self.access_keys:
            args += ["--access-key", "%s:%s" % (key_id, secret)]
        for instance in self.instance_ids:
            args += ["--instance-id", instance]
        if "--drain-timeout" not in self.extra_args:
            # stop() means "stop now", as the tests written before the drain
            # expect (calls up at SIGTERM are cut); test_cluster drains.
            args += ["--drain-timeout", "0"]
        return args + self.extra_args

    def start(self, timeout=15):
        keep_port = self.port is not None
        for attempt in range(4):
            if self.port is None:
                self.port = free_port()
            if self.sip_port is None:
                self.sip_port = free_sip_port()
            self.starts += 1
            self.stdout_path = os.path.join(self.tmp, "stdout-%d.log" % self.starts)
            self.stderr_path = os.path.join(self.tmp, "stderr-%d.log" % self.starts)
            self._out = open(self.stdout_path, "wb")
            self._err = open(self.stderr_path, "wb")
            self.proc = _retry_while_rebuilt(lambda: subprocess.Popen(
                self._args(), stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL,
                env=self.env))
            if self._wait_healthy(timeout):
                return self
            self._close_files()
            err = self.read_file(self.stderr_path)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("callrec-server did not become healthy in %ss\n%s"
                                   % (timeout, self.logs()))
            if "address already in use" in err.lower():
                # Someone took the port between our probe and the bind (or a restart's
                # old port is not free yet): try another.
                if keep_port and attempt == 0:
                    time.sleep(0.5)
                else:
                    self.port = None
                    self.sip_port = None
                continue
            raise RuntimeError("callrec-server exited with %s at start\n%s"
                               % (self.proc.returncode, self.logs()))
        raise RuntimeError("callrec-server could not bind a port\n%s" % self.logs())

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if http_call(self.port, "GET", "/healthz", timeout=2).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def _close_files(self):
        for f in (self._out, self._err):
            if f is not None and not f.closed:
                f.close()

    def store_sql(self, sql):
        """Runs one SQL statement on this server's state store from a connection
        of its own (as a foreign or damaged write would come), SQLite or
        PostgreSQL; the rows it returned as text, "|" between columns."""
        if self.store == "sqlite":
            import sqlite3
            db = sqlite3.connect(os.path.join(self.data_dir, "callrec.db"), timeout=10)
            try:
                rows = db.execute(sql).fetchall()
                db.commit()
            finally:
                db.close()
            return "\n".join("|".join(str(v) for v in row) for row in rows)
        import postgres
        dbname = urllib.parse.urlparse(self.store).path.lstrip("/")
        return postgres.shared().psql(sql, dbname)

    def generated_credentials(self):
        """What the server generated into <data-dir>/credentials.json when started
        without --access-key or --admin-token."""
        with open(os.path.join(self.data_dir, "credentials.json")) as f:
            return json.load(f)

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_files()
                raise AssertionError("callrec-server ignored SIGTERM for %ss\n%s"
                                     % (timeout, self.logs()))
        self._close_files()
        return self.proc.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._close_files()
        return self.proc.returncode if self.proc else None

    def restart(self, timeout=15):
        """Stop (SIGTERM) if running, and start again on the same data dir and port."""
        if self.running:
            self.stop()
        return self.start(timeout)

    def close(self):
        try:
            if self.running:
                try:
                    self.stop(timeout=5)
                except AssertionError:
                    pass
        finally:
            self._close_files()

    def cleanup_files(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- logs -------------------------------------------------------------------------

    @staticmethod
    def read_file(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_text(self):
        """stderr of every start so far."""
        return "".join(self.read_file(os.path.join(self.tmp, "stderr-%d.log" % i))
                       for i in range(1, self.starts + 1))

    def stdout_text(self):
        return "".join(self.read_file(os.path.join(self.tmp, "stdout-%d.log" % i))
                       for i in range(1, self.starts + 1))

    def logs(self, limit=6000):
        out = []
        for i in range(1, self.starts + 1):
            for kind in ("stdout", "stderr"):
                text = self.read_file(os.path.join(self.tmp, "%s-%d.log" % (kind, i)))
                if text:
                    out.append("--- callrec-server start %d %s ---\n%s" % (i, kind, text[-limit:]))
        return "\n".join(out) or "(no server output)"

    # ---- /v1 --------------------------------------------------------------------------

    def v1(self, method, path, body=None, token=None, headers=()):
        """A /v1 (or /healthz, /metrics) call; token=None means the admin token,
        token=False means no Authorization header."""
        hdrs = list(headers)
        if token is None:
            token = self.admin_token
        if token is not False:
            hdrs.append(("Authorization", "Bearer %s" % token))
        data = b""
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.append(("Content-Type", "application/json"))
        return http_call(self.port, method, path, data, hdrs)

    def create_contact(self, contact_id, agent_id="agent-1", initial_contact_id=None,
                       agent_joined=True, codec="PCMU", instance_id="local", pause_behavior=None):
        body = {"InstanceId": instance_id, "ContactId": contact_id,
                "InitialContactId": initial_contact_id or contact_id, "AgentId": agent_id,
                "Codec": codec, "AgentJoined": agent_joined}
        if pause_behavior is not None:
            body["PauseBehavior"] = pause_behavior
        reply = self.v1("POST", "/v1/contacts", body)
        if reply.status != 201:
            raise AssertionError("creating contact %s: %r" % (contact_id, reply))
        return reply.json()

    def get_contact(self, contact_id):
        reply = self.v1("GET", "/v1/contacts/" + urllib.parse.quote(contact_id, safe=""))
        if reply.status != 200:
            raise AssertionError("getting contact %s: %r" % (contact_id, reply))
        return reply.json()

    def state(self, contact_id):
        return self.get_contact(contact_id)["State"]

    def list_contacts(self, **query):
        """Every contact the query lists: all its pages, NextToken after NextToken."""
        contacts, token = [], None
        while True:
            page_query = dict(query, **({"NextToken": token} if token else {}))
            path = "/v1/contacts"
            if page_query:
                path += "?" + urllib.parse.urlencode(page_query, quote_via=urllib.parse.quote)
            reply = self.v1("GET", path)
            if reply.status != 200:
                raise AssertionError("listing contacts %s: %r" % (query, reply))
            contacts += reply.json()["Contacts"]
            token = reply.json().get("NextToken")
            if not token:
                return contacts

    def metrics(self):
        reply = http_call(self.port, "GET", "/metrics")
        if reply.status != 200:
            raise AssertionError("GET /metrics: %r" % reply)
        return reply.text

    # ---- Connect API peers ------------------------------------------------------------

    def boto3_client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, config=NO_RETRIES):
        # One session per client: clients are then safe to use from their own thread.
        session = boto3.session.Session()
        return session.client("connect", endpoint_url=self.url, region_name=REGION,
                              aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                              config=config)

    def aws_cli(self, *args, access_key=ACCESS_KEY, secret_key=SECRET_KEY, timeout=60):
        """Runs `aws <args> --endpoint-url URL`; returns the CompletedProcess
        (returncode, stdout, stderr as text)."""
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key,
                    "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1",
                    "AWS_RETRY_MODE": "standard", "AWS_PAGER": ""})
        return subprocess.run(["aws"] + list(args) + ["--endpoint-url", self.url], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout)

    def callrec_cli(self, *args, access_key=ACCESS_KEY, secret_key=SECRET_KEY, admin_token=None,
                    endpoint=True, timeout=30):
        """Runs the project's `callrec` CLI with credentials from the environment."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CALLREC_") and not k.startswith("AWS_")}
        if access_key is not None:
            env["AWS_ACCESS_KEY_ID"] = access_key
        if secret_key is not None:
            env["AWS_SECRET_ACCESS_KEY"] = secret_key
        token = self.admin_token if admin_token is None else admin_token
        if token:
            env["CALLREC_ADMIN_TOKEN"] = token
        argv = [CLI_BIN] + (["--endpoint-url", self.url] if endpoint else []) + list(args)
        return _retry_while_rebuilt(lambda: subprocess.run(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=timeout))

    def sign(self, path, body=b"", method="POST", access_key=ACCESS_KEY, secret_key=SECRET_KEY,
             headers=None, when=None, region=REGION, service="connect", unique=True):
        """SigV4-signs a request with botocore; returns (body bytes, [(header, value)]).
        `unique`: sign a random amz-sdk-invocation-id too (as callrec's clients do),
        so that two requests alike in the same second are two signatures."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        # Host is set here (not left to the HTTP library) so that it is among the
        # headers returned, exactly as signed.
        base = {"Host": "127.0.0.1:%d" % self.port, "Content-Type": "application/json"}
        if unique:
            base["amz-sdk-invocation-id"] = str(uuid.uuid4())
        base.update(headers or {})
        request = botocore.awsrequest.AWSRequest(method=method, url=self.url + path, data=body,
                                                 headers=base)
        signer = botocore.auth.SigV4Auth(
            botocore.credentials.Credentials(access_key, secret_key), service, region)
        if when is None:
            signer.add_auth(request)
        else:
            with mock.patch("botocore.auth.get_current_datetime", return_value=when):
                signer.add_auth(request)
        return body, [(k, v) for k, v in request.headers.items()]

    def signed_request(self, path, body=b"", method="POST", send_body=None,
                       override_headers=None, drop_headers=(), **sign_kwargs):
        """A SigV4-signed request sent with http.client, byte for byte.

        body          what is signed (str, bytes, or an object to serialise as JSON)
        sign_kwargs   access_key, secret_key, headers (signed), when (naive UTC
                      datetime of signing), region, service
        send_body     what is sent instead of `body` (to alter it after signing)
        override_headers / drop_headers   changes made after signing
        """
        body, final = self.sign(path, body, method=method, **sign_kwargs)
        dropped = {d.lower() for d in drop_headers}
        final = [(k, v) for k, v in final if k.lower() not in dropped]
        for name, value in (override_headers or {}).items():
            final = [(k, v) for k, v in final if k.lower() != name.lower()]
            if value is not None:
                final.append((name, value))
        data = body if send_body is None else send_body
        return http_call(self.port, method, path, data, final)

    def signed_raw(self, path, body=b"", method="POST", override_headers=None,
                   content_length=None, shutdown_write=False, **sign_kwargs):
        """Like signed_request, but written on a raw socket by a careful client that
        reads the answer even when the server stops reading (see send_raw).
        Returns (HttpResult or None, raw bytes received)."""
        body, headers = self.sign(path, body, method=method, **sign_kwargs)
        for name, value in (override_headers or {}).items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
            headers.append((name, value))
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        head = "%s %s HTTP/1.1\r\n" % (method, path)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers)
        head += "Content-Length: %d\r\n\r\n" % (len(body) if content_length is None
                                                  else content_length)
        received, _ = send_raw(self.port, head.encode("latin-1") + body,
                               shutdown_write=shutdown_write)
        return parse_response(received), received

    def connect_call(self, operation, contact_id, initial_contact_id=None, instance_id="local",
                     track="ALL", **kwargs):
        """One Connect operation (START/PAUSE/RESUME/STOP) as a raw signed request."""
        path = CONNECT_PATHS[operation]
        body = {"InstanceId": instance_id, "ContactId": contact_id,
                "InitialContactId": initial_contact_id or contact_id}
        if operation == "START":
            body["VoiceRecordingConfiguration"] = {"VoiceRecordingTrack": track}
        return self.signed_request(path, body, **kwargs)


CONNECT_PATHS = {
    "START": "/contact/start-recording",
    "STOP": "/contact/stop-recording",
    "PAUSE": "/contact/suspend-recording",
    "RESUME": "/contact/resume-recording",
}

BOTO3_METHODS = {
    "START": "start_contact_recording",
    "PAUSE": "suspend_contact_recording",
    "RESUME": "resume_contact_recording",
    "STOP": "stop_contact_recording",
}


def boto3_recording_op(client, operation, contact_id, initial_contact_id=None,
                       instance_id="local", track="ALL"):
    """One Connect operation (START/PAUSE/RESUME/STOP) through a boto3 client."""
    params = {"InstanceId": instance_id, "ContactId": contact_id,
              "InitialContactId": initial_contact_id or contact_id}
    if operation == "START":
        params["VoiceRecordingConfiguration"] = {"VoiceRecordingTrack": track}
    return getattr(client, BOTO3_METHODS[operation])(**params)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(labels)): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        name, labels = series, frozenset()
        if "{" in series:
            name, rest = series.split("{", 1)
            pairs = []
            for part in rest.rstrip("}").split(","):
                if part:
                    k, v = part.split("=", 1)
                    pairs.append((k, v.strip('"')))
            labels = frozenset(pairs)
        out[(name, labels)] = float(value)
    return out


def metric(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


class ServerTestCase(unittest.TestCase):
    """Starts servers for a test and always stops them; prints their output
    when the test fails or errs."""

    server_kwargs = {}
    start_server = True

    def setUp(self):
        super().setUp()
        self._servers = []
        if self.start_server:
            self.server = self.new_server(**self.server_kwargs)

    def new_server(self, start=True, **kwargs):
        server = ServerProcess(**kwargs)
        self._servers.append(server)
        self.addCleanup(server.close)
        if start:
            server.start()
        return server

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            failed = len(result.failures) + len(result.errors) > before
            for server in getattr(self, "_servers", []):
                if failed:
                    sys.stderr.write("\n==== %s: server output (%s) ====\n%s\n"
                                     % (self.id(), server.tmp, server.logs()))
                server.cleanup_files()

    # ---- waiting ----------------------------------------------------------------------

    def wait_state(self, contact_id, state, timeout=5):
        """Polls GET /v1/contacts/{id} until the contact is in `state`."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.server.state(contact_id)
            if current == state:
                return
            if time.monotonic() > deadline:
                self.fail("contact %s is %s, expected %s" % (contact_id, current, state))
            time.sleep(0.02)

    def final_metadata(self, contact_id, timeout=10):
        """The recording's metadata JSON once it says Complete (else what it says at the
        timeout, {} if nothing could be read)."""
        path = self.server.get_contact(contact_id)["Recording"]["Path"][:-4] + ".json"
        deadline = time.monotonic() + timeout
        meta = {}
        while not meta.get("Complete") and time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                with open(path) as f:
                    meta = json.load(f)
            except (OSError, ValueError):
                pass
        return meta

    # ---- assertions -------------------------------------------------------------------

    def assertAwsError(self, reply, status, error_type, message_contains=None):
        """An AWS rest-json error: status, x-amzn-ErrorType (one name or a tuple of
        acceptable names), and a {"message": "..."} body."""
        self.assertEqual(reply.status, status, repr(reply))
        self.assertIsNotNone(reply.error_type, "no x-amzn-ErrorType header: %r" % reply)
        # AWS may append ':<uri>' to the type; the name is what precedes it.
        allowed = (error_type,) if isinstance(error_type, str) else tuple(error_type)
        self.assertIn(reply.error_type.split(":")[0], allowed, repr(reply))
        try:
            body = reply.json()
        except ValueError:
            self.fail("error body is not JSON: %r" % reply)
        self.assertIsInstance(body, dict, repr(reply))
        self.assertIn("message", body, repr(reply))
        self.assertIsInstance(body["message"], str, repr(reply))
        self.assertTrue(body["message"].strip(), "empty message: %r" % reply)
        if message_contains is not None:
            for needle in ([message_contains] if isinstance(message_contains, str)
                           else message_contains):
                self.assertIn(needle.lower(), body["message"].lower(), repr(reply))
        return body

    def trail(self, contact_id, server=None):
        """[(Operation, Principal, Result)] of the contact's audit trail."""
        contact = (server or self.server).get_contact(contact_id)
        return [(e["Operation"], e["Principal"], e["Result"]) for e in contact["AuditTrail"]]


class SipServerCase(ServerTestCase):
    """A server that takes SIP: skips when the server binary is missing, passes
    `--rtp-ports` (`rtp_ports`, a (low, high) pair) and `extra`, and closes every SIP
    client a test opened through `track`."""

    rtp_ports = None
    extra = ()
    server_name = "sip"

    def server_args(self):
        return ["--rtp-ports", "%d-%d" % self.rtp_ports] + list(self.extra)

    def server_options(self):
        """More keyword arguments for ServerProcess."""
        return {}

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        self.server_kwargs = dict(extra_args=self.server_args(), name=self.server_name,
                                  **self.server_options())
        self.clients = []
        super().setUp()

    def tearDown(self):
        for client in self.clients:
            client.close()
        super().tearDown()

    def track(self, client):
        """Closes `client` (anything with close()) when the test ends."""
        self.clients.append(client)
        return client
