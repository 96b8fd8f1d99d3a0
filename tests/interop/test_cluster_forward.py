"""Two callrec-server nodes on one real PostgreSQL 15 (tests/interop/postgres.py's
shared cluster, a database of their own): any node answers, a lost node is
noticed.

A SIPREC call from callrec-callgen is recorded on node B; the AWS CLI and boto3
drive it through node A, which forwards each operation to B (signed HTTP,
--cluster-secret-file) and answers with B's answer. The pause is checked in B's
WAV by tone analysis: the tones the caller played while it was paused are not
in the file, the silence is where the metadata says. Forwarded requests with a
forged, missing or stale signature are refused and change nothing; /v1's end
asked of A for B's live contact is applied by B; an owner
that does not answer (SIGSTOP) gives a 503 within the timeout, audited. Then B
is killed (-9): within 10 s node A's Connect API shows B's live contact ENDED
with "node lost: node-b", and when B comes back it leaves it ENDED and its
repaired recording's metadata carries that line.

The tests share the two nodes and run in the order of their names.
"""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import audio
import postgres
from harness import (BUILD_DIR, SERVER_BIN, NodeLogsOnFailure, ServerProcess, boto3_recording_op,
                     complete_metadata, http_call, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIO = os.path.normpath(os.path.join(HERE, "..", "fixtures", "audio"))
CUSTOMER_WAV = os.path.join(AUDIO, "customer_ulaw.wav")  # 600 Hz 0.5-1.5, 1400 Hz 3.0-4.0
AGENT_WAV = os.path.join(AUDIO, "agent_ulaw.wav")  # 1000 Hz 1.0-2.0, 1800 Hz 3.5-4.5
CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
SECRET = "forwarding secret shared by the test nodes"
LEASE = 5  # s: --node-lease (the default)
FORWARD_TIMEOUT = 3.0  # s: HttpRemoteOwner's


class ClusterForwardTest(NodeLogsOnFailure, unittest.TestCase):
    nodes = {}

    @classmethod
    def setUpClass(cls):
        for binary in (SERVER_BIN, CALLGEN_BIN):
            if not os.path.exists(binary):
                raise unittest.SkipTest("no %s" % binary)
        cls.started = time.monotonic()
        cls.pg = postgres.shared()
        cls.dbname = cls.pg.create_database()
        cls.secret_dir = tempfile.mkdtemp(prefix="callrec-fwd-")
        cls.secret_file = os.path.join(cls.secret_dir, "cluster-secret")
        with open(cls.secret_file, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(cls.secret_file, 0o600)
        cls.nodes = {}
        try:
            for i, name in enumerate("AB"):
                low = RTP_BASE + 3040 + 40 * i
                node = ServerProcess(name="fwd-%s" % name.lower(), log_level="info", extra_args=[
                    "--store", cls.pg.uri(cls.dbname), "--node-id", "node-%s" % name.lower(),
                    "--cluster-secret-file", cls.secret_file, "--node-lease", str(LEASE),
                    "--rtp-ports", "%d-%d" % (low, low + 39), "--agent-match", "^sip:agent"])
                cls.nodes[name] = node
                node.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes.values():
            node.close()
            node.cleanup_files()
        sys.stderr.write("\ntest_cluster_forward: %.1f s in all\n"
                         % (time.monotonic() - cls.started))


    # ---- helpers ----------------------------------------------------------------------

    @property
    def a(self):
        return self.nodes["A"]

    @property
    def b(self):
        return self.nodes["B"]

    def sql(self, query):
        return self.pg.psql(query, self.dbname)

    def callgen(self, node, contact_id, duration):
        argv = [CALLGEN_BIN, "--target", "127.0.0.1:%d" % node.sip_port,
                "--customer-wav", CUSTOMER_WAV, "--agent-wav", AGENT_WAV,
                "--agent-aor", "sip:agent7@cc.example", "--json",
                "--contact-id", contact_id, "--duration", str(duration)]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, proc, expect_ok=True):
        out, err = proc.communicate(timeout=60)
        if expect_ok:
            self.assertEqual(proc.returncode, 0, "callgen failed:\n%s\n%s" % (out, err))

    def trail_lines(self, node, contact_id):
        return [(e["Operation"], e["Principal"], e["Result"], e.get("Detail", ""))
                for e in node.get_contact(contact_id)["AuditTrail"]]

    def signed_apply(self, node, body, secret=SECRET, sender="node-a", at=None, headers=None):
        """POST /internal/v1/apply as another node would send it."""
        at = int(time.time() * 1000) if at is None else at
        path = "/internal/v1/apply"
        message = "POST\n%s\n%s\n%d\n%s" % (path, sender, at, body)
        signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        sent = {"Content-Type": "application/json", "X-Callrec-Node": sender,
                "X-Callrec-Time": str(at), "X-Callrec-Signature": signature}
        if headers is not None:
            sent = {k: v for k, v in sent.items() if k in headers or k == "Content-Type"}
            sent.update({k: v for k, v in headers.items() if v is not None})
        return http_call(node.port, "POST", path, body.encode(), list(sent.items()))

    def metadata_on_disk(self, node, contact_id):
        """The recording's metadata file in the node's data directory."""
        for root, _, files in os.walk(node.data_dir):
            for name in files:
                if name.startswith(contact_id) and name.endswith(".json"):
                    with open(os.path.join(root, name)) as f:
                        return json.load(f)
        self.fail("no metadata of %s under %s" % (contact_id, node.data_dir))

    def live_on_b(self, contact_id):
        """Created and recorded on B, seen from A (through the shared store)."""
        def seen():
            reply = self.a.v1("GET", "/v1/contacts/%s" % contact_id)
            return reply.status == 200 and reply.json()
        return wait_until("%s seen from A" % contact_id, seen, 10)

    # ---- forwarding -------------------------------------------------------------------

    def test_1_aws_cli_and_boto3_on_a_drive_a_call_recorded_on_b_and_the_pause_is_exact(self):
        client = self.a.boto3_client()  # made before the call: it takes a while
        proc = self.callgen(self.b, "fw-1", 12)
        try:
            self.live_on_b("fw-1")
            t0 = time.monotonic()  # about the call's start (its INVITE reached B)
            began = time.monotonic()
            reply = boto3_recording_op(client, "START", "fw-1")
            start_ms = (time.monotonic() - began) * 1000
            self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
            self.assertEqual(self.b.state("fw-1"), "RECORDING")
            self.assertEqual(self.sql("SELECT owner FROM contacts WHERE contact_id='fw-1'"),
                             "node-b")
            # SUSPEND between the first tones (0.5-2.0 s) and the next (3.0 s).
            time.sleep(max(0, t0 + 2.4 - time.monotonic()))
            sent = time.monotonic()
            reply = boto3_recording_op(client, "PAUSE", "fw-1")
            paused = time.monotonic()
            self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
            # The owner answered only once its gate was closed and the PAUSE durable.
            self.assertEqual(self.b.state("fw-1"), "PAUSED")
            self.assertEqual(self.sql("SELECT state FROM contacts WHERE contact_id='fw-1'"),
                             "PAUSED")
            # RESUME after the tones of 3.0-4.5 and 5.5-7.0, before 8.0.
            time.sleep(max(0, t0 + 7.4 - time.monotonic()))
            resume_sent = time.monotonic()
            reply = boto3_recording_op(client, "RESUME", "fw-1")
            resumed = time.monotonic()
            self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
            self.assertEqual(self.b.state("fw-1"), "RECORDING")
            # STOP (AWS CLI) after the tones of 8.0-9.5.
            time.sleep(max(0, t0 + 9.7 - time.monotonic()))
            cli = self.a.aws_cli("connect", "stop-contact-recording", "--instance-id", "local",
                                 "--contact-id", "fw-1", "--initial-contact-id", "fw-1")
            self.assertEqual(cli.returncode, 0, cli.stderr)
            self.assertEqual(self.a.state("fw-1"), "STOPPED")
            # A refusal comes back as the owner gave it: RESUME of a stopped recording.
            reply = self.a.connect_call("RESUME", "fw-1")
            direct = self.b.connect_call("RESUME", "fw-1")
            self.assertEqual(reply.status, direct.status)
            self.assertEqual(reply.json(), direct.json())
            self.assertEqual(reply.error_type, "InvalidRequestException")
        finally:
            self.finish(proc)
        # B's recording: the operations are in its trail, forwarded by node-a.
        trail = self.trail_lines(self.b, "fw-1")
        ok = [(op, detail) for op, _, result, detail in trail if result == "OK"]
        self.assertEqual([op for op, _ in ok][:5],
                         ["CREATE", "START", "PAUSE", "RESUME", "STOP"], trail)
        for op, detail in ok[1:5]:
            self.assertIn("forwarded-by=node-a", detail, (op, detail))
        contact = self.b.get_contact("fw-1")
        path = contact["Recording"]["Path"]
        meta = complete_metadata(path)
        wav = audio.read_wav(path)
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        pause = meta["Pauses"][0]
        start, end = pause["FileOffsetStart"], pause["FileOffsetEnd"]
        # Where the file is in the call: its first customer tone was played at 0.5 s.
        first = audio.tone_spans(wav.left, 600, min_duration=0.04)
        self.assertTrue(first, "no 600 Hz tone in fw-1's WAV")
        shift = first[0][0] - 0.5  # file offset = call time + shift
        # The pause began at A's PAUSE (its answer means the gate was closed)
        # and ended at its RESUME, in file time.
        self.assertLessEqual(start, paused - t0 + shift + 0.15, pause)
        self.assertGreaterEqual(start, sent - t0 + shift - 0.3, pause)
        self.assertLessEqual(end, resumed - t0 + shift + 0.15, pause)
        self.assertGreaterEqual(end, resume_sent - t0 + shift - 0.3, pause)
        # Nothing but silence in the paused span, on either side.
        for channel, side in ((wav.left, "customer"), (wav.right, "agent")):
            self.assertTrue(audio.is_silent(channel, start + 0.005, end - 0.005),
                            "%s side not silent in the pause %.3f-%.3f: %s" % (
                                side, start, end,
                                audio.nonzero_report(channel, start + 0.005, end - 0.005)))
        # Each tone played while paused is absent; those before and after are there.
        spans = {(ch, f): audio.tone_spans(getattr(wav, ch), f, min_duration=0.04)
                 for ch, f in (("left", 600), ("left", 1400), ("right", 1000), ("right", 1800))}

        def played(channel, freq, at, what):
            self.assertTrue(any(abs(s - (at + shift)) < 0.25 for s, _ in spans[(channel, freq)]),
                            "%s: %d Hz expected near %.2f s: %s" % (what, freq, at + shift,
                                                                    spans[(channel, freq)]))

        played("left", 600, 0.5, "before the pause")
        played("right", 1000, 1.0, "before the pause")
        played("left", 1400, 8.0, "after the resume")
        played("right", 1800, 8.5, "after the resume")
        for (channel, freq), found in spans.items():
            inside = [(s, e) for s, e in found if e > start and s < end]
            self.assertEqual(inside, [], "%d Hz heard in the pause %.2f-%.2f" % (freq, start, end))
        # The ones at 5.5 s and 6.0 s were paused (the next, at 10.5 s and 11.0 s,
        # may be in the file if the STOP came late).
        self.assertEqual(len([sp for sp in spans[("left", 600)] if sp[0] < 9.0 + shift]), 1, spans)
        self.assertEqual(len([sp for sp in spans[("right", 1000)] if sp[0] < 9.0 + shift]), 1,
                         spans)
        sys.stderr.write("\ntest_cluster_forward: START through A (forwarded to B) answered in "
                         "%.1f ms; pause %.3f-%.3f s in B's WAV\n" % (start_ms, start, end))

    def test_2_forged_missing_or_stale_signatures_are_refused(self):
        self.b.create_contact("fw-2")
        self.assertEqual(self.b.connect_call("START", "fw-2").status, 200)
        body = json.dumps({"InstanceId": "local", "ContactId": "fw-2", "InitialContactId": "fw-2",
                           "Operation": "STOP", "Track": "ALL", "Principal": "intruder",
                           "Replayed": False, "Reason": ""})
        cases = [
            ("forged (wrong secret)", dict(secret="not the secret at all, guessed"), 403),
            ("stale (2 minutes old)", dict(at=int(time.time() * 1000) - 120000), 403),
            ("from the future", dict(at=int(time.time() * 1000) + 120000), 403),
            ("too late to apply (4 s old)", dict(at=int(time.time() * 1000) - 4000), 408),
            ("no signature", dict(headers={"X-Callrec-Signature": None}), 401),
            ("no headers at all", dict(headers={}), 401),
        ]
        for what, kwargs, status in cases:
            reply = self.signed_apply(self.b, body, **kwargs)
            self.assertEqual(reply.status, status, "%s: %s" % (what, reply.text))
        # A signed request whose body was altered after signing.
        at = int(time.time() * 1000)
        message = "POST\n/internal/v1/apply\nnode-a\n%d\n%s" % (at, body)
        signature = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
        altered = body.replace("STOP", "PAUSE")
        reply = http_call(self.b.port, "POST", "/internal/v1/apply", altered.encode(), [
            ("Content-Type", "application/json"), ("X-Callrec-Node", "node-a"),
            ("X-Callrec-Time", str(at)), ("X-Callrec-Signature", signature)])
        self.assertEqual(reply.status, 403, reply.text)
        # None of them was applied.
        self.assertEqual(self.b.state("fw-2"), "RECORDING")
        self.assertFalse([line for line in self.trail_lines(self.b, "fw-2")
                          if line[1] == "intruder"])
        # The same request properly signed is applied, and says who forwarded it.
        reply = self.signed_apply(self.b, body)
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(reply.json(), {"Error": None})
        self.assertEqual(self.b.state("fw-2"), "STOPPED")
        self.assertIn(("STOP", "intruder", "OK", "STOPPED forwarded-by=node-a"),
                      self.trail_lines(self.b, "fw-2"))
        self.assertNotIn(SECRET, self.a.logs(100000) + self.b.logs(100000))
        # A signed PAUSE captured and sent again after the agent resumed: refused.
        self.b.create_contact("fw-2c")
        self.assertEqual(self.b.connect_call("START", "fw-2c").status, 200)
        pause = body.replace("fw-2", "fw-2c").replace("STOP", "PAUSE")
        at = int(time.time() * 1000)
        self.assertEqual(self.signed_apply(self.b, pause, at=at).status, 200)
        self.assertEqual(self.b.state("fw-2c"), "PAUSED")
        self.assertEqual(self.b.connect_call("RESUME", "fw-2c").status, 200)
        replayed = self.signed_apply(self.b, pause, at=at)
        self.assertEqual(replayed.status, 403, replayed.text)
        self.assertIn("replay", replayed.text)
        self.assertEqual(self.b.state("fw-2c"), "RECORDING")
        # /v1's end, asked of A for B's live contact: refused, B holds its media.
        self.b.create_contact("fw-2b")
        # A's list has B's live contacts too, on one page or several.
        for query in ({}, {"MaxResults": "1"}):
            listed = {c["ContactId"]: c["State"] for c in self.a.list_contacts(**query)}
            self.assertEqual(listed.get("fw-2b"), "NOT_STARTED", (query, listed))
            self.assertEqual(listed.get("fw-2c"), "RECORDING", (query, listed))
            self.assertEqual(listed.get("fw-2"), "STOPPED", (query, listed))
        live = {c["ContactId"] for c in self.a.list_contacts(State="RECORDING")}
        self.assertIn("fw-2c", live)
        self.assertNotIn("fw-2b", live)
        # /v1's end asked of A for B's live contacts: applied by B, which holds
        # the media, and answered with the contact as B stored it.
        for contact_id, was in (("fw-2b", "NOT_STARTED"), ("fw-2c", "RECORDING")):
            reply = self.a.v1("POST", "/v1/contacts/%s/end" % contact_id)
            self.assertEqual(reply.status, 200, reply.text)
            self.assertEqual(reply.json()["State"], "ENDED", reply.text)
            self.assertEqual(self.b.state(contact_id), "ENDED")
            self.assertIn(("END", "admin", "OK", "ENDED recording=%s forwarded-by=node-a" % was),
                          self.trail_lines(self.b, contact_id))
        # B finished fw-2c's recording as for its own END: closed, complete.
        meta = complete_metadata(self.b.get_contact("fw-2c")["Recording"]["Path"])
        self.assertIs(meta["Complete"], True, meta)
        # Ended already: A answers from the store, nothing is forwarded.
        reply = self.a.v1("POST", "/v1/contacts/fw-2c/end")
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(reply.json()["State"], "ENDED")

    def test_3_an_owner_that_does_not_answer_gives_503_within_the_timeout(self):
        self.b.create_contact("fw-3")
        # START with the AWS CLI on A, for B's contact.
        cli = self.a.aws_cli("connect", "start-contact-recording", "--instance-id", "local",
                             "--contact-id", "fw-3", "--initial-contact-id", "fw-3",
                             "--voice-recording-configuration", "VoiceRecordingTrack=ALL")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.b.proc.send_signal(signal.SIGSTOP)
        try:
            began = time.monotonic()
            reply = self.a.connect_call("PAUSE", "fw-3")
            took = time.monotonic() - began
        finally:
            self.b.proc.send_signal(signal.SIGCONT)
        self.assertEqual(reply.status, 503, reply.text)
        time.sleep(0.3)  # B, awake, reads the request that waited in its socket
        self.assertEqual(reply.error_type, "ServiceUnavailableException")
        self.assertIn("Owner node node-b did not answer", reply.json()["message"])
        self.assertLess(took, FORWARD_TIMEOUT + 0.5)
        self.assertGreaterEqual(took, FORWARD_TIMEOUT - 0.1)
        # Audited on A's side; nothing applied.
        lines = [line for line in self.trail_lines(self.a, "fw-3")
                 if line[2] == "OwnerUnavailable"]
        self.assertEqual(len(lines), 1, self.trail_lines(self.a, "fw-3"))
        self.assertEqual(lines[0][0], "PAUSE")
        self.assertIn("Owner node node-b did not answer", lines[0][3])
        # B woke up (well within its lease) and found the request too old to
        # apply (its sender had given up): still its, still recording.
        self.assertEqual(self.b.state("fw-3"), "RECORDING")
        self.assertIn("cluster.forward_too_late", self.b.logs(100000))
        self.assertEqual(self.a.connect_call("PAUSE", "fw-3").status, 200)
        self.assertEqual(self.b.state("fw-3"), "PAUSED")
        sys.stderr.write("\ntest_cluster_forward: SIGSTOPped owner: 503 after %.2f s\n" % took)

    # ---- a lost node ------------------------------------------------------------------

    def test_4_kill9_of_b_ends_its_live_contact_within_10_s(self):
        proc = self.callgen(self.b, "fw-4", 30)
        try:
            self.live_on_b("fw-4")
            client = self.a.boto3_client()
            boto3_recording_op(client, "START", "fw-4")
            self.assertEqual(self.b.state("fw-4"), "RECORDING")
            time.sleep(1.0)
            killed = time.monotonic()
            self.b.kill9()
            # What an agent or a client of A's API sees, polled as a client
            # would: ENDED, with the line saying why (durable: in the trail).
            lost = ("END", "cluster", "OK", "ENDED recording=RECORDING (node lost: node-b)")
            wait_until("fw-4 ENDED on A", lambda: self.a.state("fw-4") == "ENDED" and
                       lost in self.trail_lines(self.a, "fw-4"), 10, 0.1)
            took = time.monotonic() - killed
        finally:
            proc.kill()
            proc.communicate()
        self.assertLess(took, 10)
        self.assertIn(lost, self.trail_lines(self.a, "fw-4"))
        self.assertEqual(self.sql("SELECT state, owner FROM contacts WHERE contact_id='fw-4'"),
                         "ENDED|node-b")
        # fw-3 (B's too, PAUSED) was ended in the same sweep; fw-1 and fw-2 were not live.
        self.assertEqual(self.a.state("fw-3"), "ENDED")
        self.assertEqual(len([line for line in self.trail_lines(self.a, "fw-1")
                              if line[1] == "cluster"]), 0)
        sys.stderr.write("\ntest_cluster_forward: kill -9 of node B: its live contact ENDED "
                         "on A after %.2f s (lease %d s)\n" % (took, LEASE))
        # B comes back: the contacts stay ENDED (one END line each, the survivor's),
        # and the recording it repairs carries the line.
        self.b.start()
        self.assertEqual(self.b.state("fw-4"), "ENDED")
        ends = [line for line in self.trail_lines(self.b, "fw-4") if line[0] == "END"]
        self.assertEqual(len(ends), 1, ends)
        meta = self.metadata_on_disk(self.b, "fw-4")
        self.assertFalse(meta["Complete"])
        self.assertIn("node lost: node-b", json.dumps(meta["AuditTrail"]))


if __name__ == "__main__":
    unittest.main()
