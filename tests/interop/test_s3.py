"""Recordings in S3 (issue 16), against a real Ceph RGW (ceph_rgw.py), read back
with the real AWS CLI and boto3. The cluster is started once for the whole run
and shared by every test here; if it cannot start, these tests fail with its log.
"""

import unittest
import uuid

import boto3
import botocore.config

import ceph_rgw


def s3_client(cluster):
    return boto3.client(
        "s3", endpoint_url=cluster.endpoint, region_name="us-east-1",
        aws_access_key_id=cluster.access_key, aws_secret_access_key=cluster.secret_key,
        config=botocore.config.Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2}))


class RgwFixtureTest(unittest.TestCase):
    def test_rgw_serves_s3_to_boto3(self):
        cluster = ceph_rgw.shared()
        s3 = s3_client(cluster)
        bucket = "fixture-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
        self.assertEqual(s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read(), b"hello")


if __name__ == "__main__":
    unittest.main()
