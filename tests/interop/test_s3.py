"""Recordings in S3, against a real Ceph RGW (ceph_rgw.py), read back with the
real AWS CLI and boto3: uploads (SSE-KMS, checksums, metadata), multipart,
erasure, retention and the start-up scan. The cluster is started once for the
whole run and shared (s3_case.py); each test class has its own bucket. The
store's failures (outages, refusals, a silent or throttling S3, kill -9 during a
multipart upload, draining): test_s3_faults.py.
"""

import hashlib
import json
import os
import re
import tempfile
import time
import unittest
import uuid

import botocore.config
import botocore.exceptions

import audio
import ceph_rgw
from harness import metric
from s3_case import PREFIX, RTP_BASE, S3Case, s3_client


class RgwFixtureTest(unittest.TestCase):
    def test_rgw_serves_s3_to_boto3(self):
        cluster = ceph_rgw.shared()
        s3 = s3_client(cluster)
        bucket = "fixture-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
        self.assertEqual(s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read(), b"hello")


class UploadTest(S3Case):
    rtp_ports = (RTP_BASE + 3000, RTP_BASE + 3019)
    extra = ("--s3-sse", "aws:kms", "--s3-sse-kms-key-id", ceph_rgw.KMS_KEY_ID)

    def test_call_uploaded_in_connect_layout_and_read_back_with_aws_cli_and_boto3(self):
        contact = "s3-" + uuid.uuid4().hex[:8]
        self.call(contact)
        key = self.wait_uploaded(contact)
        # Amazon Connect's layout: PREFIX/CallRecordings/YYYY/MM/DD/<id>_<YYYYMMDD>T<HH:MM>_UTC.wav
        m = re.fullmatch(re.escape(PREFIX) + r"/CallRecordings/(\d{4})/(\d\d)/(\d\d)/" +
                         re.escape(contact) + r"_(\d{8})T(\d\d:\d\d)_UTC\.wav", key)
        self.assertIsNotNone(m, key)
        self.assertEqual(m.group(1) + m.group(2) + m.group(3), m.group(4))

        head = self.aws("s3api", "head-object", "--bucket", self.bucket, "--key", key)
        self.assertEqual(head["ContentType"], "audio/wav")
        self.assertEqual(head.get("ServerSideEncryption"), "aws:kms", head)
        meta = head["Metadata"]
        self.assertEqual((meta["contactid"], meta["initialcontactid"], meta["agentid"],
                          meta["instanceid"], meta["complete"]),
                         (contact, contact, "agent7", "local", "true"))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.wav")
            self.aws("s3api", "get-object", "--bucket", self.bucket, "--key", key, path)
            with open(path, "rb") as f:
                data = f.read()
            self.assertEqual(len(data), head["ContentLength"])
            self.assertEqual(hashlib.sha256(data).hexdigest(), meta["sha256"])
            wav = audio.read_wav(path)
        self.assertAlmostEqual(wav.duration, 5.0, delta=0.15)
        self.assertTone(wav.left, 600, 0.5, 1.5, "customer")
        self.assertTone(wav.left, 1400, 3.0, 4.0, "customer")
        self.assertTone(wav.right, 1000, 1.0, 2.0, "agent")
        self.assertTone(wav.right, 1800, 3.5, 4.5, "agent")

        # The metadata object beside it, read with boto3: the local JSON plus Location.
        obj = self.s3.get_object(Bucket=self.bucket, Key=key[:-4] + ".json")
        self.assertEqual(obj["ContentType"], "application/json")
        doc = json.loads(obj["Body"].read())
        self.assertEqual(doc["ContactId"], contact)
        self.assertTrue(doc["Complete"])
        self.assertEqual(doc["Sha256"], meta["sha256"])
        self.assertEqual(doc["Location"], {"Bucket": self.bucket, "Key": key,
                                           "ETag": head["ETag"].strip('"')})
        start = doc["StartTime"]  # 2026-12-07T07:28:59.123Z
        self.assertEqual(m.group(4) + "T" + m.group(5), start[0:4] + start[5:7] + start[8:10] +
                         "T" + start[11:16])

        # Confirmed, so the local audio is gone (--local-retention 0); the metadata
        # stays and says where the recording lives, and the list shows it.
        wav_path, json_path = self.local_paths(contact)
        self.assertFalse(os.path.exists(wav_path))
        with open(json_path) as f:
            self.assertEqual(json.load(f)["Location"]["Key"], key)
        listed = self.server.v1("GET", "/v1/recordings?ContactId=%s" % contact).json()
        self.assertEqual([r["Location"]["Key"] for r in listed["Recordings"]], [key])
        # The list (from the state store) says where it lives and how its upload went.
        storage = listed["Recordings"][0]["Storage"]
        self.assertEqual((storage["Where"], storage["UploadState"], storage["Bucket"],
                          storage["Key"], storage["LocalAudio"]),
                         ("s3", "uploaded", self.bucket, key, False), storage)
        shown = self.server.callrec_cli("list", "--recordings")
        self.assertEqual(shown.returncode, 0, shown.stdout + shown.stderr)
        self.assertIn("s3 (upload uploaded)  s3://%s/%s" % (self.bucket, key), shown.stdout)
        # Its waveform was kept before the WAV went: the page still draws it.
        reply = self.server.v1("GET", "/v1/recordings/%s/peaks?width=100" % contact)
        self.assertEqual(reply.status, 200, reply)
        peaks = reply.json()
        self.assertEqual(peaks["ContactId"], contact)
        self.assertAlmostEqual(peaks["DurationSeconds"], 5.0, delta=0.15)
        self.assertEqual(len(peaks["Customer"]["Max"]), 100)
        self.assertGreater(max(peaks["Customer"]["Max"]), 1000)  # the tones
        # Read back through the server from S3 (the local copy is gone): metadata,
        # the whole WAV, and a Range, each audited like a local read.
        reply = self.server.v1("GET", "/v1/recordings/%s" % contact)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json()["Location"]["Key"], key)
        reply = self.server.v1("GET", "/v1/recordings/%s/audio" % contact)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(hashlib.sha256(reply.body).hexdigest(), meta["sha256"])
        reply = self.server.v1("GET", "/v1/recordings/%s/audio" % contact,
                               headers=[("Range", "bytes=0-43")])
        self.assertEqual(reply.status, 206, reply)
        self.assertEqual(reply.body, data[:44])
        self.assertEqual(reply.header("Content-Range"), "bytes 0-43/%d" % len(data))
        reply = self.server.v1("GET", "/v1/recordings/%s/audio" % contact,
                               headers=[("Range", "bytes=%d-" % len(data))])
        self.assertEqual(reply.status, 416, reply)
        # callrec verify by ContactId: the recording in S3, through the server.
        verified = self.server.callrec_cli("verify", contact)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertIn("verified: %s" % contact, verified.stdout)
        self.assertNotIn("MISMATCH", verified.stdout)
        trail = [e["Operation"] for e in self.server.get_contact(contact)["AuditTrail"]]
        self.assertIn("READ_METADATA", trail)
        self.assertIn("DOWNLOAD", trail)
        self.assertIn("PLAYBACK", trail)
        # callrec verify s3://BUCKET/KEY: straight from RGW with the S3 credentials,
        # the object's x-amz-meta-sha256 checked against the metadata JSON's.
        url = "s3://%s/%s" % (self.bucket, key)
        s3_args = ("--s3-endpoint", self.cluster.endpoint, "--s3-path-style")
        verified = self.server.callrec_cli("verify", url, *s3_args,
                                           access_key=self.cluster.access_key,
                                           secret_key=self.cluster.secret_key, admin_token="")
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertIn("the S3 object's x-amz-meta-sha256 matches", verified.stdout)
        self.assertIn("verified: %s" % url, verified.stdout)
        refused = self.server.callrec_cli("verify", url, *s3_args, access_key=self.cluster.access_key,
                                          secret_key="wrong", admin_token="")
        self.assertEqual(refused.returncode, 2, refused.stdout + refused.stderr)
        self.assertIn("error: cannot read %s: 403" % url, refused.stderr)
        # An object whose bytes are not the recorded ones is a mismatch, never "verified".
        self.s3.put_object(Bucket=self.bucket, Key="tampered/" + key, Body=data[:-2] + b"\x7f\x7f",
                           Metadata=meta)
        self.s3.put_object(Bucket=self.bucket, Key="tampered/" + key[:-4] + ".json",
                           Body=self.s3.get_object(Bucket=self.bucket,
                                                   Key=key[:-4] + ".json")["Body"].read())
        tampered = self.server.callrec_cli("verify", "s3://%s/tampered/%s" % (self.bucket, key),
                                           *s3_args, access_key=self.cluster.access_key,
                                           secret_key=self.cluster.secret_key, admin_token="")
        self.assertEqual(tampered.returncode, 1, tampered.stdout + tampered.stderr)
        self.assertIn("MISMATCH", tampered.stdout)
        self.assertIn("NOT verified", tampered.stdout)

        m = self.metrics()
        self.assertEqual(metric(m, "callrec_uploads_pending"), 0)
        self.assertEqual(metric(m, "callrec_uploads_total"), 1)
        self.assertGreater(metric(m, "callrec_uploaded_bytes_total"), head["ContentLength"])
        self.assertEqual(self.health()["Uploads"]["Blocked"], False)


class MultipartTest(S3Case):
    """Parts of 64 KiB (RGW here takes parts from 4 KiB; Amazon S3 from 5 MiB)."""

    rtp_ports = (RTP_BASE + 3020, RTP_BASE + 3039)
    extra = ("--s3-multipart-threshold", "65536", "--s3-part-size", "65536",
             "--local-retention", "forever")

    def test_multipart_upload_and_ranged_read(self):
        contact = "mp-" + uuid.uuid4().hex[:8]
        self.call(contact)
        key = self.wait_uploaded(contact)
        head = self.aws("s3api", "head-object", "--bucket", self.bucket, "--key", key)
        size = head["ContentLength"]
        parts = -(-size // 65536)
        self.assertGreaterEqual(parts, 2)
        self.assertTrue(head["ETag"].strip('"').endswith("-%d" % parts), head["ETag"])
        # --local-retention forever: the local copy stays, byte for byte the object.
        wav_path, _ = self.local_paths(contact)
        with open(wav_path, "rb") as f:
            local = f.read()
        self.assertEqual(hashlib.sha256(local).hexdigest(), head["Metadata"]["sha256"])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "head")
            self.aws("s3api", "get-object", "--bucket", self.bucket, "--key", key,
                     "--range", "bytes=0-43", path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), local[:44])
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []),
                         [])


class ErasureTest(S3Case):
    """DELETE /v1/recordings/{id} deletes the S3 objects too: after a legal hold is
    released, durably (RGW down: retried, across a kill -9), audited."""

    rtp_ports = (RTP_BASE + 1900, RTP_BASE + 1919)

    def gone(self, key):
        for k in (key, key[:-4] + ".json"):
            try:
                self.s3.head_object(Bucket=self.bucket, Key=k)
                return False
            except botocore.exceptions.ClientError as error:
                self.assertEqual(error.response["Error"]["Code"], "404", error.response)
        return True

    def wait_trail(self, contact, operation, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            trail = self.server.get_contact(contact)["AuditTrail"]
            found = [e for e in trail if e["Operation"] == operation]
            if found:
                return found
            self.assertLess(time.monotonic(), deadline, "no %s in %s" % (operation, trail))
            time.sleep(0.1)

    def erase(self, contact):
        return self.server.v1("DELETE", "/v1/recordings/%s" % contact, {"Reason": "GDPR art. 17"})

    def test_erasure_deletes_the_s3_objects_after_the_hold_is_released(self):
        contact = "er-" + uuid.uuid4().hex[:8]
        self.call(contact, duration=2)
        key = self.wait_uploaded(contact)
        self.assertFalse(self.gone(key))
        # Held: neither the local metadata nor the objects go.
        reply = self.server.v1("POST", "/v1/recordings/%s/hold" % contact, {"Reason": "case 7"})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(self.erase(contact).status, 409)
        self.assertFalse(self.gone(key))
        self.assertEqual(self.server.v1("DELETE", "/v1/recordings/%s/hold" % contact).status, 200)
        reply = self.erase(contact)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json(), {"ContactId": contact, "Erased": True,
                                        "S3Objects": "deleting"})
        detail = self.wait_trail(contact, "S3_DELETED")[0]["Detail"]
        self.assertIn(key, detail)
        self.assertTrue(self.gone(key))
        # Checked with the AWS CLI too: nothing left under the contact's name.
        listed = self.aws("s3api", "list-objects-v2", "--bucket", self.bucket)
        self.assertEqual([o["Key"] for o in listed.get("Contents", []) if contact in o["Key"]], [])
        self.assertEqual(self.server.v1("GET", "/v1/recordings?ContactId=%s" % contact).json(),
                         {"Recordings": []})
        self.assertEqual(self.server.v1("GET", "/v1/recordings/%s" % contact).status, 404)
        m = self.metrics()
        self.assertEqual(metric(m, "callrec_s3_erasures_total"), 1)
        self.assertEqual(metric(m, "callrec_s3_erasures_pending"), 0)

    def test_erasure_while_rgw_is_down_survives_a_kill9(self):
        contact = "ek-" + uuid.uuid4().hex[:8]
        self.call(contact, duration=2)
        key = self.wait_uploaded(contact)
        self.cluster.stop_rgw()
        try:
            reply = self.erase(contact)
            self.assertEqual(reply.status, 200, reply)
            # Failed, audited, retried.
            failed = self.wait_trail(contact, "S3_DELETE_FAILED")[0]["Detail"]
            self.assertIn("network", failed)
            self.assertEqual(metric(self.metrics(), "callrec_s3_erasures_pending"), 1)
            self.server.kill9()
        finally:
            self.cluster.start_rgw()
        self.assertFalse(self.gone(key))  # nobody deleted them meanwhile
        self.server.start()
        self.wait_trail(contact, "S3_DELETED")
        self.assertTrue(self.gone(key))


class RetentionS3Test(S3Case):
    """--retention expires a recording in S3 too: the objects go, audited."""

    rtp_ports = (RTP_BASE + 1920, RTP_BASE + 1939)
    extra = ("--retention", "0.00006")  # 5.2 s: after the upload (well under 1 s here)

    def test_expired_recording_leaves_s3(self):
        contact = "rt-" + uuid.uuid4().hex[:8]
        self.call(contact, duration=1)
        key = self.wait_uploaded(contact)
        deadline = time.monotonic() + 30
        while True:
            trail = [e["Operation"] for e in self.server.get_contact(contact)["AuditTrail"]]
            if "S3_DELETED" in trail:
                break
            self.assertLess(time.monotonic(), deadline, trail)
            time.sleep(0.2)
        self.assertIn("EXPIRED", trail)
        for k in (key, key[:-4] + ".json"):
            with self.assertRaises(botocore.exceptions.ClientError):
                self.s3.head_object(Bucket=self.bucket, Key=k)
        self.assertEqual(self.server.v1("GET", "/v1/recordings").json(), {"Recordings": []})


class StartupScanTest(S3Case):
    """A finished recording whose queue row was lost (a crash between its final
    metadata and the row) is found at start-up and uploaded."""

    rtp_ports = (RTP_BASE + 1940, RTP_BASE + 1959)
    extra = ("--local-retention", "forever")

    def test_unqueued_recording_found_and_uploaded(self):
        contact = "sc-" + uuid.uuid4().hex[:8]
        self.call(contact, duration=1)
        key = self.wait_uploaded(contact)
        self.server.stop()
        # As if the crash came before the queue row: neither the row nor the objects.
        for k in (key, key[:-4] + ".json"):
            self.s3.delete_object(Bucket=self.bucket, Key=k)
        # Through whichever store the server runs on (SQLite or PostgreSQL).
        self.assertEqual(self.server.store_sql(
            "DELETE FROM uploads WHERE contact_id = '%s' RETURNING contact_id" % contact), contact)
        self.assertEqual(self.keys(), [])
        self.server.start()
        self.assertEqual(self.wait_uploaded(contact), key)
        self.assertIn("upload.found_unqueued", self.server.stderr_text() +
                      self.server.stdout_text())
        # Queued once: a later restart finds its row and queues nothing again.
        self.server.stop()
        self.server.start()
        time.sleep(1)
        self.assertEqual(self.server.stdout_text().count("upload.found_unqueued") +
                         self.server.stderr_text().count("upload.found_unqueued"), 1)


if __name__ == "__main__":
    unittest.main()
