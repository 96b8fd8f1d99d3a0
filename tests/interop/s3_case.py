"""What the S3 tests (test_s3.py, test_s3_faults.py) share: a callrec-server
recording SIPREC calls from callrec-callgen (tones at known offsets:
tests/fixtures/audio/README.md) into a bucket of its own on the one Ceph RGW of
the test run (ceph_rgw.shared(): started once, shared by every test; if it
cannot start, these tests fail with its log), read back with the real AWS CLI
and boto3.
"""

import json
import os
import subprocess
import time
import uuid

import boto3
import botocore.config

import audio
import ceph_rgw
from harness import BUILD_DIR, SERVER_BIN, ServerTestCase, parse_metrics

CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
AUDIO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "fixtures", "audio"))
CUSTOMER_WAV = os.path.join(AUDIO, "customer_ulaw.wav")  # 600 Hz 0.5-1.5, 1400 Hz 3.0-4.0
AGENT_WAV = os.path.join(AUDIO, "agent_ulaw.wav")  # 1000 Hz 1.0-2.0, 1800 Hz 3.5-4.5
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
# Tone edges vs the call's schedule. test_callgen holds the media path to 60 ms;
# here the subject is the object in S3, checked byte for byte against the
# SHA-256 the server computed, so a loaded machine's late start (80 ms, seen
# while two builds ran) does not fail it.
TOL = 0.15
PREFIX = "connect/test-instance"


def s3_client(cluster, secret=None):
    return boto3.client(
        "s3", endpoint_url=cluster.endpoint, region_name="us-east-1",
        aws_access_key_id=cluster.access_key, aws_secret_access_key=secret or cluster.secret_key,
        config=botocore.config.Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2}))


class S3Case(ServerTestCase):
    """A server recording SIPREC calls into a bucket of its own on the shared RGW."""

    rtp_ports = (RTP_BASE + 3000, RTP_BASE + 3039)
    extra = ()
    create_bucket = True
    start_server = False

    def setUp(self):
        for binary in (SERVER_BIN, CALLGEN_BIN):
            if not os.path.exists(binary):
                self.fail("no %s" % binary)
        self.cluster = ceph_rgw.shared()
        self.s3 = s3_client(self.cluster)
        self.bucket = "rec-" + uuid.uuid4().hex[:12]
        if self.create_bucket:
            self.s3.create_bucket(Bucket=self.bucket)
        super().setUp()
        self.server = self.new_server(start=False, name="s3", extra_args=self.server_args())
        self.server.start()

    def server_args(self, secret=None, bucket=None):
        return ["--rtp-ports", "%d-%d" % self.rtp_ports, "--auto-record", "ALL",
                "--agent-match", "^sip:agent",
                "--recordings-store", "s3://%s/%s" % (bucket or self.bucket, PREFIX),
                "--s3-endpoint", self.cluster.endpoint, "--s3-path-style",
                "--s3-access-key", "%s:%s" % (self.cluster.access_key,
                                              secret or self.cluster.secret_key),
                "--s3-retry-max-backoff", "2s"] + list(self.extra)

    def call(self, contact_id, duration=5, wait=True):
        argv = [CALLGEN_BIN, "--target", "127.0.0.1:%d" % self.server.sip_port,
                "--customer-wav", CUSTOMER_WAV, "--agent-wav", AGENT_WAV, "--json",
                "--contact-id", contact_id, "--duration", str(duration),
                "--agent-aor", "sip:agent7@cc.example"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait:
            return proc
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, "callgen failed:\n%s\n%s" % (out, err))
        return json.loads(out)

    def keys(self):
        listed = self.s3.list_objects_v2(Bucket=self.bucket)
        return [o["Key"] for o in listed.get("Contents", [])]

    def wait_uploaded(self, contact_id, timeout=30):
        """The WAV's key once its metadata object (written last) is there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for key in self.keys():
                if key.endswith(".json") and "/%s_" % contact_id in key:
                    return key[:-len(".json")] + ".wav"
            time.sleep(0.1)
        self.fail("%s not uploaded in %d s; bucket has %s\n%s"
                  % (contact_id, timeout, self.keys(), self.health()))

    def metrics(self):
        return parse_metrics(self.server.v1("GET", "/metrics").text)

    def health(self):
        return self.server.v1("GET", "/healthz").json()

    def local_paths(self, contact_id):
        wav = self.server.get_contact(contact_id)["Recording"]["Path"]
        return wav, wav[:-4] + ".json"

    def aws(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.cluster.access_key,
                   AWS_SECRET_ACCESS_KEY=self.cluster.secret_key, AWS_DEFAULT_REGION="us-east-1")
        proc = subprocess.run(["aws", "--endpoint-url", self.cluster.endpoint] + list(args),
                              capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(proc.returncode, 0, "aws %s: %s" % (" ".join(args), proc.stderr))
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def assertTone(self, channel, freq, start, end, what):
        # What is checked here is that S3 holds the recording, tones where the call
        # put them; a packet late on an overloaded machine (a 50 ms hole, seen) is
        # test_media's subject, not this one's: spans that far apart count as one.
        spans = audio.joined_tone_spans(channel, freq, 0.1)
        self.assertTrue(any(abs(s - start) <= TOL and abs(e - end) <= TOL for s, e in spans),
                        "%s: %d Hz expected at %.2f-%.2f s, found %s" % (what, freq, start, end,
                                                                          spans))
