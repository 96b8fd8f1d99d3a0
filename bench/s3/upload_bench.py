#!/usr/bin/env python3
"""Upload throughput to a real Ceph RGW (tests/interop/ceph_rgw.py, started here):
callrec's S3 client as the recording uploader uses it (build/bench/s3_upload_bench:
parts of 8 MiB one after another, Content-MD5 + x-amz-checksum-sha256 on each, a
HEAD at the end) against the AWS CLI's `aws s3 cp` of the same file, both with its
default of 10 parts in flight and with one (the uploader's way). Prints figures and
ratios; asserts nothing about speed.

    python3 bench/s3/upload_bench.py [--build-dir build] [--mib 64] [--rounds 3]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "interop"))
import ceph_rgw  # noqa: E402


def aws_cp(cluster, path, bucket, concurrent, rounds, env):
    cfg = os.path.join(os.path.dirname(path), "aws-config-%d" % concurrent)
    with open(cfg, "w") as f:
        f.write("[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = %d\n"
                "  multipart_chunksize = 8MB\n  multipart_threshold = 16MB\n"
                "  addressing_style = path\n" % concurrent)
    run_env = dict(env, AWS_CONFIG_FILE=cfg)
    best = 0.0
    size = os.path.getsize(path)
    for _ in range(rounds):
        start = time.monotonic()
        subprocess.run(["aws", "--endpoint-url", cluster.endpoint, "s3", "cp", "--only-show-errors",
                        path, "s3://%s/bench/aws-object" % bucket], check=True, env=run_env)
        best = max(best, size / 1e6 / (time.monotonic() - start))
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=os.path.join(HERE, "..", "..", "build"))
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_bin = os.path.join(args.build_dir, "bench", "s3_upload_bench")
    cluster = ceph_rgw.CephRgw().start()
    try:
        print("Ceph RGW (memstore, one OSD) on %s, started in %.1f s"
              % (cluster.endpoint, cluster.started_seconds))
        env = dict(os.environ, AWS_ACCESS_KEY_ID=cluster.access_key,
                   AWS_SECRET_ACCESS_KEY=cluster.secret_key, AWS_DEFAULT_REGION="us-east-1",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        bucket = "bench-" + uuid.uuid4().hex[:8]
        subprocess.run(["aws", "--endpoint-url", cluster.endpoint, "s3api", "create-bucket",
                        "--bucket", bucket], check=True, env=env, stdout=subprocess.DEVNULL)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "object.bin")
            with open(path, "wb") as f:
                f.write(os.urandom(args.mib << 20))
            out = subprocess.run([bench_bin, "--endpoint", cluster.endpoint, "--bucket", bucket,
                                  "--file", path, "--access-key", cluster.access_key,
                                  "--secret", cluster.secret_key, "--rounds", str(args.rounds)],
                                 check=True, capture_output=True, text=True).stdout
            ours = float(out.strip().splitlines()[-1].split()[1])
            aws1 = aws_cp(cluster, path, bucket, 1, args.rounds, env)
            aws10 = aws_cp(cluster, path, bucket, 10, args.rounds, env)
        print("%d MiB, best of %d:" % (args.mib, args.rounds))
        print("  callrec S3 client (8 MiB parts, one at a time): %7.1f MB/s" % ours)
        print("  aws s3 cp, 1 part in flight:                    %7.1f MB/s  ratio %.2f"
              % (aws1, ours / aws1))
        print("  aws s3 cp, 10 parts in flight (its default):    %7.1f MB/s  ratio %.2f"
              % (aws10, ours / aws10))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
