"""Fault injection against the real callrec-server: the data directory fills up
or turns read-only mid-call, every write fails on a full disk, the state store
cannot be read. Loopback only; the small file systems are a tmpfs (full disk)
and an ext4 image on a loop device (read-only after an error), both mounted by
the test (root needed: a test that cannot mount is skipped, saying why).
Start-up, restarts, kill -9 and memory: test_lifecycle.py.
"""

import os
import time
import unittest

import audio
import rtp
import sipclient
from fault_case import STATE_ELSEWHERE, TONE_AGENT, TONE_CUSTOMER, FaultCase, rtp_range
from faultfs import ExtImage, Tmpfs, fill
from harness import ON_POSTGRES, http_call, metric, parse_metrics


class DiskFullTest(FaultCase):
    rtp_ports = rtp_range(0, 20)

    def test_disk_fills_mid_recording(self):
        if ON_POSTGRES:
            self.skipTest(STATE_ELSEWHERE)
        fs = Tmpfs(size="8m")
        server = self.server_on(fs)
        server.start()
        self.assertEqual(self.health(server)[0], 200)
        contact = server.create_contact("full-1")
        self.assertEqual(server.connect_call("START", "full-1").status, 200)
        started = time.perf_counter()
        t0, legs = self.send_call(contact, 9.0, t0=started + 0.05)
        path = server.get_contact("full-1")["Recording"]["Path"]

        time.sleep(2.5)
        filled_at = time.perf_counter() - started
        filler = fill(server.data_dir)
        # The next tick's write fails: /healthz and /metrics say so at once.
        # (Degraded at once for the full disk itself; the failed write follows.)
        self.wait_for("/healthz to say the recordings fail",
                      lambda: self.health(server)[1]["Recordings"]["Failing"])
        status, body = self.health(server)
        self.assertEqual((status, body["Status"]), (503, "degraded"), body)
        self.assertTrue(body["Disk"]["Full"], body)
        self.assertIn("No space left", body["Recordings"]["LastError"], body)
        metrics = parse_metrics(server.metrics())
        self.assertEqual(metric(metrics, "callrec_storage_failing", store="recordings"), 1.0)
        self.assertGreater(metric(metrics, "callrec_recording_write_errors_total"), 0)

        # The contact goes on: the Connect API answers. A commit that fails is not
        # acknowledged (5xx naming storage) and changes nothing; one that the disk
        # still took (SQLite reuses its WAL's space) is acknowledged and holds.
        reply = server.connect_call("PAUSE", "full-1")
        if reply.status == 200:
            self.assertEqual(server.state("full-1"), "PAUSED")
            self.assertEqual(server.connect_call("RESUME", "full-1").status, 200)
        else:
            self.assertAwsError(reply, 500, "InternalServiceException", "could not be stored")
            self.assertEqual(server.state("full-1"), "RECORDING")
        # New contacts soon need space the database does not have: refused, never
        # half-made, and counted.
        refused = []
        for i in range(200):
            reply = server.v1("POST", "/v1/contacts", {
                "InstanceId": "local", "ContactId": "late-%d" % i, "AgentId": "a"})
            if reply.status != 201:
                refused.append((i, reply))
                break
        self.assertTrue(refused, "200 contacts created on a full disk")
        i, reply = refused[0]
        self.assertEqual(reply.status, 500, repr(reply))
        self.assertIn("full", reply.text.lower())
        self.assertEqual(server.v1("GET", "/v1/contacts/late-%d" % i).status, 404)
        status, body = self.health(server)
        self.assertTrue(body["Store"]["Failing"], body)
        self.assertIn("full", body["Store"]["LastError"], body)
        self.assertGreater(metric(parse_metrics(server.metrics()),
                                  "callrec_store_write_failures_total"), 0)
        self.assertEqual(metric(parse_metrics(server.metrics()), "callrec_storage_failing",
                                store="state"), 1.0)

        time.sleep(1.0)
        freed_at = time.perf_counter() - started
        os.unlink(filler)
        for leg in legs:
            leg.join(30)
        time.sleep(0.3)
        reply = server.v1("POST", "/v1/contacts/full-1/end")
        self.assertEqual(reply.status, 200, repr(reply))
        meta = self.metadata(path)
        self.assertIs(meta["Complete"], False, meta)
        self.assertIn("No space left", meta.get("StorageError", ""), meta)
        self.assertGreater(meta["Counters"]["StorageDroppedFrames"], 0, meta)
        self.assertEqual(audio.header_problems(path), [])
        wav = audio.read_wav(path)
        # Written before the fill: intact, at its place.
        origin = t0 - started  # file offset 0 is START's answer, just before t0
        self.assertToneCovers(wav.left, TONE_CUSTOMER, 0.2, filled_at - origin - 0.2,
                              "customer before the fill")
        self.assertToneCovers(wav.right, TONE_AGENT, 0.2, filled_at - origin - 0.2,
                              "agent before the fill")
        # After the space came back, the audio is at its true offset: the lost
        # span became silence, not a shift.
        after = freed_at - origin + 0.5
        self.assertGreater(wav.duration, after + 1.0, "nothing written after space came back")
        self.assertToneCovers(wav.left, TONE_CUSTOMER, after, wav.duration - 0.5,
                              "customer after the space came back")
        lost = [s for s in audio.tone_spans(wav.left, TONE_CUSTOMER)
                if s[0] > filled_at - origin and s[1] < freed_at - origin]
        self.assertEqual(lost, [], "audio in the span the disk refused")
        self.assertTrue(audio.is_silent(wav.left, filled_at - origin + 0.3,
                                        freed_at - origin - 0.1),
                        "the refused span is silence")

        # Writes work again: healthy, and a new recording is complete.
        self.wait_for("/healthz to recover", lambda: self.health(server)[0] == 200)
        contact = server.create_contact("after-full")
        self.assertEqual(server.connect_call("START", "after-full").status, 200)
        _, legs = self.send_call(contact, 1.0)
        for leg in legs:
            leg.join(30)
        time.sleep(0.3)
        self.assertEqual(server.v1("POST", "/v1/contacts/after-full/end").status, 200)
        meta = self.metadata(server.get_contact("after-full")["Recording"]["Path"])
        self.assertIs(meta["Complete"], True, meta)
        self.assertEqual(self.health(server)[0], 200)
        self.assertEqual(metric(parse_metrics(server.metrics()), "callrec_storage_failing",
                                store="state"), 0.0)


class EveryWriteOnAFullDiskTest(FaultCase):
    """Issue 15.3: on a full disk every route that writes fails alone, with a
    clear error, while a live SIPREC call goes on recording; /healthz says
    degraded; once space is freed the same requests succeed, without a restart.
    None of it is an exception: the barriers' counters stay at zero."""
    rtp_ports = rtp_range(200, 200)
    SECONDS = 16.0  # the live call's audio

    def setUp(self):
        if ON_POSTGRES:
            self.skipTest(STATE_ELSEWHERE)
        super().setUp()
        self.fs = Tmpfs(size="16m")
        self.server = self.server_on(self.fs, extra=["--auto-record", "ALL"])
        self.server.start()
        self.outcomes = []  # (route, status) on the full disk, printed

    def call(self, method, path, token, body=None):
        return self.server.v1(method, path, body, token=token)

    def act(self, contact_id, token, action):
        return self.call("POST", "/v1/contacts/%s/guide/actions" % contact_id, token,
                         {"Result": "ActionSelected", "ViewResultData": {"actionName": action}})

    def invite(self, contact_id, session):
        body, content_type = sipclient.multipart(
            sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")]),
            sipclient.siprec_metadata(session, "g-" + session, [
                ("p1", "sip:+15550001@pstn.example", "Customer", ["1"]),
                ("p2", "sip:agent@cc.example", "Agent", ["2"])]))
        client = sipclient.SipClient(self.server.sip_port, "udp")
        self.addCleanup(client.close)
        return client, client.invite(body, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: " + contact_id))

    def live_packets(self):
        """The live call is served: the process runs, its contact records, and
        its packet count grows (the media thread is alive)."""
        self.assertTrue(self.server.running, "the server died:\n" + self.server.logs())
        contact = self.server.get_contact("live")
        self.assertEqual(contact["State"], "RECORDING", contact)
        return contact["Recording"]["Packets"]

    def assertStillServing(self, what):
        before = self.live_packets()
        self.wait_for("live packets to grow after %s" % what,
                      lambda: self.live_packets() > before, timeout=3)

    def assertDegraded(self, what):
        status, body = self.health(self.server)
        self.assertEqual((status, body["Status"]), (503, "degraded"), "%s: %s" % (what, body))

    def assertRefusedOrDone(self, reply, what):
        """A write the disk refused is a clear AWS error; one it still took
        (SQLite reuses its log's space) is acknowledged."""
        self.outcomes.append((what, reply.status))
        if reply.status in (200, 201):
            return True
        self.assertEqual(reply.status, 500, "%s: %r" % (what, reply))
        self.assertEqual(reply.error_type, "InternalServiceException", repr(reply))
        self.assertIn("could not be stored", reply.json()["message"], repr(reply))
        self.assertIn("full", reply.json()["message"], repr(reply))
        return False

    def test_every_route_that_writes(self):
        server = self.server
        alice = server.v1("POST", "/v1/agents", {"AgentId": "alice"}).json()["Token"]
        server.create_contact("ops", agent_id="alice")
        server.create_contact("guided", agent_id="alice")
        server.create_contact("to-end", agent_id="alice", agent_joined=False)
        self.assertEqual(self.call("GET", "/v1/contacts/guided/guide", alice).status, 200)
        # An ended recording, to read and hold on the full disk.
        server.create_contact("done", agent_id="alice")
        self.assertEqual(server.connect_call("START", "done").status, 200)
        self.assertEqual(server.v1("POST", "/v1/contacts/done/end").status, 200)
        done_wav = server.get_contact("done")["Recording"]["Path"]
        self.metadata(done_wav)

        # The live SIPREC call, recorded from its INVITE (--auto-record).
        live_client, answer = self.invite("live", "s-live")
        self.assertEqual(answer.status, 200, answer.header("Warning"))
        started = time.perf_counter()
        ports, _, _ = sipclient.answered_ports(answer.body)
        t0 = started + 0.05
        packets = int(self.SECONDS / rtp.PTIME)
        legs = [rtp.Leg(("127.0.0.1", ports["1"]), "PCMU", rtp.tone_fn(TONE_CUSTOMER), packets,
                        name="customer", t0=t0),
                rtp.Leg(("127.0.0.1", ports["2"]), "PCMU", rtp.tone_fn(TONE_AGENT), packets,
                        name="agent", t0=t0)]
        for leg in legs:
            leg.start()
        path = server.get_contact("live")["Recording"]["Path"]
        time.sleep(2.5)
        self.assertStillServing("the start")

        filled_at = time.perf_counter() - started
        filler = fill(server.data_dir)
        self.wait_for("/healthz to degrade", lambda: self.health(server)[0] == 503)
        status, body = self.health(server)
        self.assertTrue(body["Disk"]["Full"], body)
        self.assertLess(body["Disk"]["AvailableBytes"], 1 << 20, body)

        # 1. An agent's token: needs a new file. Refused, nothing changes.
        reply = server.v1("POST", "/v1/agents", {"AgentId": "alice"})
        self.assertEqual(reply.status, 500, repr(reply))
        self.assertEqual(reply.error_type, "InternalServiceException")
        self.assertIn("No space left on device", reply.json()["message"])
        self.assertEqual(self.call("GET", "/v1/me", alice).status, 200, "the old token was lost")
        self.assertStillServing("POST /v1/agents")
        self.assertDegraded("POST /v1/agents")

        # 2. New contacts: soon refused (the database's log reuses its space
        # for a while), never half made.
        refused = None
        for i in range(60):
            reply = server.v1("POST", "/v1/contacts", {
                "InstanceId": "local", "ContactId": "new-%d" % i, "AgentId": "alice"})
            if not self.assertRefusedOrDone(reply, "POST /v1/contacts"):
                refused = i
                break
        self.assertIsNotNone(refused, "60 contacts created on a full disk")
        self.assertEqual(server.v1("GET", "/v1/contacts/new-%d" % refused).status, 404)
        self.assertStillServing("POST /v1/contacts")
        self.assertDegraded("POST /v1/contacts")

        # 3. The four Connect operations on another contact: each acknowledged
        # and held, or refused with the state unchanged.
        expected = {"START": "RECORDING", "PAUSE": "PAUSED", "RESUME": "RECORDING",
                    "STOP": "STOPPED"}
        for operation in ("START", "PAUSE", "RESUME", "STOP"):
            before = server.state("ops")
            reply = server.connect_call(operation, "ops")
            self.outcomes.append((operation, reply.status))
            if reply.status == 200:
                self.assertEqual(server.state("ops"), expected[operation], operation)
            else:
                self.assertTrue(reply.error_type, repr(reply))
                if reply.status == 500:
                    self.assertIn("could not be stored", reply.json()["message"], repr(reply))
                self.assertEqual(server.state("ops"), before, "a refused %s changed the state"
                                 % operation)
            self.assertStillServing(operation)
            self.assertDegraded(operation)

        # 4. A guide action (the workspace's Lambda, in process): the view
        # says what the API answered; the state is what it says.
        reply = self.act("guided", alice, "Start recording")
        self.assertEqual(reply.status, 200, repr(reply))
        guide = reply.json()
        attributes = guide["Attributes"]
        self.outcomes.append(("guide action", attributes.get("callRecordingStatus")))
        if attributes.get("callRecordingStatus") != "ON":
            # The agent sees the store's answer on the card, and the truth.
            self.assertIn("could not be stored", attributes.get("callRecordingMessage", ""), guide)
            self.assertIn("full", guide["View"]["ViewData"]["Cards"][0]["Detail"]["Description"])
            self.assertEqual(attributes.get("callRecordingStatus"), "OFF", guide)
            self.assertEqual(server.state("guided"), "NOT_STARTED")
        else:
            self.assertEqual(server.state("guided"), "RECORDING")
        self.assertStillServing("a guide action")
        self.assertDegraded("a guide action")

        # 5. Ending a contact, and an agent joining: writes too.
        for path_, contact_id in (("/v1/contacts/to-end/agent-joined", "to-end"),
                                  ("/v1/contacts/to-end/end", "to-end")):
            before = server.state(contact_id)
            if not self.assertRefusedOrDone(server.v1("POST", path_), path_):
                self.assertEqual(server.state(contact_id), before)
            self.assertStillServing(path_)

        # 6. A new SIPREC INVITE: refused 500 with a Warning, or (the log took
        # the contact) answered; its recording file cannot be made, which the
        # recording's metadata will say.
        client, answer = self.invite("sip-full", "s-full")
        self.outcomes.append(("INVITE", answer.status))
        if answer.status == 200:
            self.assertEqual(client.bye().status, 200)
        else:
            self.assertEqual(answer.status, 500, answer.header("Warning"))
            self.assertIn("could not be stored", answer.header("Warning", ""))
        self.assertStillServing("a SIPREC INVITE")
        self.assertDegraded("a SIPREC INVITE")

        # 7. A recording's reads are audited before they are served, and a
        # legal hold is audited and a file: both write.
        reply = server.v1("GET", "/v1/recordings/done")
        self.outcomes.append(("GET /v1/recordings/done", reply.status))
        if reply.status != 200:
            self.assertEqual((reply.status, reply.error_type), (500, "InternalServiceException"))
            self.assertIn("could not be audited", reply.json()["message"], repr(reply))
        self.assertStillServing("a recording's read")
        reply = server.v1("POST", "/v1/recordings/done/hold", {"Reason": "litigation"})
        self.outcomes.append(("POST /v1/recordings/done/hold", reply.status))
        if reply.status != 200:
            self.assertEqual((reply.status, reply.error_type), (500, "InternalServiceException"))
            message = reply.json()["message"]
            self.assertTrue("could not be stored" in message or "No space left" in message,
                            repr(reply))
            self.assertFalse(os.path.exists(done_wav[:-4] + ".hold"), "a refused hold was kept")
        self.assertStillServing("a legal hold")
        self.assertDegraded("a legal hold")
        print("\nfull disk: %s" % self.outcomes)

        # 8. Reads that write nothing: served.
        for path_ in ("/v1/contacts", "/v1/recordings", "/v1/contacts/live", "/metrics"):
            self.assertEqual(server.v1("GET", path_).status, 200, path_)
        self.assertEqual(http_call(server.port, "GET", "/").status, 200)

        # Space again: the same requests succeed, no restart.
        time.sleep(1.0)
        freed_at = time.perf_counter() - started
        os.unlink(filler)
        pid = server.proc.pid
        reply = server.v1("POST", "/v1/agents", {"AgentId": "alice"})
        self.assertEqual(reply.status, 201, repr(reply))
        self.assertEqual(self.call("GET", "/v1/me", alice).status, 401, "replaced token works")
        alice = reply.json()["Token"]
        self.assertEqual(self.call("GET", "/v1/me", alice).status, 200)
        self.wait_for("/healthz to recover", lambda: self.health(server)[0] == 200)
        server.create_contact("after")
        server.create_contact("new-%d" % refused)
        for operation in ("START", "PAUSE", "RESUME", "STOP"):
            self.assertEqual(server.connect_call(operation, "after").status, 200, operation)
        server.create_contact("guided-2", agent_id="alice")
        reply = self.act("guided-2", alice, "Start recording")
        self.assertEqual(reply.json()["Attributes"].get("callRecordingStatus"), "ON", reply.json())
        self.assertEqual(server.state("guided-2"), "RECORDING")
        self.assertEqual(server.v1("GET", "/v1/recordings/done").status, 200)
        reply = server.v1("POST", "/v1/recordings/done/hold", {"Reason": "litigation"})
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(reply.json()["LegalHold"]["Reason"], "litigation")
        self.assertEqual(server.v1("DELETE", "/v1/recordings/done/hold").status, 200)
        client, answer = self.invite("sip-after", "s-after")
        self.assertEqual(answer.status, 200, answer.header("Warning"))
        self.assertEqual(client.bye().status, 200)
        self.assertStillServing("space freed")
        self.assertEqual(server.proc.pid, pid, "restarted")

        # The live call: whole where the disk allowed, the refused span silent.
        for leg in legs:
            leg.join(60)
        sent_until = t0 + self.SECONDS - started
        self.assertGreater(sent_until, freed_at + 3.0,
                           "the requests took too long: %.1f s of audio after the space came back"
                           % (sent_until - freed_at))
        time.sleep(0.3)
        self.assertEqual(live_client.bye().status, 200)
        self.wait_for("live ENDED", lambda: server.state("live") == "ENDED")
        meta = self.metadata(path)
        self.assertIs(meta["Complete"], False, meta)
        self.assertIn("No space left", meta.get("StorageError", ""), meta)
        self.assertGreater(meta["Counters"]["StorageDroppedFrames"], 0, meta)
        self.assertEqual(audio.header_problems(path), [])
        wav = audio.read_wav(path)
        origin = t0 - started  # file offset 0 is the INVITE's START, just before the answer
        print("live call: %s" % meta["Counters"])
        for channel, freq, side in ((wav.left, TONE_CUSTOMER, "customer"),
                                    (wav.right, TONE_AGENT, "agent")):
            self.assertToneCovers(channel, freq, 0.2, filled_at - origin - 0.2,
                                  side + " before the fill")
            self.assertToneCovers(channel, freq, freed_at - origin + 0.5,
                                  sent_until - origin - 0.3,
                                  "%s after the space came back (%s)" % (side, meta["Counters"]))
            lost = [s for s in audio.tone_spans(channel, freq)
                    if s[0] > filled_at - origin and s[1] < freed_at - origin]
            self.assertEqual(lost, [], side + ": audio in the span the disk refused")

        # Ordinary failures, not exceptions: no barrier caught anything.
        metrics = parse_metrics(server.metrics())
        for edge in ("http", "sip", "media", "loop", "guide", "retention"):
            self.assertEqual(metric(metrics, "callrec_handler_exceptions_total", edge=edge), 0.0,
                             edge)
        logs = server.stderr_text() + server.stdout_text()
        self.assertNotIn("handler_failed", logs)
        self.assertIn("agent.token_not_stored", logs)
        self.assertNotIn(alice, logs)


class ReadOnlyTest(FaultCase):
    rtp_ports = rtp_range(20, 20)

    def test_data_dir_turns_read_only(self):
        if ON_POSTGRES:
            self.skipTest(STATE_ELSEWHERE)
        fs = ExtImage(size_mb=32)
        server = self.server_on(fs)
        server.start()
        contact = server.create_contact("ro-1")
        self.assertEqual(server.connect_call("START", "ro-1").status, 200)
        started = time.perf_counter()
        t0, legs = self.send_call(contact, 4.0, t0=started + 0.05)
        path = server.get_contact("ro-1")["Recording"]["Path"]
        time.sleep(2.0)
        broken_at = time.perf_counter() - started
        # An I/O error: ext4 (errors=remount-ro) turns the file system read-only
        # under the open files, as a failing disk does.
        fs.trigger_error()
        self.wait_for("/healthz to degrade", lambda: self.health(server)[0] == 503)
        reply = server.connect_call("PAUSE", "ro-1")
        self.assertAwsError(reply, 500, "InternalServiceException", "could not be stored")
        self.assertEqual(server.state("ro-1"), "RECORDING", "a refused PAUSE changed the state")
        status, body = self.health(server)
        self.assertTrue(body["Store"]["Failing"] and body["Recordings"]["Failing"], body)
        # EROFS on a write, or EIO on the fsync that met the error first (SQLite
        # says "disk I/O error", strerror "Input/output error").
        for part in ("Store", "Recordings"):
            error = body[part]["LastError"].lower()
            self.assertTrue(any(word in error for word in
                                ("read-only", "i/o error", "input/output error")), body)
        metrics = parse_metrics(server.metrics())
        self.assertEqual(metric(metrics, "callrec_storage_failing", store="state"), 1.0)
        self.assertEqual(metric(metrics, "callrec_storage_failing", store="recordings"), 1.0)
        for leg in legs:
            leg.join(30)
        self.assertTrue(server.running, "the server died on a read-only file system")

        # ext4 will not take writes again before an fsck: recovery is a restart.
        self.assertEqual(server.stop(), 0, "SIGTERM on a read-only data dir")
        fs.repair_and_remount()
        server.start()
        restarted = server.get_contact("ro-1")
        self.assertEqual(restarted["State"], "ENDED")
        self.assertEqual(restarted["RecordingState"], "RECORDING")
        self.assertEqual(restarted["AuditTrail"][-1]["Principal"], "server")
        meta = self.metadata(path, want=lambda m: m.get("Repaired") is True)
        self.assertIs(meta["Complete"], False)
        wav = audio.read_wav(path)
        origin = t0 - started
        # Synced once a second: what was on disk a second before the error is kept.
        self.assertToneCovers(wav.left, TONE_CUSTOMER, 0.2, broken_at - origin - 1.1,
                              "customer before the error")


class StoreReadErrorTest(FaultCase):
    """A read of the state database that fails at run time (here: an ended
    contact's row that this build cannot read, written by another connection as
    a damaged or foreign write would) fails the requests that need it, with a
    500 saying so, counted and logged; everything else goes on."""

    def test_unreadable_ended_contact(self):
        server = self.new_server(extra_args=["--rtp-ports", "%d-%d" % self.rtp_ports],
                                 name="faults")
        server.create_contact("gone")
        self.assertEqual(server.v1("POST", "/v1/contacts/gone/end").status, 200)
        self.wait_for("eviction", lambda: metric(parse_metrics(server.metrics()),
                                                 "callrec_contacts_in_memory") == 0)
        server.store_sql("UPDATE contacts SET final_state = 'BOGUS' WHERE contact_id = 'gone'")

        def read_errors():
            return metric(parse_metrics(server.metrics()), "callrec_store_read_errors_total")
        self.assertEqual(read_errors(), 0)
        for method, path in (("GET", "/v1/contacts/gone"), ("GET", "/v1/contacts"),
                             ("GET", "/v1/contacts?AgentId=agent-1"),
                             ("GET", "/v1/contacts/gone/guide"),
                             ("POST", "/v1/contacts/gone/end")):
            with self.subTest(path=path):
                self.assertAwsError(server.v1(method, path), 500, "InternalServiceException",
                                    "The state store could not be read")
        self.assertAwsError(server.connect_call("START", "gone"), 500,
                            "InternalServiceException", "could not be read")
        body, content_type = sipclient.multipart(
            sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")]),
            sipclient.siprec_metadata("s-gone", "g-gone", [
                ("p1", "sip:+15550001@pstn.example", "Customer", ["1"]),
                ("p2", "sip:agent@cc.example", "Agent", ["2"])]))
        sip = sipclient.SipClient(server.sip_port, "udp")
        self.addCleanup(sip.close)
        refused = sip.invite(body, content_type,
                             extra_headers=("Require: siprec", "X-Contact-Id: gone"))
        self.assertEqual(refused.status, 500, refused.header("Warning"))
        self.assertIn("could not be read", refused.header("Warning", ""))
        self.assertEqual(read_errors(), 7)
        logs = server.stdout_text() + server.stderr_text()
        self.assertIn("store.read_failed", logs)
        self.assertIn("unknown state 'BOGUS'", logs)
        self.assertNotIn(server.admin_token, logs)

        # Everything else is served: health, a live contact through both APIs,
        # SIPREC, the live list.
        self.assertEqual(self.health(server)[0], 200)
        live = server.create_contact("live")
        self.assertIn("Rtp", live)
        self.assertEqual(server.connect_call("START", "live").status, 200)
        self.assertEqual(server.connect_call("PAUSE", "live").status, 200)
        self.assertEqual(server.get_contact("live")["State"], "PAUSED")
        self.assertEqual([c["ContactId"] for c in server.list_contacts(State="PAUSED")],
                         ["live"])
        other = sipclient.SipClient(server.sip_port, "udp")
        self.addCleanup(other.close)
        self.assertEqual(other.invite(body, content_type,
                                      extra_headers=("Require: siprec",
                                                     "X-Contact-Id: by-sip")).status, 200)
        self.assertEqual(other.bye().status, 200)
        self.assertEqual(server.v1("POST", "/v1/contacts/live/end").status, 200)
        # Once the row reads again, so do its requests.
        server.store_sql(
            "UPDATE contacts SET final_state = 'NOT_STARTED' WHERE contact_id = 'gone'")
        self.assertEqual(server.get_contact("gone")["State"], "ENDED")
        self.assertEqual(len(server.list_contacts()), 3)
        self.assertEqual(read_errors(), 7)


if __name__ == "__main__":
    unittest.main()
