"""The real callrec-server's life across faults of the process: the state
database locked or corrupt at start, a restart while calls are up, kill -9
under recording load, and memory per contact. Storage faults: test_faults.py.
"""

import hashlib
import json
import os
import re
import signal
import sqlite3
import threading
import time
import unittest

import audio
import sipclient
from fault_case import RTP_BASE, TONE_AGENT, TONE_CUSTOMER, FaultCase, late_spans, rtp_range
from harness import ON_POSTGRES, SANITIZED, metric, parse_metrics


class StartupTest(FaultCase):
    """A locked or corrupt state database stops the start with a message naming
    the file, and the file is left exactly as it was."""

    def prepared(self, sqlite_only=True):
        if sqlite_only and ON_POSTGRES:
            self.skipTest("the SQLite file's own checks; PostgreSQL's are in test_postgres")
        server = self.new_server(start=False, name="faults-db")
        server.start()
        server.create_contact("kept-1")
        self.assertEqual(server.connect_call("START", "kept-1").status, 200)
        self.assertEqual(server.stop(), 0)
        return server, os.path.join(server.data_dir, "callrec.db")

    def start_fails(self, server, needle):
        with self.assertRaises(RuntimeError) as raised:
            server.start(timeout=20)
        self.assertNotEqual(server.proc.returncode, 0)
        err = server.stderr_text().splitlines()[-1] if server.stderr_text() else ""
        self.assertIn(os.path.join(server.data_dir, "callrec.db"), err, str(raised.exception))
        self.assertIn(needle, err)
        return err

    def digest(self, path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def test_locked_database(self):
        server, db = self.prepared()
        before = self.digest(db)
        holder = sqlite3.connect(db, isolation_level=None, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            err = self.start_fails(server, "locked")
            self.assertIn("nothing was changed", err)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual(self.digest(db), before)
        server.start()
        self.assertEqual(server.state("kept-1"), "ENDED", "ended by the restart, not reset")
        self.assertEqual(server.get_contact("kept-1")["RecordingState"], "RECORDING")

    def test_corrupt_page(self):
        server, db = self.prepared()
        with open(db, "r+b") as f:
            f.seek(4096)  # page 2's B-tree header and cell pointers
            f.write(bytes((0xA5 ^ i) & 0xFF for i in range(64)))
        before = self.digest(db)
        self.start_fails(server, "integrity")
        self.assertEqual(self.digest(db), before, "the corrupt file was changed")
        self.assertFalse(os.path.exists(db + "-wal") and os.path.getsize(db + "-wal") > 0)

    def test_not_a_database(self):
        server, db = self.prepared()
        with open(db, "r+b") as f:
            f.write(b"this is not SQLite")
        before = self.digest(db)
        self.start_fails(server, "not a database")
        self.assertEqual(self.digest(db), before)

    def test_data_dir_lock_held_by_another_process(self):
        server, _ = self.prepared(sqlite_only=False)
        import fcntl
        with open(os.path.join(server.data_dir, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with self.assertRaises(RuntimeError):
                server.start(timeout=10)
            self.assertIn("in use by another callrec-server", server.stderr_text())
        server.start()  # the lock is the process's: gone with it
        self.assertEqual(server.get_contact("kept-1")["RecordingState"], "RECORDING")


def answer_bye(client, timeout=10):
    """Reads the server's BYE on the client's socket and answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = client._read_one(deadline - time.monotonic())
        except OSError:
            return
        first, headers, _ = sipclient.parse_message(data)
        if first[0] != "BYE":
            continue
        keep = [(k, v) for k, v in headers
                if k.lower() in ("via", "from", "to", "call-id", "cseq")]
        lines = ["SIP/2.0 200 OK"] + ["%s: %s" % kv for kv in keep] + ["Content-Length: 0"]
        client._send(("\r\n".join(lines) + "\r\n\r\n").encode())
        return


class RestartWithCallsTest(FaultCase):
    """Media lives in the process: after a restart no contact claims a recording
    that cannot receive a packet."""
    rtp_ports = rtp_range(40, 40)

    def test_kill9_with_calls_up(self):
        self.restart_with_calls(lambda server, client: server.kill9())

    def test_sigterm_with_calls_up(self):
        def stop(server, client):
            # A clean stop BYEs live SIPREC sessions and waits for the answers
            # (sofia-sip's shutdown: up to Timer F, 32 s, for a client that is
            # gone), so the client answers as a live one does.
            answered = threading.Thread(target=answer_bye, args=(client,), daemon=True)
            answered.start()
            self.assertEqual(server.stop(), 0)
            answered.join(5)
        self.restart_with_calls(stop)

    def restart_with_calls(self, stop):
        server = self.new_server(start=False, name="faults-restart", extra_args=[
            "--rtp-ports", "%d-%d" % self.rtp_ports, "--auto-record", "ALL"])
        server.start()
        rec = server.create_contact("rs-rec")
        self.assertEqual(server.connect_call("START", "rs-rec").status, 200)
        server.create_contact("rs-paused")
        self.assertEqual(server.connect_call("START", "rs-paused").status, 200)
        self.assertEqual(server.connect_call("PAUSE", "rs-paused").status, 200)
        server.create_contact("rs-new")
        server.create_contact("rs-wait", agent_joined=False)
        self.assertEqual(server.connect_call("START", "rs-wait").status, 200)
        server.create_contact("rs-stopped")
        self.assertEqual(server.connect_call("START", "rs-stopped").status, 200)
        self.assertEqual(server.connect_call("STOP", "rs-stopped").status, 200)
        # A SIPREC session, recorded (--auto-record).
        client = sipclient.SipClient(server.sip_port)
        self.addCleanup(client.close)
        sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
        meta = sipclient.siprec_metadata("sess-rs", "grp-rs", [
            ("customer", "Customer", "sip:+15550100@example.com", ["1"]),
            ("agent", "Agent", "sip:agent-7@example.com", ["2"])])
        body, content_type = sipclient.multipart(sdp, meta)
        answer = client.invite(body, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: rs-sip"))
        self.assertEqual(answer.status, 200)
        self.wait_for("rs-sip recording", lambda: server.state("rs-sip") == "RECORDING")

        _, legs = self.send_call(rec, 2.0)
        for leg in legs:
            leg.join(30)
        rec_path = server.get_contact("rs-rec")["Recording"]["Path"]
        stop(server, client)
        server.start()

        expect = {"rs-rec": ("ENDED", "RECORDING"), "rs-paused": ("ENDED", "PAUSED"),
                  "rs-sip": ("ENDED", "RECORDING"), "rs-new": ("NOT_STARTED", "NOT_STARTED"),
                  "rs-wait": ("WAITING_FOR_AGENT", "WAITING_FOR_AGENT"),
                  "rs-stopped": ("STOPPED", "STOPPED")}
        for contact_id, (state, recording) in expect.items():
            c = server.get_contact(contact_id)
            self.assertEqual((c["State"], c["RecordingState"]), (state, recording), contact_id)
        for contact_id in ("rs-rec", "rs-paused"):
            last = server.get_contact(contact_id)["AuditTrail"][-1]
            self.assertEqual((last["Operation"], last["Principal"], last["Result"]),
                             ("END", "server", "OK"), contact_id)
            self.assertIn("server restart", last["Detail"])
        self.assertEqual(server.list_contacts(State="RECORDING"), [])
        self.assertEqual(server.list_contacts(State="PAUSED"), [])
        # The cut recording is incomplete. After kill -9 it is repaired at start-up,
        # after the contact ended, so its trail says why; a clean stop closed it
        # itself ("the server stopped during the call").
        meta = self.metadata(rec_path, want=lambda m: m.get("Repaired") is True or
                             m.get("EndTime") is not None)
        self.assertIs(meta["Complete"], False)
        if meta.get("Repaired"):
            self.assertIn("server restart", meta["AuditTrail"][-1]["Detail"])
        else:
            self.assertIn("server stopped", meta["StorageError"])
        wav = audio.read_wav(rec_path)
        self.assertGreater(wav.duration, 0.9, "audio acknowledged before the stop is lost")
        self.assertToneCovers(wav.left, TONE_CUSTOMER, 0.3, 0.9, "customer before the stop")
        # The SIPREC dialog died with the process: the client's BYE is unknown.
        self.assertEqual(client.bye().status, 481)

        # Contacts that had not recorded yet carry on, on new ports.
        new = server.get_contact("rs-new")
        self.assertIn("Rtp", new, new)
        self.assertEqual(server.connect_call("START", "rs-new").status, 200)
        _, legs = self.send_call(new, 1.0)
        for leg in legs:
            leg.join(30)
        time.sleep(0.3)
        self.assertEqual(server.v1("POST", "/v1/contacts/rs-new/end").status, 200)
        meta = self.metadata(server.get_contact("rs-new")["Recording"]["Path"])
        self.assertIs(meta["Complete"], True)
        self.assertGreater(meta["Counters"]["Packets"], 80, meta)
        wait = server.get_contact("rs-wait")
        _, legs = self.send_call(wait, 0.5)
        for leg in legs:
            leg.join(30)
        self.wait_for("rs-wait recording", lambda: server.state("rs-wait") == "RECORDING")


class KillUnderRecordingLoadTest(FaultCase):
    """kill -9 with many calls recording: every recording is repaired and holds
    the audio up to about a second before the kill (headers are synced once a
    second), on both channels, at the right offsets."""
    rtp_ports = rtp_range(80, 100)
    CALLS = 20

    def test_kill9_with_calls_recording(self):
        server = self.new_server(start=False, name="faults-load", extra_args=[
            "--rtp-ports", "%d-%d" % self.rtp_ports])
        server.start()
        calls = []
        for i in range(self.CALLS):
            contact_id = "load-%02d" % i
            contact = server.create_contact(contact_id)
            reply = server.connect_call("START", contact_id)
            self.assertEqual(reply.status, 200)
            acked = time.perf_counter()
            calls.append((contact_id, contact, acked))
        t0 = time.perf_counter() + 0.05
        legs = []
        for _, contact, _ in calls:
            legs += self.send_call(contact, 4.0, t0=t0)[1]
        time.sleep(3.0)
        paths = [server.get_contact(c)["Recording"]["Path"] for c, _, _ in calls]
        killed = time.perf_counter()
        server.kill9()
        for leg in legs:
            leg.join(30)
        server.start()
        for index, ((contact_id, _, acked), path) in enumerate(zip(calls, paths)):
            meta = self.metadata(path, want=lambda m: m.get("Repaired") is True)
            self.assertIs(meta["Complete"], False)
            self.assertEqual(audio.header_problems(path), [], path)
            wav = audio.read_wav(path)
            recorded = killed - acked
            self.assertGreater(wav.duration, recorded - 1.5,
                               "%s: %.2f s kept of %.2f s" % (contact_id, wav.duration, recorded))
            # A leg is placed from its first packet's arrival: from when it was
            # really sent (40 sender threads start late on a loaded machine; CI
            # under the sanitizers saw 165 ms), not from the schedule's t0.
            customer, agent = legs[2 * index], legs[2 * index + 1]
            for leg, channel, tone, who in ((customer, wav.left, TONE_CUSTOMER, "customer"),
                                            (agent, wav.right, TONE_AGENT, "agent")):
                start = leg.log.records[0][4] - acked
                self.assertToneCovers(channel, tone, start + 0.1, wav.duration - 0.1,
                                      "%s %s" % (contact_id, who), sender=leg, origin=acked)


class StalledServerTest(FaultCase):
    """The whole server stopped (SIGSTOP) for 400 ms in mid-call, as a loaded
    machine or a sanitised build can stall it: the datagrams of the stall wait
    in its sockets, and once it runs again every one of them is recorded at its
    place; the recording has no hole. Without reading the sockets first, the
    late tick flushed past them and dropped them as late."""
    rtp_ports = rtp_range(180, 20)
    STALL = 0.4

    def test_stall_keeps_the_waiting_audio(self):
        server = self.new_server(start=False, name="faults-stall", extra_args=[
            "--rtp-ports", "%d-%d" % self.rtp_ports])
        server.start()
        contact = server.create_contact("stall-1")
        self.assertEqual(server.connect_call("START", "stall-1").status, 200)
        acked = time.perf_counter()
        _, legs = self.send_call(contact, 3.0)
        time.sleep(1.2)
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(self.STALL)
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        for leg in legs:
            leg.join(30)
        time.sleep(0.3)
        late_ticks = metric(parse_metrics(server.metrics()), "callrec_media_late_ticks_total")
        self.assertEqual(server.v1("POST", "/v1/contacts/stall-1/end").status, 200)
        meta = self.metadata(server.get_contact("stall-1")["Recording"]["Path"])
        # Only what the test's own senders sent late may be dropped as late.
        sent_late = sum(round((b - a) / 0.02) for leg in legs for a, b in late_spans(leg.log, acked))
        self.assertLessEqual(meta["Counters"]["Late"], sent_late, meta["Counters"])
        wav = audio.read_wav(server.get_contact("stall-1")["Recording"]["Path"])
        for leg, channel, tone, who in ((legs[0], wav.left, TONE_CUSTOMER, "customer"),
                                        (legs[1], wav.right, TONE_AGENT, "agent")):
            start = leg.log.records[0][4] - acked
            end = leg.log.records[-1][4] - acked + 0.02
            self.assertToneCovers(channel, tone, start + 0.1, end - 0.1, "stall " + who,
                                  sender=leg, origin=acked)
        self.assertGreaterEqual(late_ticks, 1, "the stall was not seen as a late tick")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class MemoryTest(FaultCase):
    """Resident memory with idle contacts, and after many ended ones: ended
    contacts must not grow memory without bound. Prints the figures."""
    # Four ports per contact (RTP and RTCP, two legs). Below the other tests'
    # ranges, and below 32768 where the kernel's ephemeral ports begin.
    rtp_ports = (RTP_BASE - 3000, RTP_BASE - 601)

    def test_memory_per_contact(self):
        server = self.new_server(start=False, name="faults-mem", extra_args=[
            "--rtp-ports", "%d-%d" % self.rtp_ports, "--http-threads", "2"])
        server.start()
        pid = server.proc.pid
        figures = {"idle_0": rss_kib(pid)}
        created = 0

        def create(n, prefix):
            nonlocal created
            for i in range(n):
                server.create_contact("%s-%05d" % (prefix, created + i))
            created += n
        create(100, "idle")
        figures["idle_100"] = rss_kib(pid)
        create(400, "idle")
        figures["idle_500"] = rss_kib(pid)
        for c in server.list_contacts():
            self.assertEqual(server.v1("POST", "/v1/contacts/%s/end" % c["ContactId"]).status,
                             200)
        figures["ended_500"] = rss_kib(pid)
        # Contacts created and ended, 2,000 of them: what stays per ended contact.
        for batch in range(4):
            ids = []
            for i in range(500):
                contact_id = "churn-%d-%03d" % (batch, i)
                server.create_contact(contact_id)
                ids.append(contact_id)
            for contact_id in ids:
                server.v1("POST", "/v1/contacts/%s/end" % contact_id)
            figures["ended_%d" % (1000 + 500 * batch)] = rss_kib(pid)
        per_ended = (figures["ended_2500"] - figures["ended_1000"]) / 1500.0
        figures["kib_per_ended_contact"] = round(per_ended, 2)
        figures["kib_per_idle_contact"] = round(
            (figures["idle_500"] - figures["idle_100"]) / 400.0, 2)
        print("\nmemory (VmRSS KiB): %s" % json.dumps(figures))
        if SANITIZED:
            self.skipTest("RSS under ASan (shadow memory, quarantine) says nothing: %s" % figures)
        self.assertLess(per_ended, 4.0, "ended contacts keep memory: %s" % figures)


if __name__ == "__main__":
    unittest.main()
