"""callrec-server with its state in a real PostgreSQL 15 (`--store
postgresql://...`): the Connect API through boto3 and the AWS CLI, state kept
across restarts, the schema's version checks, and PostgreSQL restarted under
load (operations in flight fail with 5xx, none is acknowledged and lost, the
server connects again by itself). The cluster is tests/interop/postgres.py's,
one per run; each server gets a database of its own."""

import json
import os
import socket
import threading
import time
import unittest

from botocore.exceptions import ClientError, EndpointConnectionError

import postgres
from harness import ServerTestCase, boto3_recording_op, http_call


class PostgresCase(ServerTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.pg = postgres.shared()

    def pg_server(self, dbname=None, node_id="node-a", start=True, extra=()):
        self.dbname = dbname or self.pg.create_database()
        return self.new_server(start=start, name="pg", extra_args=[
            "--store", self.pg.uri(self.dbname), "--node-id", node_id] + list(extra))

    def sql(self, query):
        return self.pg.psql(query, self.dbname)


class PostgresStoreTest(PostgresCase):

    def test_boto3_and_aws_cli_on_postgres(self):
        server = self.pg_server()
        server.create_contact("pg-1")
        client = server.boto3_client()
        for operation in ("START", "PAUSE", "RESUME"):
            reply = boto3_recording_op(client, operation, "pg-1")
            self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
        cli = server.aws_cli("connect", "stop-contact-recording", "--instance-id", "local",
                             "--contact-id", "pg-1", "--initial-contact-id", "pg-1")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(server.state("pg-1"), "STOPPED")
        self.assertEqual(
            [op for op, _, result in self.trail("pg-1", server) if result == "OK"],
            ["CREATE", "START", "PAUSE", "RESUME", "STOP"])
        # In PostgreSQL itself: the contact with its owner, and its audit rows.
        self.assertEqual(self.sql("SELECT state, owner FROM contacts WHERE contact_id='pg-1'"),
                         "STOPPED|node-a")
        self.assertEqual(self.sql(
            "SELECT string_agg(operation, ',' ORDER BY seq) FROM audit "
            "WHERE contact_id='pg-1' AND result='OK'"), "CREATE,START,PAUSE,RESUME,STOP")
        self.assertEqual(self.sql("SELECT version FROM schema_version"), "2")
        # Nothing went to a SQLite file in the data directory.
        self.assertFalse(os.path.exists(os.path.join(server.data_dir, "callrec.db")))
        health = server.v1("GET", "/healthz").json()
        self.assertFalse(health["Store"]["Failing"], health)

    def test_restart_keeps_state(self):
        server = self.pg_server()
        server.create_contact("pg-live")
        server.create_contact("pg-ended", agent_id="agent-7")
        self.assertEqual(server.connect_call("START", "pg-live").status, 200)
        self.assertEqual(server.v1("POST", "/v1/contacts/pg-ended/end").status, 200)
        before = self.trail("pg-live", server)
        server.restart()
        self.assertEqual(server.state("pg-ended"), "ENDED")
        ended = server.list_contacts(AgentId="agent-7")
        self.assertEqual([c["ContactId"] for c in ended], ["pg-ended"])
        # The live contact's media died with the process: it ends at start-up, as
        # with SQLite, and its trail says so after what it had.
        trail = self.trail("pg-live", server)
        self.assertEqual(trail[:len(before)], before)
        self.assertEqual(server.state("pg-live"), "ENDED")

    def test_live_contacts_of_another_node_are_not_taken(self):
        server = self.pg_server(node_id="node-a")
        server.create_contact("pg-mine")
        server.stop()
        # The same database under another node name: node-a's live contact is
        # node-a's to settle, not this one's.
        other = self.pg_server(dbname=self.dbname, node_id="node-b")
        self.assertEqual(other.state("pg-mine"), "NOT_STARTED")
        self.assertEqual(self.sql("SELECT owner FROM contacts WHERE contact_id='pg-mine'"),
                         "node-a")

    def test_newer_schema_is_refused(self):
        server = self.pg_server()
        server.stop()
        self.sql("UPDATE schema_version SET version = 99")
        with self.assertRaises(RuntimeError) as raised:
            server.start(timeout=10)
        self.assertIn("schema version 99, newer than this build of callrec knows (2)",
                      str(raised.exception))
        self.assertEqual(self.sql("SELECT version FROM schema_version"), "99")

    def test_foreign_database_is_refused(self):
        dbname = self.pg.create_database()
        self.pg.psql("CREATE TABLE contacts(id int)", dbname)
        server = self.pg_server(dbname=dbname, start=False)
        with self.assertRaises(RuntimeError) as raised:
            server.start(timeout=10)
        self.assertIn("has a 'contacts' table but no schema_version: not a callrec database",
                      str(raised.exception))

    def test_unreachable_server_stops_start_up(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = self.new_server(start=False, name="pg", extra_args=[
            "--store", "postgresql://callrec:s3cret-pw@127.0.0.1:%d/none" % port])
        with self.assertRaises(RuntimeError) as raised:
            server.start(timeout=10)
        message = str(raised.exception)
        self.assertIn("cannot connect to the state store", message)
        self.assertNotIn("s3cret-pw", message)

    def test_bad_store_flag(self):
        server = self.new_server(start=False, name="pg", extra_args=["--store", "mysql://x"])
        with self.assertRaises(RuntimeError) as raised:
            server.start(timeout=10)
        self.assertIn("expected sqlite or a postgresql:// URI", str(raised.exception))


class SharedAgentsTest(PostgresCase):
    """Two servers on one database: an agent token issued on one signs in on the
    other; replaced on one, it stops working on both."""

    def test_agent_token_works_on_every_server(self):
        a = self.pg_server(node_id="node-a")
        b = self.pg_server(dbname=self.dbname, node_id="node-b")

        def me(server, token):
            return http_call(server.port, "GET", "/v1/me", b"",
                             [("Authorization", "Bearer %s" % token)])

        reply = a.v1("POST", "/v1/agents", {"AgentId": "alice"})
        self.assertEqual(reply.status, 201, reply)
        token = reply.json()["Token"]
        self.assertEqual(me(b, token).json()["AgentId"], "alice")
        self.assertFalse(os.path.exists(os.path.join(a.data_dir, "agents.json")))
        stored = self.sql("SELECT agent_id || '|' || digest FROM agents")
        self.assertTrue(stored.startswith("alice|"), stored)
        self.assertNotIn(token, stored)
        # A contact created on A is seen on B with the agent's token.
        a.create_contact("shared-1", agent_id="alice")
        self.assertEqual(http_call(b.port, "GET", "/v1/contacts/shared-1", b"",
                                   [("Authorization", "Bearer %s" % token)]).status, 200)
        # Replaced on B: refused on B at once, on A within its recheck (2 s).
        again = b.v1("POST", "/v1/agents", {"AgentId": "alice"}).json()["Token"]
        self.assertEqual(me(b, token).status, 401)
        self.assertEqual(me(a, again).json()["AgentId"], "alice")
        deadline = time.monotonic() + 5
        while me(a, token).status != 401:
            self.assertLess(time.monotonic(), deadline, "the replaced token still works on A")
            time.sleep(0.2)


class PostgresRestartUnderLoadTest(PostgresCase):
    """pg_ctl restart -m fast while PAUSE/RESUME stream in from several clients."""

    CONTACTS = 24
    THREADS = 6

    def test_restart_under_load(self):
        server = self.pg_server()
        ids = ["load-%d" % i for i in range(self.CONTACTS)]
        for contact_id in ids:
            server.create_contact(contact_id)
            self.assertEqual(server.connect_call("START", contact_id).status, 200)
        acknowledged = {contact_id: [] for contact_id in ids}
        outcomes = {"ok": 0, "5xx": 0, "other": []}
        lock = threading.Lock()
        stop = threading.Event()

        def worker(mine):
            next_op = {contact_id: "PAUSE" for contact_id in mine}
            while not stop.is_set():
                for contact_id in mine:
                    operation = next_op[contact_id]
                    try:
                        reply = server.connect_call(operation, contact_id)
                    except OSError as error:
                        with lock:
                            outcomes["other"].append("%s: %s" % (operation, error))
                        continue
                    with lock:
                        if reply.status == 200:
                            outcomes["ok"] += 1
                            acknowledged[contact_id].append(operation)
                            next_op[contact_id] = "RESUME" if operation == "PAUSE" else "PAUSE"
                        elif reply.status >= 500:
                            # Not acknowledged; the same operation is asked again.
                            outcomes["5xx"] += 1
                        else:
                            outcomes["other"].append("%s: %r" % (operation, reply))

        threads = [threading.Thread(target=worker, args=(ids[i::self.THREADS],))
                   for i in range(self.THREADS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            with lock:
                before_restart = outcomes["ok"]
            self.pg.restart(mode="fast")
            restarted_at = time.monotonic()
            time.sleep(2.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        self.assertGreater(before_restart, 20, "no load before the restart: %s" % outcomes)
        self.assertGreater(outcomes["5xx"], 0, "the restart failed nothing in flight")
        # The server connects again by itself: healthy, and operations succeed.
        deadline = restarted_at + 15
        while True:
            health = http_call(server.port, "GET", "/healthz")
            if health.status == 200:
                break
            self.assertLess(time.monotonic(), deadline, "not healthy again: %r" % health)
            time.sleep(0.2)
        self.assertEqual(server.connect_call("PAUSE", "fresh-after").status, 404)
        server.create_contact("fresh-after")
        self.assertEqual(server.connect_call("START", "fresh-after").status, 200)
        self.assertEqual(outcomes["other"], [], "answers other than 200 and 5xx")
        self.assertGreater(outcomes["ok"], before_restart, "nothing succeeded after the restart")
        # Every acknowledged operation is in the contact's audit trail, in order.
        for contact_id, ops in acknowledged.items():
            trail = [op for op, _, result in self.trail(contact_id, server)
                     if result == "OK" and op in ("PAUSE", "RESUME")]
            it = iter(trail)
            missing = [op for op in ops if op not in it]
            self.assertEqual(missing, [], "%s: acknowledged %s, trail %s" % (contact_id, ops, trail))
            rows = int(self.sql("SELECT count(*) FROM audit WHERE contact_id='%s' AND result='OK'"
                                " AND operation IN ('PAUSE','RESUME')" % contact_id))
            self.assertGreaterEqual(rows, len(ops))
        store_stats = server.v1("GET", "/healthz").json()["Store"]
        print("\nrestart under load: %d acknowledged, %d answered 5xx; store %s"
              % (outcomes["ok"], outcomes["5xx"], json.dumps(store_stats)))


if __name__ == "__main__":
    unittest.main()
