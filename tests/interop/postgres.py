"""A real PostgreSQL 15 for the interop tests (Debian's `postgresql`; scripts/
install-deps.sh installs it): `initdb` into a temporary directory, `pg_ctl` on
a free loopback port with its unix socket in that directory, trust
authentication for local connections only.

initdb refuses to run as root: as root the cluster runs as the `postgres` user
(the temporary directory is handed to it). `shared()` starts one per test run
(the first test that asks), stops it when the process exits, and gives each
caller a fresh database (`create_database()`); a start that fails raises with
the server's log: the tests fail, they never skip.

    python3 postgres.py      # starts one, prints its URI, stops on Enter
    python3 postgres.py --run CMD ARGS...   # CMD with one (CALLREC_TEST_PG_*)
"""

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

BIN_DIR = "/usr/lib/postgresql/15/bin"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """One PostgreSQL cluster in `root` (a fresh temporary dir if None)."""

    def __init__(self, root=None):
        self.root = root or tempfile.mkdtemp(prefix="callrec-pg-")
        self.data = os.path.join(self.root, "data")
        self.socket_dir = self.root
        self.log_path = os.path.join(self.root, "postgres.log")
        self.port = _free_port()
        self.started_seconds = None
        # initdb and postgres refuse root: run them as `postgres` when we are root.
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.user = "postgres"

    def _cmd(self, *args):
        argv = [os.path.join(BIN_DIR, args[0])] + list(args[1:])
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--"] + argv
        return argv

    def _run(self, *args, timeout=60, check=True):
        proc = subprocess.run(self._cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, cwd=self.root)
        text = proc.stdout.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise RuntimeError("%s failed (%d):\n%s\n%s"
                               % (" ".join(args[:2]), proc.returncode, text, self.logs()))
        return text

    def start(self):
        began = time.monotonic()
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chmod(self.root, 0o700)
        self._run("initdb", "-D", self.data, "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        # fsync stays on: the tests check that an acknowledged write survives.
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "max_connections = 400\n"
                    "shared_buffers = 32MB\n"
                    "logging_collector = off\n" % (self.port, self.socket_dir))
        self.pg_ctl_start()
        self.started_seconds = time.monotonic() - began
        return self

    def pg_ctl_start(self, timeout=30):
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", str(timeout),
                  "start", timeout=timeout + 5)

    def restart(self, mode="fast", timeout=30):
        """pg_ctl restart -m MODE: every connection is closed, the server comes back."""
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", str(timeout),
                  "-m", mode, "restart", timeout=timeout + 5)

    def stop(self, mode="fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def destroy(self):
        try:
            self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def logs(self, limit=6000):
        try:
            with open(self.log_path, "rb") as f:
                return "--- postgres log ---\n" + f.read()[-limit:].decode("utf-8", "replace")
        except OSError:
            return "(no postgres log)"

    # ---- databases ------------------------------------------------------------------

    def uri(self, dbname):
        """What --store takes: the unix socket (host= a directory), this port."""
        return "postgresql:///%s?host=%s&port=%d&user=%s" % (
            dbname, self.socket_dir, self.port, self.user)

    def tcp_uri(self, dbname):
        return "postgresql://%s@127.0.0.1:%d/%s" % (self.user, self.port, dbname)

    def psql(self, sql, dbname="postgres", check=True):
        """Runs SQL with psql (as a client over the socket); its output, unaligned."""
        proc = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir,
             "-p", str(self.port), "-U", self.user, "-d", dbname, "-c", sql],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        text = proc.stdout.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, text))
        return text.strip()

    def create_database(self, prefix="callrec"):
        name = "%s_%s" % (prefix, uuid.uuid4().hex[:12])
        self.psql("CREATE DATABASE %s" % name)
        return name


_shared = None


def shared():
    """The one cluster of this test run, started on first use."""
    global _shared
    if _shared is None:
        cluster = Postgres()
        try:
            cluster.start()
        except BaseException as error:
            logs = cluster.logs()
            cluster.destroy()
            raise RuntimeError("PostgreSQL did not start: %s\n%s" % (error, logs))
        atexit.register(cluster.destroy)
        _shared = cluster
    return _shared


def run_with_cluster(argv):
    """Runs argv with a cluster of its own, described in its environment
    (CALLREC_TEST_PG_HOST, _PORT, _USER): the unit tests' PostgreSQL."""
    cluster = Postgres()
    try:
        cluster.start()
    except BaseException as error:
        print("PostgreSQL did not start: %s\n%s" % (error, cluster.logs()))
        cluster.destroy()
        return 1
    try:
        env = dict(os.environ, CALLREC_TEST_PG_HOST=cluster.socket_dir,
                   CALLREC_TEST_PG_PORT=str(cluster.port), CALLREC_TEST_PG_USER=cluster.user)
        return subprocess.call(argv, env=env)
    finally:
        cluster.destroy()


if __name__ == "__main__" and sys.argv[1:2] == ["--run"]:
    sys.exit(run_with_cluster(sys.argv[2:]))

if __name__ == "__main__":
    c = Postgres().start()
    db = c.create_database()
    print("%s (started in %.1f s)" % (c.uri(db), c.started_seconds))
    try:
        input("Enter stops it: ")
    finally:
        c.destroy()
