"""Several callrec-server nodes as one SIPREC service: a real Kamailio 5.6
with deploy/kamailio/kamailio.cfg (dispatcher, OPTIONS probing, failover,
Record-Route) in front of three nodes, and a real HAProxy 2.6 with
deploy/haproxy/haproxy.cfg in front of their HTTP APIs. Calls come from
callrec-callgen through Kamailio; recordings are checked by tone analysis.

The nodes keep their own SQLite store here (shared state is another piece of
work), so each contact lives on the node that recorded it.

ClusterTest's tests share one Kamailio, one HAProxy and three nodes (started
once, in setUpClass) and run in the order of their names: all nodes up, then
node C killed, then node B drained. DrainBoundsTest and DegradedOptionsTest
check one node alone: the drain's bounds, and OPTIONS 503 while degraded.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import audio
import faultfs
import sipclient
from harness import (BUILD_DIR, SERVER_BIN, NodeLogsOnFailure, ServerProcess, complete_metadata,
                     free_port, free_sip_port, http_call, metric, parse_metrics, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
KAMAILIO_CFG = os.path.join(REPO, "deploy", "kamailio", "kamailio.cfg")
HAPROXY_CFG = os.path.join(REPO, "deploy", "haproxy", "haproxy.cfg")
AUDIO = os.path.normpath(os.path.join(HERE, "..", "fixtures", "audio"))
CUSTOMER_WAV = os.path.join(AUDIO, "customer_ulaw.wav")  # 600 Hz 0.5-1.5, 1400 Hz 3.0-4.0
AGENT_WAV = os.path.join(AUDIO, "agent_ulaw.wav")  # 1000 Hz 1.0-2.0, 1800 Hz 3.5-4.5
CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
TOL = 0.1  # s: tone edges vs the schedule (the subject here is the cluster, not media timing)
PING_INTERVAL = 1  # s: the dispatcher's OPTIONS probes (production default: 5)
FR_TIMER = 1000  # ms: a node that does not answer at all (production default: 2000)
DRAIN_TIMEOUT = 30  # s: node B's --drain-timeout


class ForegroundDaemon:
    """A peer daemon run in the foreground for a test: its own temporary
    directory, its output in a log file there, stopped with SIGTERM (then
    SIGKILL after 10 s) and its directory removed."""

    def _launch_in(self, tmp, argv, **popen):
        self.tmp = tmp
        self.log_path = os.path.join(self.tmp, os.path.basename(argv[0]) + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, **popen)

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Kamailio(ForegroundDaemon):
    """kamailio -DD -E (foreground, logs on stderr) with the deploy config, on
    loopback, its dispatcher list and control socket in a temporary directory."""

    def __init__(self, node_sip_ports):
        self.tmp = tempfile.mkdtemp(prefix="callrec-kamailio-")
        self.port = free_sip_port()
        self.list_path = os.path.join(self.tmp, "dispatcher.list")
        with open(self.list_path, "w") as f:
            for name, port in node_sip_ports:
                f.write("1 sip:127.0.0.1:%d 0 0 duid=%s\n" % (port, name))
        self.ctl = "unix:" + os.path.join(self.tmp, "kamailio_ctl")
        argv = ["kamailio", "-f", KAMAILIO_CFG, "-DD", "-E", "-Y", self.tmp,
                "-m", "64", "-M", "8",
                "-A", "SIP_PORT=%d" % self.port,
                "-A", 'DISPATCHER_LIST="%s"' % self.list_path,
                "-A", 'CTL_SOCKET="%s"' % self.ctl,
                "-A", "DS_PING_INTERVAL=%d" % PING_INTERVAL,
                "-A", "FR_TIMER=%d" % FR_TIMER,
                "-A", "CHILDREN=2"]
        self._launch_in(self.tmp, argv, cwd=self.tmp)
        try:
            wait_until("kamailio answers OPTIONS", self._answers, 15, 0.1)
        except BaseException:
            self.stop()
            raise

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError("kamailio exited with %s:\n%s" % (self.proc.returncode, self.logs()))
        try:
            client = sipclient.SipClient(self.port)
            try:
                return client.request("OPTIONS", timeout=0.5).status == 200
            finally:
                client.close()
        except (OSError, TimeoutError):
            return False

    def nodes(self):
        """{port: flags} from `kamcmd dispatcher.list` (AP: active, IP: inactive)."""
        out = subprocess.run(["kamcmd", "-s", self.ctl, "dispatcher.list"], capture_output=True,
                             text=True, timeout=10).stdout
        found = {}
        for match in re.finditer(r"URI: sip:127\.0\.0\.1:(\d+)\s+FLAGS: (\w+)", out):
            found[int(match.group(1))] = match.group(2)
        return found


class HaProxy(ForegroundDaemon):
    """haproxy -db (foreground) with the deploy config, its addresses from the
    environment as the config's header says."""

    def __init__(self, node_http_ports):
        self.tmp = tempfile.mkdtemp(prefix="callrec-haproxy-")
        self.port = free_port()
        self.socket = os.path.join(self.tmp, "haproxy.sock")
        env = dict(os.environ, CALLREC_API_BIND="127.0.0.1:%d" % self.port,
                   CALLREC_HAPROXY_SOCKET=self.socket)
        for name, port in node_http_ports:
            env["CALLREC_NODE_%s" % name] = "127.0.0.1:%d" % port
        self._launch_in(self.tmp, ["haproxy", "-db", "-f", HAPROXY_CFG], env=env)
        try:
            wait_until("haproxy sees the nodes up",
                       lambda: self.up() == {"node-a", "node-b", "node-c"}, 15, 0.1)
        except BaseException:
            self.stop()
            raise

    def status(self):
        """{server: status} from the stats socket's `show stat`."""
        if self.proc.poll() is not None:
            raise RuntimeError("haproxy exited:\n%s" % self.logs())
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.socket)
                s.sendall(b"show stat\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return {}
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows
                if r.get("pxname") == "callrec_nodes" and r["svname"] != "BACKEND"}

    def up(self):
        """Servers taking requests: "UP", and "UP 1/2" (a check failed, not yet
        the `fall` count); "DOWN 1/2" is still out."""
        return {name for name, status in self.status().items() if status.startswith("UP")}


class ClusterTest(NodeLogsOnFailure, unittest.TestCase):
    node_log_chars = 3000
    nodes = {}
    sent = {}  # contact id -> RTP packets callgen sent

    @classmethod
    def setUpClass(cls):
        for binary in (SERVER_BIN, CALLGEN_BIN):
            if not os.path.exists(binary):
                raise unittest.SkipTest("no %s" % binary)
        for tool in ("kamailio", "kamcmd", "haproxy"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("no %s (scripts/install-deps.sh installs kamailio and "
                                        "haproxy)" % tool)
        cls.started = time.monotonic()
        cls.nodes = {}
        cls.kamailio = cls.haproxy = None
        try:
            for i, name in enumerate("ABC"):
                low = RTP_BASE + 2100 + 40 * i
                node = ServerProcess(name="cluster-%s" % name.lower(), log_level="info", extra_args=[
                    "--rtp-ports", "%d-%d" % (low, low + 39), "--auto-record", "ALL",
                    "--agent-match", "^sip:agent", "--drain-timeout", str(DRAIN_TIMEOUT)])
                cls.nodes[name] = node
                node.start()
            cls.kamailio = Kamailio([(n, node.sip_port) for n, node in cls.nodes.items()])
            cls.haproxy = HaProxy([(n, node.port) for n, node in cls.nodes.items()])
            # Every node probed and active before the first call.
            wait_until("dispatcher: every node active", lambda: len(
                [f for f in cls.kamailio.nodes().values() if f.startswith("A")]) == 3, 10, 0.1)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for part in (cls.haproxy, cls.kamailio):
            if part is not None:
                part.stop()
        for node in cls.nodes.values():
            node.close()
            node.cleanup_files()
        sys.stderr.write("\ntest_cluster: %.1f s in all\n" % (time.monotonic() - cls.started))

    def peer_logs(self):
        return [("kamailio", self.kamailio.logs()[-6000:])] if self.kamailio else []

    # ---- helpers ----------------------------------------------------------------------

    def callgen(self, *args):
        """callrec-callgen through Kamailio (not waited for)."""
        argv = [CALLGEN_BIN, "--target", "127.0.0.1:%d" % self.kamailio.port,
                "--customer-wav", CUSTOMER_WAV, "--agent-wav", AGENT_WAV,
                "--agent-aor", "sip:agent7@cc.example", "--json"] + list(args)
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, proc, expect_ok=True):
        out, err = proc.communicate(timeout=60)
        if expect_ok:
            self.assertEqual(proc.returncode, 0, "callgen failed:\n%s\n%s" % (out, err))
        report = json.loads(out) if out.strip() else {}
        for session in report.get("sessions", []):
            self.sent[session["contact_id"]] = sum(s["packets"] for s in session["streams"])
        return report

    def holder(self, contact_id, names=None):
        """The name of the node that has the contact (exactly one may)."""
        holders = [name for name in (names or self.nodes)
                   if self.nodes[name].running and
                   self.nodes[name].v1("GET", "/v1/contacts/%s" % contact_id).status == 200]
        self.assertEqual(len(holders), 1, "%s is on %s" % (contact_id, holders))
        return holders[0]

    def recording(self, node, contact_id, timeout=10, path=None):
        path = path or node.get_contact(contact_id)["Recording"]["Path"]
        meta = complete_metadata(path, timeout)
        return audio.read_wav(path), meta

    def assertTone(self, channel, freq, start, end, what):
        start = max(start, 0.0)
        # Spans up to 0.25 s apart count as one: a sender late on a loaded
        # machine leaves a hole that is no loss (packets are counted below).
        spans = audio.joined_tone_spans(channel, freq, 0.25)
        self.assertTrue(any(abs(s - start) <= TOL and abs(e - end) <= TOL for s, e in spans),
                        "%s: %d Hz expected at %.2f-%.2f s, found %s" % (what, freq, start, end,
                                                                          spans))

    def assertWhole(self, node, contact_id, duration, path=None):
        """The recording is complete, as long as the call, both tracks' tones in place."""
        wav, meta = self.recording(node, contact_id, path=path)
        self.assertAlmostEqual(wav.duration, duration, delta=0.15, msg=contact_id)
        counters = meta["Counters"]
        self.assertEqual(counters["Lost"], 0, "%s: %s" % (contact_id, counters))
        if contact_id in self.sent:
            self.assertEqual(counters["Packets"], self.sent[contact_id],
                             "%s: every packet sent was recorded: %s" % (contact_id, counters))
        for offset in range(0, int(duration) - 1, 5):
            self.assertTone(wav.left, 600, offset + 0.5, offset + 1.5, contact_id + " customer")
            self.assertTone(wav.right, 1000, offset + 1.0, offset + 2.0, contact_id + " agent")
        return wav, meta

    def options(self, node):
        client = sipclient.SipClient(node.sip_port)
        try:
            return client.request("OPTIONS", timeout=3)
        finally:
            client.close()

    def ports_by_name(self):
        return {node.sip_port: name for name, node in self.nodes.items()}

    # ---- all nodes up -----------------------------------------------------------------

    def test_1_calls_spread_over_the_nodes_and_record_whole(self):
        for node in self.nodes.values():
            self.assertEqual(self.options(node).status, 200)
        proc = self.callgen("--sessions", "6", "--rate", "4", "--duration", "5",
                            "--contact-id-prefix", "spread")
        report = self.finish(proc)
        self.assertEqual(len(report["sessions"]), 6)
        per_node = {name: [] for name in self.nodes}
        for i in range(1, 7):
            contact_id = "spread-%d" % i
            name = self.holder(contact_id)
            per_node[name].append(contact_id)
            node = self.nodes[name]
            self.assertEqual(node.state(contact_id), "ENDED", "the BYE reached " + name)
            self.assertWhole(node, contact_id, 5.0)
        sys.stderr.write("\ntest_cluster: 6 calls through Kamailio: %s\n"
                         % {n: len(c) for n, c in per_node.items()})
        for name, contacts in per_node.items():
            self.assertTrue(contacts, "node %s recorded none: %s" % (name, per_node))

    def test_2_reinvite_and_bye_follow_the_record_route(self):
        # The client's pause is a re-INVITE (a=inactive) and back; then the BYE.
        proc = self.callgen("--contact-id", "rr-1", "--duration", "5",
                            "--client-pause", "2.2-3.2")
        report = self.finish(proc)
        session = report["sessions"][0]
        self.assertEqual([s["status"] for s in session["sip"]], [200, 200, 200, 200], session)
        name = self.holder("rr-1")
        node = self.nodes[name]
        trail = [(e["Operation"], e["Principal"]) for e in node.get_contact("rr-1")["AuditTrail"]]
        self.assertIn("PAUSE", [op for op, _ in trail], trail)
        self.assertIn("RESUME", [op for op, _ in trail], trail)
        self.assertEqual(node.state("rr-1"), "ENDED")
        wav, meta = self.recording(node, "rr-1")
        self.assertEqual(len(meta.get("Pauses") or meta.get("PauseIntervals") or []), 1, meta)
        self.assertTone(wav.left, 600, 0.5, 1.5, "customer before the client's pause")
        # Kamailio relayed the re-INVITEs and the BYE inside the dialog: they
        # carried its Route (loose_route), not the node's Contact alone.
        call_id = session["call_id"]
        logs = self.kamailio.logs()
        in_dialog = re.findall(r"in-dialog (\w+) %s" % re.escape(call_id), logs)
        self.assertEqual(in_dialog.count("INVITE"), 2, logs[-3000:])
        self.assertIn("BYE", in_dialog, logs[-3000:])

    def test_2b_sip_over_tcp_to_kamailio(self):
        # SBCs often use TCP for SIPREC's large bodies: TCP to Kamailio, UDP to
        # the node (double Record-Route), and the in-dialog requests back again.
        proc = self.callgen("--contact-id", "rr-tcp", "--duration", "5", "--transport", "tcp",
                            "--client-pause", "2.2-3.2")
        session = self.finish(proc)["sessions"][0]
        self.assertEqual([s["status"] for s in session["sip"]], [200, 200, 200, 200], session)
        node = self.nodes[self.holder("rr-tcp")]
        self.assertEqual(node.state("rr-tcp"), "ENDED")
        self.assertWhole(node, "rr-tcp", 5.0)
        in_dialog = re.findall(r"in-dialog (\w+) %s" % re.escape(session["call_id"]),
                               self.kamailio.logs())
        self.assertEqual(sorted(set(in_dialog)), ["ACK", "BYE", "INVITE"], in_dialog)

    def test_3_haproxy_routes_by_healthz_and_the_aws_cli_works_through_it(self):
        self.assertEqual(self.haproxy.up(), {"node-a", "node-b", "node-c"})
        # The same contact on every node (each has its own store here): the
        # operation succeeds on whichever node HAProxy picks, and on one only.
        for node in self.nodes.values():
            node.create_contact("ha-1")
        node = self.nodes["A"]
        out = subprocess.run(
            ["aws", "connect", "start-contact-recording", "--region", "us-east-1",
             "--endpoint-url", "http://127.0.0.1:%d" % self.haproxy.port, "--instance-id",
             "local", "--contact-id", "ha-1", "--initial-contact-id", "ha-1",
             "--voice-recording-configuration", "VoiceRecordingTrack=ALL"],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, AWS_ACCESS_KEY_ID=node.access_keys[0][0],
                     AWS_SECRET_ACCESS_KEY=node.access_keys[0][1], AWS_MAX_ATTEMPTS="1",
                     AWS_EC2_METADATA_DISABLED="true"))
        self.assertEqual(out.returncode, 0, out.stderr)
        states = sorted(n.state("ha-1") for n in self.nodes.values())
        self.assertEqual(states, ["NOT_STARTED", "NOT_STARTED", "RECORDING"])
        healthz = http_call(self.haproxy.port, "GET", "/healthz")
        self.assertEqual((healthz.status, healthz.json()["Status"]), (200, "ok"))
        for node in self.nodes.values():
            node.v1("POST", "/v1/contacts/ha-1/end")

    # ---- node C killed ----------------------------------------------------------------

    def test_4_kill9_new_sessions_go_to_the_survivors(self):
        # Three calls up, one on each node (round robin).
        live = [self.callgen("--contact-id", "k-%d" % i, "--duration", "7") for i in range(3)]
        wait_until("three calls up", lambda: all(
            any(n.v1("GET", "/v1/contacts/k-%d" % i).status == 200 for n in self.nodes.values())
            for i in range(3)), 10)
        holders = {"k-%d" % i: self.holder("k-%d" % i) for i in range(3)}
        self.assertEqual(sorted(holders.values()), ["A", "B", "C"], holders)
        time.sleep(1.0)
        c_port = self.nodes["C"].sip_port
        killed = time.monotonic()
        self.nodes["C"].kill9()
        # Three new calls at once, before any probe can have noticed (a probe
        # C answered before it died counts for it; the next one waits
        # FR_TIMER): round robin sends one of them to C, which does not
        # answer, and Kamailio moves it to the next node after FR_TIMER.
        failover = [(time.monotonic(), self.callgen("--contact-id", "fo-%d" % i, "--duration",
                                                    "2")) for i in range(3)]
        # The dispatcher's probe notices (node C inactive), and HAProxy's
        # /healthz check: each measured from the kill.
        seen = {}

        def both_noticed():
            now = time.monotonic() - killed
            if "kamailio" not in seen and self.kamailio.nodes().get(c_port, "A").startswith("I"):
                seen["kamailio"] = now
            if "haproxy" not in seen and "node-c" not in self.haproxy.up():
                seen["haproxy"] = now
            return len(seen) == 2
        wait_until("dispatcher and haproxy take C out", both_noticed, 10, 0.02)
        noticed, haproxy_noticed = seen["kamailio"], seen["haproxy"]
        ended = {}
        while len(ended) < len(failover):
            for i, (begun, proc) in enumerate(failover):
                if i not in ended and proc.poll() is not None:
                    ended[i] = time.monotonic() - begun
            time.sleep(0.01)
        took_fo = [ended[i] for i in range(len(failover))]
        for _, proc in failover:
            self.finish(proc)
        for i in range(3):
            name = self.holder("fo-%d" % i, names="AB")
            self.assertWhole(self.nodes[name], "fo-%d" % i, 2.0)
        self.assertIn(c_port, [int(p) for p in re.findall(
            r"callrec node sip:127\.0\.0\.1:(\d+) failed \(408\)", self.kamailio.logs())],
            "no INVITE timed out on C and moved on")
        # New sessions: every one answered by A or B, none delayed by C.
        started = time.monotonic()
        report = self.finish(self.callgen("--sessions", "4", "--rate", "8", "--duration", "2",
                                          "--contact-id-prefix", "after-kill"))
        took = time.monotonic() - started
        for i in range(1, 5):
            name = self.holder("after-kill-%d" % i, names="AB")
            self.assertWhole(self.nodes[name], "after-kill-%d" % i, 2.0)
        self.assertEqual(report["failed_sessions"], 0)
        sys.stderr.write("\ntest_cluster: kill -9 of C: dispatcher marked it inactive after "
                         "%.2f s (probe every %d s, fr_timer %d ms), HAProxy after %.2f s; "
                         "3 calls placed at the kill took %s s (2 s calls; the one sent to C "
                         "failed over); 4 new calls after it was marked took %.2f s in all\n"
                         % (noticed, PING_INTERVAL, FR_TIMER, haproxy_noticed,
                            ", ".join("%.2f" % t for t in took_fo), took))
        self.assertLess(noticed, PING_INTERVAL + FR_TIMER / 1000 + 1.5)
        # The calls on A and B went on and are whole; C's died with it.
        for proc, contact_id in zip(live, ["k-0", "k-1", "k-2"]):
            name = holders[contact_id]
            self.finish(proc, expect_ok=name != "C")
            if name != "C":
                self.assertWhole(self.nodes[name], contact_id, 7.0)

    # ---- node B drained ---------------------------------------------------------------

    def test_5_sigterm_drains(self):
        node_b = self.nodes["B"]
        b_port = node_b.sip_port
        # A call up on B: place calls until one lands there (round robin over A, B).
        live_proc, live_id = None, None
        for i in range(4):
            # The client pauses and resumes (re-INVITEs) after the SIGTERM below.
            proc = self.callgen("--contact-id", "d-%d" % i, "--duration", "8",
                                "--client-pause", "4.0-4.8")
            name = wait_until("d-%d up" % i, lambda: self._holder_or_none("d-%d" % i), 10)
            if name == "B":
                live_proc, live_id = proc, "d-%d" % i
                break
            self.finish(proc)
        self.assertIsNotNone(live_id, "no call landed on B")
        # Where B writes it (B is gone by the time the file is checked).
        live_path = node_b.get_contact(live_id)["Recording"]["Path"]
        time.sleep(1.0)
        sigterm = time.monotonic()
        node_b.proc.send_signal(signal.SIGTERM)
        # OPTIONS 503 at once, with the reason; /healthz says draining.
        response = wait_until("B answers OPTIONS 503", lambda: (
            lambda r: r if r.status == 503 else None)(self.options(node_b)), 3, 0.02)
        self.assertIn("draining", response.header("Warning", ""))
        health = node_b.v1("GET", "/healthz")
        self.assertEqual((health.status, health.json()["Status"]), (503, "draining"))
        wait_until("dispatcher marks B inactive",
                   lambda: self.kamailio.nodes().get(b_port, "A").startswith("I"), 10, 0.02)
        noticed = time.monotonic() - sigterm
        wait_until("haproxy takes node-b out", lambda: self.haproxy.up() == {"node-a"}, 10, 0.05)
        # A new INVITE straight to B is refused 503 (the dispatcher would fail over).
        client = sipclient.SipClient(b_port)
        try:
            sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
            body, content_type = sipclient.multipart(sdp, sipclient.siprec_metadata(
                "sess-drain", "grp-drain", [("c", "Customer", "sip:+15550100@example.com", ["1"]),
                                            ("a", "Agent", "sip:agent-9@example.com", ["2"])]))
            refused = client.invite(body, content_type, extra_headers=(
                "Require: siprec", "X-Contact-Id: drain-direct"))
            self.assertEqual(refused.status, 503)
        finally:
            client.close()
        # New sessions through Kamailio: all on A.
        self.finish(self.callgen("--sessions", "3", "--rate", "6", "--duration", "2",
                                 "--contact-id-prefix", "while-draining"))
        for i in range(1, 4):
            self.assertEqual(self.holder("while-draining-%d" % i), "A")
        # Failover on 5xx: B set active in the dispatcher again, as before its
        # first probe after the SIGTERM; the INVITE it gets is refused 503 and
        # Kamailio sends it on to A at once.
        def refused_draining():
            return metric(parse_metrics(node_b.metrics()), "callrec_siprec_refused_total",
                          reason="draining")
        before = refused_draining()
        for attempt in range(3):
            subprocess.run(["kamcmd", "-s", self.kamailio.ctl, "dispatcher.set_state", "a", "1",
                            "sip:127.0.0.1:%d" % b_port], check=True, capture_output=True)
            prefix = "fo503-%d" % attempt
            self.finish(self.callgen("--sessions", "2", "--rate", "20", "--duration", "2",
                                     "--contact-id-prefix", prefix))
            for i in (1, 2):
                self.assertEqual(self.holder("%s-%d" % (prefix, i)), "A")
            if refused_draining() > before:
                break
        else:
            self.fail("no INVITE reached B while it was set active")
        self.assertEqual(node_b.v1("GET", "/v1/contacts/drain-direct").status, 404)
        # B's live call goes on to its end, whole; then B exits 0 by itself.
        session = self.finish(live_proc)["sessions"][0]
        self.assertEqual([s["status"] for s in session["sip"]], [200, 200, 200, 200], session)
        _, meta = self.assertWhole(node_b, live_id, 8.0, path=live_path)
        ops = [e["Operation"] for e in meta["AuditTrail"]]
        self.assertIn("PAUSE", ops)
        self.assertIn("RESUME", ops)
        code = node_b.proc.wait(DRAIN_TIMEOUT)
        exited = time.monotonic() - sigterm
        self.assertEqual(code, 0, node_b.logs())
        self.assertIn("server.drained", node_b.stderr_text() + node_b.stdout_text())
        sys.stderr.write("\ntest_cluster: SIGTERM of B: dispatcher marked it inactive after "
                         "%.2f s; its live call ended and it exited 0 after %.2f s\n"
                         % (noticed, exited))

    def _holder_or_none(self, contact_id):
        for name, node in self.nodes.items():
            if node.running and node.v1("GET", "/v1/contacts/%s" % contact_id).status == 200:
                return name
        return None


class DrainBoundsTest(unittest.TestCase):
    """One node, no dispatcher: --drain-timeout bounds the drain, a second
    signal cuts it short, and without live calls SIGTERM stops at once."""

    def node(self, timeout):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        node = ServerProcess(name="drain", log_level="info", extra_args=[
            "--rtp-ports", "%d-%d" % (RTP_BASE + 2260, RTP_BASE + 2279),
            "--drain-timeout", str(timeout)])
        self.addCleanup(node.cleanup_files)
        self.addCleanup(node.close)
        return node.start()

    def test_idle_node_stops_at_once(self):
        node = self.node(60)
        begun = time.monotonic()
        self.assertEqual(node.stop(timeout=5), 0)
        self.assertLess(time.monotonic() - begun, 2.0)

    def test_timeout_bounds_the_drain(self):
        node = self.node(2)
        node.create_contact("live-1")  # never ended: the drain waits for it
        begun = time.monotonic()
        node.proc.send_signal(signal.SIGTERM)
        self.assertEqual(node.proc.wait(10), 0)
        took = time.monotonic() - begun
        self.assertGreaterEqual(took, 1.9)
        self.assertLess(took, 5.0)
        log = node.stderr_text() + node.stdout_text()
        self.assertIn("server.drain_timeout", log)
        self.assertRegex(log, r'"waiting_for":\s*"calls"')

    def test_second_signal_stops_at_once(self):
        node = self.node(60)
        node.create_contact("live-2")
        node.proc.send_signal(signal.SIGTERM)
        wait_until("draining", lambda: node.v1("GET", "/healthz").status == 503, 5)
        self.assertIsNone(node.proc.poll())
        begun = time.monotonic()
        node.proc.send_signal(signal.SIGINT)
        self.assertEqual(node.proc.wait(10), 0)
        self.assertLess(time.monotonic() - begun, 3.0)
        node.stop()  # (exited: closes its log files)
        # Stopped as before the drain existed: the live contact ends at the next start.
        node.start()
        self.assertEqual(node.state("live-2"), "NOT_STARTED")


class DegradedOptionsTest(unittest.TestCase):
    """OPTIONS say what /healthz says: a node whose data directory's disk is full
    answers 503 naming it (so a dispatcher sends sessions elsewhere), and 200
    again once space is freed."""

    def test_full_disk_answers_503_then_200(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        node = ServerProcess(name="degraded", extra_args=[
            "--rtp-ports", "%d-%d" % (RTP_BASE + 2280, RTP_BASE + 2299)])
        self.addCleanup(node.cleanup_files)
        os.makedirs(node.data_dir)
        disk = faultfs.Tmpfs("8m")
        try:
            disk.mount(node.data_dir)
        except PermissionError as error:
            self.skipTest(str(error))
        self.addCleanup(disk.unmount)
        self.addCleanup(node.close)
        node.start()

        def options():
            client = sipclient.SipClient(node.sip_port)
            try:
                return client.request("OPTIONS", timeout=3)
            finally:
                client.close()
        self.assertEqual(options().status, 200)
        filler = faultfs.fill(node.data_dir)
        refused = options()
        self.assertEqual(refused.status, 503)
        self.assertIn("disk full", refused.header("Warning", ""))
        self.assertEqual(node.v1("GET", "/healthz").json()["Status"], "degraded")
        os.remove(filler)
        self.assertEqual(options().status, 200)


if __name__ == "__main__":
    unittest.main()
