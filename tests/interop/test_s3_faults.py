"""Recordings in S3 when S3 fails, against a real Ceph RGW (ceph_rgw.py): an
outage, kill -9 during a multipart upload, refused credentials, a server
stopped while uploads are due (drain), an S3 that accepts connections and
never answers, and SlowDown throttling (through a proxy). Nothing acknowledged
is lost; the server never hangs. Shared set-up: s3_case.py.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid


import sipclient
from harness import ServerTestCase, metric
from s3_case import AGENT_WAV, CALLGEN_BIN, CUSTOMER_WAV, RTP_BASE, S3Case


class OutageTest(S3Case):
    """RGW goes away while recordings finish; they wait, and go up once it is back."""

    rtp_ports = (RTP_BASE + 3040, RTP_BASE + 3059)

    def test_rgw_stopped_during_uploads_then_restarted(self):
        self.cluster.stop_rgw()
        try:
            contacts = ["out-%d-%s" % (i, uuid.uuid4().hex[:6]) for i in range(2)]
            procs = [self.call(c, duration=2, wait=False) for c in contacts]
            for proc in procs:
                proc.communicate(timeout=60)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                m = self.metrics()
                if (metric(m, "callrec_uploads_pending") == 2 and
                        metric(m, "callrec_upload_failures_total", reason="network") >= 2):
                    break
                time.sleep(0.2)
            self.assertEqual(metric(m, "callrec_uploads_pending"), 2, m)
            self.assertGreater(metric(m, "callrec_upload_oldest_pending_seconds"), 0)
            for contact in contacts:
                self.assertTrue(os.path.exists(self.local_paths(contact)[0]))
            # Network errors are retried, not a person's problem: still healthy.
            self.assertEqual(self.health()["Status"], "ok")
        finally:
            self.cluster.start_rgw()
        for contact in contacts:
            self.wait_uploaded(contact)
        # The metadata object is there before the upload's row says so (its
        # commit follows the PUT): the queue empties once that commit is durable.
        deadline = time.monotonic() + 5
        while (metric(self.metrics(), "callrec_uploads_pending") != 0 and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(metric(self.metrics(), "callrec_uploads_pending"), 0)


class KillDuringMultipartTest(S3Case):
    """kill -9 while a multipart upload is half done: the restarted server resumes it."""

    rtp_ports = (RTP_BASE + 3060, RTP_BASE + 3079)
    extra = ("--s3-multipart-threshold", "4096", "--s3-part-size", "4096",
             "--local-retention", "forever")

    def test_kill9_mid_multipart_then_resumed(self):
        contact = "k9-" + uuid.uuid4().hex[:8]
        self.cluster.stop_rgw()  # the recording waits, so the kill can be timed
        try:
            self.call(contact, duration=5)
            deadline = time.monotonic() + 10
            while metric(self.metrics(), "callrec_uploads_pending") != 1:
                self.assertLess(time.monotonic(), deadline, "never pending")
                time.sleep(0.1)
        finally:
            self.cluster.start_rgw()
        # ~40 parts of 4 KiB: kill as soon as S3 holds some of them.
        killed_with = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and killed_with is None:
            for upload in self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []):
                parts = self.s3.list_parts(Bucket=self.bucket, Key=upload["Key"],
                                           UploadId=upload["UploadId"]).get("Parts", [])
                if parts:
                    self.server.kill9()
                    killed_with = len(parts)
                    break
            if any(k.endswith(".json") for k in self.keys()):
                break
            time.sleep(0.005)
        self.assertIsNotNone(killed_with, "the upload finished before it could be killed: %s"
                             % self.keys())
        # Usually the upload is still open here; on a fast run its Complete went
        # out between our look and the kill (the row not yet marked): then the
        # restarted server finds the whole object with a HEAD and sends nothing again.
        open_at_kill = self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        self.assertLessEqual(len(open_at_kill), 1, open_at_kill)
        self.server.start()
        key = self.wait_uploaded(contact)
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        with open(self.local_paths(contact)[0], "rb") as f:
            local = f.read()
        self.assertEqual(head["ContentLength"], len(local))
        self.assertEqual(head["Metadata"]["sha256"], hashlib.sha256(local).hexdigest())
        self.assertTrue(head["ETag"].strip('"').endswith("-%d" % -(-len(local) // 4096)))
        # The same upload went on (nothing left open, none started again).
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []),
                         [])
        self.assertNotIn("upload.multipart_gone", self.server.stderr_text() +
                         self.server.stdout_text())


class RefusedTest(S3Case):
    """A person must act: wrong secret, missing bucket. Named, degraded, no storm, nothing lost."""

    rtp_ports = (RTP_BASE + 3080, RTP_BASE + 3099)

    def check_refused(self, code, reason, secret):
        contact = "rf-" + uuid.uuid4().hex[:8]
        self.call(contact, duration=1)
        deadline = time.monotonic() + 10
        while True:
            health = self.health()
            if health["Status"] == "degraded":
                break
            self.assertLess(time.monotonic(), deadline, health)
            time.sleep(0.1)
        self.assertIn(code, health["Uploads"]["Reason"])
        self.assertEqual(self.server.v1("GET", "/healthz").status, 503)
        time.sleep(2)  # no retry storm: one attempt, then held (half of --s3-retry-max-backoff)
        m = self.metrics()
        self.assertLessEqual(metric(m, "callrec_upload_failures_total", reason=reason), 2, m)
        self.assertEqual(metric(m, "callrec_uploads_pending"), 1)
        wav, meta = self.local_paths(contact)
        self.assertTrue(os.path.exists(wav) and os.path.exists(meta), "nothing deleted locally")
        self.assertNotIn(secret, self.server.stdout_text() + self.server.stderr_text())
        return contact

    def test_wrong_secret(self):
        self.server.stop()
        self.server.extra_args = self.server_args(secret="not-the-secret")
        self.server.start()
        contact = self.check_refused("SignatureDoesNotMatch", "denied", "not-the-secret")
        # The operator fixes the key and restarts: the waiting recording goes up.
        self.server.stop()
        self.server.extra_args = self.server_args()
        self.server.start()
        self.wait_uploaded(contact)
        self.assertEqual(self.health()["Status"], "ok")

    def test_missing_bucket(self):
        self.server.stop()
        self.server.extra_args = self.server_args(bucket="no-such-bucket-" + uuid.uuid4().hex[:6])
        self.server.start()
        self.check_refused("NoSuchBucket", "not_found", self.cluster.secret_key)


class DrainWaitsForUploadsTest(S3Case):
    """SIGTERM with a recording still waiting for S3: the server drains (OPTIONS
    and /healthz 503) until the upload is done, then exits 0 by itself."""

    rtp_ports = (RTP_BASE + 2240, RTP_BASE + 2259)
    extra = ("--drain-timeout", "30")

    def test_sigterm_waits_for_the_pending_upload(self):
        contact = "drain-up-" + uuid.uuid4().hex[:6]
        self.cluster.stop_rgw()
        try:
            self.call(contact, duration=2)
            deadline = time.monotonic() + 15
            while metric(self.metrics(), "callrec_uploads_pending") != 1:
                self.assertLess(time.monotonic(), deadline, self.metrics())
                time.sleep(0.1)
            self.server.proc.send_signal(signal.SIGTERM)
            time.sleep(1.5)
            self.assertIsNone(self.server.proc.poll(), "stopped with an upload pending")
            health = self.server.v1("GET", "/healthz")
            self.assertEqual((health.status, health.json()["Status"]), (503, "draining"))
            options = sipclient.SipClient(self.server.sip_port)
            try:
                self.assertEqual(options.request("OPTIONS", timeout=3).status, 503)
            finally:
                options.close()
        finally:
            self.cluster.start_rgw()
        back = time.monotonic()
        self.assertEqual(self.server.proc.wait(30), 0)
        sys.stderr.write("\ntest_s3: the draining server exited %.1f s after RGW came back "
                         "(--s3-retry-max-backoff 2s)\n" % (time.monotonic() - back))
        self.wait_uploaded(contact, timeout=5)


class SilentS3:
    """A TCP listener that takes connections and requests and never answers: an
    S3 that hangs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            try:
                conn.settimeout(5)
                if conn.recv(4096):
                    self.requests += 1
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


class StopWithSilentS3Test(ServerTestCase):
    """S3 accepts and never answers while a recording uploads: SIGTERM still stops
    the server within the uploader's 2 s grace (not the 60 s request timeout,
    which blocking reads never enforced), and the upload stays queued."""

    start_server = False

    def test_stop_is_bounded_while_s3_hangs(self):
        silent = SilentS3()
        self.addCleanup(silent.close)
        server = self.new_server(start=False, name="silent", extra_args=[
            "--rtp-ports", "%d-%d" % (RTP_BASE + 1960, RTP_BASE + 1979), "--auto-record", "ALL",
            "--agent-match", "^sip:agent", "--recordings-store", "s3://silent/p",
            "--s3-endpoint", "http://127.0.0.1:%d" % silent.port, "--s3-path-style",
            "--s3-access-key", "AKIDSILENT:secret"])
        server.start()
        contact = "hung-" + uuid.uuid4().hex[:8]
        proc = subprocess.run(
            [CALLGEN_BIN, "--target", "127.0.0.1:%d" % server.sip_port, "--customer-wav",
             CUSTOMER_WAV, "--agent-wav", AGENT_WAV, "--contact-id", contact, "--duration", "1",
             "--agent-aor", "sip:agent7@cc.example"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        deadline = time.monotonic() + 10
        while silent.requests == 0:
            self.assertLess(time.monotonic(), deadline, "the upload never reached S3")
            time.sleep(0.05)
        started = time.monotonic()
        self.assertEqual(server.stop(timeout=20), 0)
        took = time.monotonic() - started
        self.assertLess(took, 8, "stopping took %.1f s" % took)
        self.assertIn("upload.stop_abandoned", server.stdout_text() + server.stderr_text())
        state = server.store_sql("SELECT state FROM uploads WHERE contact_id = '%s'" % contact)
        self.assertEqual(state, "pending")


SLOWDOWN_BODY = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                 '<Message>Please reduce your request rate.</Message></Error>')


class SlowDownProxy:
    """Debian's HAProxy (2.6) in front of the shared RGW, answering every request
    503 SlowDown (S3's XML error) until `until` (epoch seconds), then passing
    them through: RGW 16.2 has no rate limiter of its own."""

    def __init__(self, rgw_endpoint, until):
        self.dir = tempfile.mkdtemp(prefix="callrec-haproxy-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        rgw = rgw_endpoint.split("//", 1)[1]
        self.config = os.path.join(self.dir, "haproxy.cfg")
        with open(self.config, "w") as f:
            f.write("\n".join([
                "global", "  maxconn 256",
                "defaults", "  mode http", "  timeout connect 5s", "  timeout client 60s",
                "  timeout server 60s",
                "frontend s3", "  bind 127.0.0.1:%d" % self.port,
                "  http-request return status 503 content-type application/xml "
                "string '%s' if { date lt %d }" % (SLOWDOWN_BODY, until),
                "  default_backend rgw",
                "backend rgw", "  server rgw %s" % rgw, ""]))
        self.log = open(os.path.join(self.dir, "haproxy.log"), "w")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("haproxy did not start: %s" % self.logs())
                time.sleep(0.05)
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def logs(self):
        with open(os.path.join(self.dir, "haproxy.log")) as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class SlowDownTest(S3Case):
    """S3 answers 503 SlowDown for a while: every upload backs off (exponential, with
    jitter, all of them held), and all land once it lets them through."""

    rtp_ports = (RTP_BASE + 1980, RTP_BASE + 1999)  # --s3-retry-max-backoff 2s (S3Case)

    def setUp(self):
        self.proxy = None
        super().setUp()

    def server_args(self, secret=None, bucket=None):
        args = super().server_args(secret, bucket)
        if self.proxy is not None:
            args[args.index("--s3-endpoint") + 1] = self.proxy.endpoint
        return args

    def test_slowdown_backs_off_and_everything_lands(self):
        contacts = ["sd-%d-%s" % (i, uuid.uuid4().hex[:6]) for i in range(2)]
        # 8 s: the restart and the calls take ~3 s; then at least three attempts fail.
        self.proxy = SlowDownProxy(self.cluster.endpoint, until=int(time.time()) + 8)
        self.addCleanup(self.proxy.stop)
        self.server.stop()
        self.server.extra_args = self.server_args()
        self.server.start()
        procs = [self.call(c, duration=1, wait=False) for c in contacts]
        for proc in procs:
            proc.communicate(timeout=60)
        for contact in contacts:
            self.wait_uploaded(contact, timeout=40)
        m = self.metrics()
        self.assertEqual(metric(m, "callrec_uploads_pending"), 0)
        self.assertEqual(metric(m, "callrec_uploads_total"), 2)
        throttled = metric(m, "callrec_upload_failures_total", reason="throttled")
        self.assertGreaterEqual(throttled, 3, m)
        # The back-off, from the server's log: each retry waits longer than the
        # one before (1 s doubling, drawn between half and all of it, at most 2 s),
        # and no attempt came before its time.
        failures = []
        for line in (self.server.stdout_text() + self.server.stderr_text()).splitlines():
            if '"upload.failed"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("reason") == "throttled":
                failures.append(entry)
        self.assertGreaterEqual(len(failures), 3, failures)
        by_contact = {}
        for f in failures:
            by_contact.setdefault(f["contact"], []).append(f)
        grew = False
        for contact, seen in by_contact.items():
            attempts = [f["attempts"] for f in seen]
            self.assertEqual(attempts, list(range(1, len(seen) + 1)), seen)
            for f in seen:
                nominal = min(1000 * 2 ** (f["attempts"] - 1), 2000)
                self.assertGreaterEqual(f["retry_in_ms"], nominal // 2 - 1, f)
                self.assertLessEqual(f["retry_in_ms"], nominal, f)
            if len(seen) >= 3:
                grew = True
                self.assertLess(seen[0]["retry_in_ms"], seen[2]["retry_in_ms"], seen)
            times = [time.mktime(time.strptime(f["ts"][:19], "%Y-%m-%dT%H:%M:%S")) +
                     float(f["ts"][19:-1] or 0) for f in seen]
            for before, after, f in zip(times, times[1:], seen):
                self.assertGreaterEqual(after - before, f["retry_in_ms"] / 1000.0 - 0.05, seen)
        self.assertTrue(grew, by_contact)


if __name__ == "__main__":
    unittest.main()
