"""A real S3 server for the interop tests: a one-node Ceph cluster (one mon, one
OSD on memstore, pools of size 1, no cephx) with the RADOS Gateway (beast) on
127.0.0.1, from Debian's packages (scripts/install-deps.sh installs them).

Everything lives in one temporary directory, listens on loopback only, and runs
as plain processes (no systemd). `shared()` starts it once per test run (the
first S3 test that asks) and stops it when the process exits; a start that fails
raises with the daemons' logs: the S3 tests fail, they never skip.

    python3 ceph_rgw.py      # starts one, prints endpoint and keys, stops on Enter
"""

import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid

ACCESS_KEY = "CALLRECTESTKEY000001"
SECRET_KEY = "callrec-test-secret-0000000000000000000001"
# SSE-KMS through RGW's "testing" backend: a key id and its 32 bytes (base64).
KMS_KEY_ID = "callrec-test-key"
KMS_KEY_B64 = "Y2FsbHJlYy10ZXN0LWttcy1rZXktMzItYnl0ZXMhISE="  # 32 bytes


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CephRgw:
    """One mon, one OSD, one radosgw in `root` (a fresh temporary dir if None)."""

    def __init__(self, root=None):
        self.root = root or tempfile.mkdtemp(prefix="callrec-ceph-")
        self.mon_port = _free_port()
        self.rgw_port = _free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.rgw_port
        self.access_key = ACCESS_KEY
        self.secret_key = SECRET_KEY
        self.kms_key_id = KMS_KEY_ID
        self.conf = os.path.join(self.root, "ceph.conf")
        self.env = dict(os.environ, CEPH_CONF=self.conf)
        self.started_seconds = None
        self._pids = {}

    # ---- configuration --------------------------------------------------------------

    def _write_conf(self):
        fsid = str(uuid.uuid4())
        self.osd_uuid = str(uuid.uuid4())
        # The OSD binds a few ports from this range: above the kernel's ephemeral
        # ports (32768-60999) and the tests' RTP ranges (31000-35999), per process.
        low = 61000 + (os.getpid() % 40) * 100
        r = self.root
        text = """[global]
fsid = {fsid}
mon host = v1:127.0.0.1:{mon_port}
mon initial members = a
ms bind msgr2 = false
ms bind ipv6 = false
public addr = 127.0.0.1
ms bind port min = {low}
ms bind port max = {high}
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
osd crush chooseleaf type = 0
mon data avail crit = 0
mon data avail warn = 0
run dir = {r}/run
log file = {r}/log/$name.log
admin socket = {r}/run/$name.asok
pid file = {r}/run/$name.pid
keyring = /dev/null
debug ms = 0
[mon.a]
mon data = {r}/mon.a
[osd.0]
osd data = {r}/osd.0
osd uuid = {osd_uuid}
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 256
osd max object namespace len = 64
[client.rgw.test]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw data = {r}/rgw
rgw dns name = localhost
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = {kms_id}={kms_key}
rgw thread pool size = 64
# Multipart tests use small parts (Amazon S3 and RGW's default: 5 MiB at least).
rgw multipart min part size = 4096
""".format(fsid=fsid, mon_port=self.mon_port, low=low, high=low + 99, r=r,
           osd_uuid=self.osd_uuid, rgw_port=self.rgw_port, kms_id=KMS_KEY_ID,
           kms_key=KMS_KEY_B64)
        for sub in ("run", "log", "mon.a", "osd.0", "rgw"):
            os.makedirs(os.path.join(r, sub), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(text)
        self.fsid = fsid

    # ---- commands -------------------------------------------------------------------

    def _run(self, *args, timeout=30, check=True, full=False):
        proc = subprocess.run(list(args), env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise RuntimeError("%s exited %d: %s%s\n%s" % (" ".join(args), proc.returncode,
                                                           proc.stdout, proc.stderr, self.logs()))
        return proc if full else proc.stdout

    def _ceph(self, *args, timeout=10):
        return self._run("ceph", "--connect-timeout", "5", *args, timeout=timeout)

    def _pid_of(self, name):
        try:
            with open(os.path.join(self.root, "run", "%s.pid" % name)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _wait(self, what, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return True
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.2)
        return False

    def logs(self, limit=4000):
        out = []
        for path in sorted(glob.glob(os.path.join(self.root, "log", "*.log"))):
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            out.append("--- %s ---\n%s" % (os.path.basename(path), text[-limit:]))
        return "\n".join(out) or "(no ceph logs)"

    # ---- life cycle -----------------------------------------------------------------

    def start(self):
        for tool in ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph"):
            if shutil.which(tool) is None:
                raise RuntimeError("%s is not installed: run scripts/install-deps.sh "
                                   "(radosgw ceph-mon ceph-osd ceph-common)" % tool)
        began = time.monotonic()
        self._write_conf()
        monmap = os.path.join(self.root, "monmap")
        self._run("monmaptool", "--create", "--add", "a", "v1:127.0.0.1:%d" % self.mon_port,
                  "--fsid", self.fsid, monmap)
        self._run("ceph-mon", "-i", "a", "--mkfs", "--monmap", monmap)
        self._run("ceph-mon", "-i", "a")
        self._pids["mon.a"] = self._pid_of("mon.a")
        if not self._wait("mon", lambda: "HEALTH" in self._ceph("health"), 20):
            raise RuntimeError("ceph-mon did not answer in 20 s\n" + self.logs())
        # The monitor answers `health` a moment before it takes commands
        # ("problem getting command descriptions from mon"): ask again.
        if not self._wait("osd create",
                          lambda: self._ceph("osd", "create", self.osd_uuid, "0") is not None, 20):
            self._ceph("osd", "create", self.osd_uuid, "0")  # raises with the logs
        self._run("ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", self.osd_uuid, timeout=60)
        # The OSD's first command sometimes races its monitor map ("wrong fsid")
        # and it never comes up
        # (it then exits 250 at once, or stays down): start it again until it is up.
        up = False
        for _ in range(10):
            started = self._run("ceph-osd", "-i", "0", check=False, full=True)
            if started.returncode == 0:
                self._pids["osd.0"] = self._pid_of("osd.0")
                if self._wait("osd", lambda: " 1 up" in self._ceph("osd", "stat"), 12):
                    up = True
                    break
                self._kill("osd.0")
            time.sleep(1)
        if not up:
            raise RuntimeError("ceph-osd did not come up\n" + self.logs())
        self.start_rgw()
        self._run("radosgw-admin", "user", "create", "--uid", "callrec", "--display-name",
                  "callrec tests", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY)
        self.started_seconds = time.monotonic() - began
        return self

    def start_rgw(self, timeout=40):
        self._run("radosgw", "-n", "client.rgw.test")
        self._pids["client.rgw.test"] = self._pid_of("client.rgw.test")
        if not self._wait("rgw", self._rgw_answers, timeout):
            raise RuntimeError("radosgw did not answer on %s in %d s\n%s"
                               % (self.endpoint, timeout, self.logs()))

    def _rgw_answers(self):
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=2) as reply:
                return reply.status < 500
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    def stop_rgw(self):
        """The S3 endpoint goes away (an outage); the cluster stays."""
        self._kill("client.rgw.test")

    def _kill(self, name, timeout=10, sig=signal.SIGTERM):
        pid = self._pids.pop(name, None) or self._pid_of(name)
        if not pid:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self):
        # Everything is in memory or in the temporary directory: nothing to save.
        for name in ("client.rgw.test", "osd.0", "mon.a"):
            self._kill(name, sig=signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


_shared = None


def shared():
    """The one cluster of this test run, started on first use."""
    global _shared
    if _shared is None:
        cluster = CephRgw()
        try:
            cluster.start()
        except BaseException:
            logs = cluster.logs()
            cluster.stop()
            raise RuntimeError("Ceph RGW did not start\n" + logs)
        atexit.register(cluster.stop)
        _shared = cluster
    return _shared


if __name__ == "__main__":
    c = CephRgw().start()
    print("endpoint %s access key %s secret %s (started in %.1f s)"
          % (c.endpoint, c.access_key, c.secret_key, c.started_seconds))
    try:
        input("Enter stops it: ")
    finally:
        c.stop()
