"""SIPREC against SIPp on loopback: callrec-callgen against SIPp as the
recorder (recorder_uas.xml), and SIPp as the recording client (siprec_uac.xml)
against the same. RTP goes to a UDP counter in this process.

    CALLREC_CALLGEN=build/src/callrec-callgen python3 -m unittest -v tests/sipp/test_siprec_sipp.py

Needs `sipp` (Debian sip-tester). Run from anywhere: paths are resolved from
this file. Timings are never asserted; packet counts are compared with what
callgen says it sent, and audio with the WAV it sent.
"""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from make_agent_pcap import wav_data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AUDIO = os.path.join(ROOT, "tests", "fixtures", "audio")
CALLGEN = os.environ.get("CALLREC_CALLGEN", os.path.join(ROOT, "build", "src", "callrec-callgen"))
SIPP = shutil.which("sipp")


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RtpCounter:
    """Two loopback UDP ports (customer, agent) recording every RTP packet."""

    def __init__(self):
        # Adjacent even ports, as a recorder gives them: SIPp's play_pcap_audio
        # reaches the second m= line only as first port + 2.
        self.sockets = []
        while not self.sockets:
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1] & ~1
            probe.close()
            try:
                for port in (base, base + 2):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self.sockets.append(s)
                    s.bind(("127.0.0.1", port))
                    s.settimeout(0.05)
            except OSError:
                for s in self.sockets:
                    s.close()
                self.sockets = []
        self.ports = [s.getsockname()[1] for s in self.sockets]
        self.packets = {port: [] for port in self.ports}
        self.stopping = False
        self.threads = [threading.Thread(target=self._run, args=(s,)) for s in self.sockets]
        for t in self.threads:
            t.start()

    def _run(self, sock):
        port = sock.getsockname()[1]
        while not self.stopping:
            try:
                data = sock.recv(2048)
            except socket.timeout:
                continue
            if len(data) < 12:
                continue
            b1, seq, ts, ssrc = struct.unpack("!BHII", data[1:12])
            self.packets[port].append({"marker": bool(b1 & 0x80), "pt": b1 & 0x7F, "seq": seq,
                                       "ts": ts, "ssrc": ssrc, "payload": data[12:]})

    def stop(self):
        time.sleep(0.2)  # the last packets in flight
        self.stopping = True
        for t in self.threads:
            t.join()
        for s in self.sockets:
            s.close()

    def customer(self):
        return self.packets[self.ports[0]]

    def agent(self):
        return self.packets[self.ports[1]]


class Recorder:
    """SIPp as a SIPREC recorder (recorder_uas.xml) for `calls` calls."""

    def __init__(self, test, rtp, calls=1, transport="udp"):
        self.dir = tempfile.mkdtemp(prefix="sipp-uas-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.port = free_port(socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM)
        self.log = os.path.join(self.dir, "messages.log")
        args = [SIPP, "-sf", os.path.join(HERE, "recorder_uas.xml"), "-i", "127.0.0.1",
                "-p", str(self.port), "-m", str(calls), "-key", "cport", str(rtp.ports[0]),
                "-key", "aport", str(rtp.ports[1]), "-t", "t1" if transport == "tcp" else "u1",
                "-nostdin", "-trace_msg", "-message_file", self.log, "-timeout", "60s",
                "-timeout_error"]
        self.errors = os.path.join(self.dir, "stderr.txt")
        with open(self.errors, "w") as errors:
            self.process = subprocess.Popen(args, cwd=self.dir, stdout=subprocess.DEVNULL,
                                            stderr=errors)
        test.addCleanup(self._kill)
        time.sleep(0.3)  # bound and listening

    def _kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wait(self):
        """SIPp's exit code: 0 when every call passed the scenario's checks."""
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._kill()
            return -1

    def requests(self):
        """Each request SIPp received: (first line, headers+body text)."""
        with open(self.log, errors="replace") as f:
            text = f.read()
        out = []
        for block in re.split(r"(?m)^-{20,}.*$", text):
            head, _, message = block.strip("\n").partition("\n")
            if "message received" not in head:
                continue
            message = message.lstrip("\n").replace("\r", "")
            first = message.split("\n", 1)[0].strip()
            if not first.startswith("SIP/2.0"):
                out.append((first, message))
        return out


def callgen(*args, timeout=60):
    result = subprocess.run([CALLGEN, *args], capture_output=True, text=True, timeout=timeout)
    return result


@unittest.skipUnless(SIPP, "sipp (Debian sip-tester) is not installed")
@unittest.skipUnless(os.access(CALLGEN, os.X_OK), "callrec-callgen is not built: set CALLREC_CALLGEN")
class CallgenAgainstSipp(unittest.TestCase):

    def place(self, *args, calls=1, transport="udp"):
        rtp = RtpCounter()
        recorder = Recorder(self, rtp, calls, transport)
        run = callgen("--target", "127.0.0.1:%d" % recorder.port, "--transport", transport,
                      "--json", *args)
        sipp_status = recorder.wait()
        rtp.stop()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        with open(recorder.errors) as errors:
            self.assertEqual(sipp_status, 0, errors.read())
        return json.loads(run.stdout), rtp, recorder

    def assert_stream(self, packets, sent):
        """What arrived is what callgen says it sent: same count, one SSRC,
        consecutive sequence numbers, 160-byte payloads."""
        self.assertEqual(len(packets), sent["packets"])
        self.assertEqual(sum(len(p["payload"]) for p in packets), sent["bytes"])
        self.assertEqual(len({p["ssrc"] for p in packets}), 1)
        for a, b in zip(packets, packets[1:]):
            self.assertEqual((a["seq"] + 1) & 0xFFFF, b["seq"])
            self.assertEqual(len(b["payload"]), 160)

    def test_one_call_both_streams_then_bye(self):
        report, rtp, recorder = self.place("--duration", "2", "--contact-id", "C-1")
        (session,) = report["sessions"]
        self.assertTrue(session["ok"])
        self.assertEqual([s["request"] for s in session["sip"]], ["INVITE", "BYE"])
        self.assertEqual([s["status"] for s in session["sip"]], [200, 200])
        customer, agent = session["streams"]
        self.assertEqual(customer["destination"], "127.0.0.1:%d" % rtp.ports[0])
        self.assertEqual(agent["destination"], "127.0.0.1:%d" % rtp.ports[1])
        self.assert_stream(rtp.customer(), customer)
        self.assert_stream(rtp.agent(), agent)
        self.assertGreaterEqual(customer["packets"], 95)  # 2 s of 20 ms packets
        self.assertEqual(rtp.customer()[0]["pt"], 0)
        self.assertTrue(rtp.customer()[0]["marker"])
        for p in rtp.customer()[1:]:
            self.assertFalse(p["marker"])

        invite = recorder.requests()[0][1]
        self.assertIn("Require: siprec", invite)
        self.assertRegex(invite, r"Contact: <sip:callgen@127\.0\.0\.1:\d+;transport=udp>;\+sip\.src")
        self.assertIn("X-Contact-Id: C-1", invite)
        self.assertIn("X-Initial-Contact-Id: C-1", invite)
        self.assertIn("Content-Type: multipart/mixed;boundary=", invite)
        self.assertIn("Content-Disposition: recording-session", invite)
        self.assertIn("Call-ID: " + session["call_id"], invite)
        self.assertIn('session_id="%s"' % session["session_id"], invite)
        self.assertIn('group_id="%s"' % session["group_id"], invite)
        self.assertEqual(invite.count("a=sendonly"), 2)
        self.assertEqual(invite.count("<participant "), 2)

    def test_wav_audio_lands_at_its_offsets(self):
        customer_wav = os.path.join(AUDIO, "customer_ulaw.wav")
        agent_wav = os.path.join(AUDIO, "agent_ulaw.wav")
        report, rtp, _ = self.place("--duration", "2.5", "--customer-wav", customer_wav,
                                    "--agent-wav", agent_wav)
        for packets, path in ((rtp.customer(), customer_wav), (rtp.agent(), agent_wav)):
            data = wav_data(path)
            first_ts = packets[0]["ts"]
            for p in packets:
                slot = ((p["ts"] - first_ts) & 0xFFFFFFFF) // 160
                self.assertEqual(p["payload"], data[slot * 160:(slot + 1) * 160], "slot %d" % slot)

    def test_pcma_is_transcoded(self):
        report, rtp, _ = self.place("--duration", "1", "--codec", "PCMA", "--customer-wav",
                                    os.path.join(AUDIO, "customer_ulaw.wav"))
        self.assertEqual({p["pt"] for p in rtp.customer()}, {8})
        self.assertEqual({p["pt"] for p in rtp.agent()}, {8})

    def test_agent_joins_late_and_the_client_pauses(self):
        report, rtp, recorder = self.place("--duration", "4", "--agent-joins-after", "1",
                                           "--client-pause", "2-3")
        (session,) = report["sessions"]
        self.assertEqual([s["request"] for s in session["sip"]],
                         ["INVITE", "re-INVITE (agent joins)", "re-INVITE (pause, a=inactive)",
                          "re-INVITE (resume, a=sendonly)", "BYE"])
        self.assertTrue(all(s["status"] == 200 for s in session["sip"]))
        customer, agent = session["streams"]
        self.assert_stream(rtp.customer(), customer)
        self.assert_stream(rtp.agent(), agent)
        # The customer skipped the paused second: one timestamp gap of about
        # 50 slots, marked; the agent sent from 1 s, also with the gap.
        for packets in (rtp.customer(), rtp.agent()):
            gaps = [((b["ts"] - a["ts"]) & 0xFFFFFFFF) // 160
                    for a, b in zip(packets, packets[1:]) if b["ts"] - a["ts"] != 160]
            self.assertEqual(len(gaps), 1, gaps)
            self.assertGreaterEqual(gaps[0], 45)
            self.assertEqual(sum(p["marker"] for p in packets), 2)
        self.assertLess(agent["packets"], customer["packets"])

        invites = [block for line, block in recorder.requests() if line.startswith("INVITE")]
        self.assertEqual(len(invites), 4)
        self.assertEqual(invites[0].count("<participant "), 1)  # the agent has not joined
        self.assertEqual(invites[0].count("<stream "), 2)       # but its m-line is there
        self.assertEqual(invites[1].count("<participant "), 2)
        self.assertEqual(invites[2].count("a=inactive"), 2)
        self.assertEqual(invites[3].count("a=sendonly"), 2)

    def test_transfer_opens_a_second_session_in_the_same_group(self):
        report, rtp, recorder = self.place("--duration", "3", "--transfer-after", "1.5",
                                           "--contact-id", "T-1", "--transfer-agent-aor",
                                           "sip:agent9@cc.example", calls=2)
        first, second = report["sessions"]
        self.assertFalse(first["transfer"])
        self.assertTrue(second["transfer"])
        self.assertEqual(first["group_id"], second["group_id"])
        self.assertNotEqual(first["session_id"], second["session_id"])
        self.assertNotEqual(first["call_id"], second["call_id"])
        self.assertEqual(second["contact_id"], "T-1-transfer")
        self.assertEqual(first["initial_contact_id"], "T-1")
        self.assertEqual(second["initial_contact_id"], "T-1")
        requests = [(line.split()[0], block) for line, block in recorder.requests()]
        order = [(method, first["call_id"] in block) for method, block in requests
                 if method in ("INVITE", "BYE")]
        # Second INVITE before the first session's BYE: the call is never unrecorded.
        self.assertEqual(order, [("INVITE", True), ("INVITE", False), ("BYE", True), ("BYE", False)])
        second_invite = requests[[m for m, _ in requests].index("INVITE", 1)][1]
        self.assertIn("sip:agent9@cc.example", second_invite)
        self.assertIn("X-Initial-Contact-Id: T-1", second_invite)
        total = sum(s["packets"] for session in report["sessions"] for s in session["streams"])
        self.assertEqual(len(rtp.customer()) + len(rtp.agent()), total)

    def test_tcp(self):
        report, rtp, recorder = self.place("--duration", "1", transport="tcp")
        self.assertTrue(report["sessions"][0]["ok"])
        self.assertIn("transport=tcp", recorder.requests()[0][1])
        self.assert_stream(rtp.customer(), report["sessions"][0]["streams"][0])

    def test_several_calls_at_a_rate(self):
        report, rtp, _ = self.place("--duration", "1", "--sessions", "4", "--rate", "8",
                                    "--contact-id-prefix", "R", calls=4)
        self.assertEqual([s["contact_id"] for s in report["sessions"]], ["R-1", "R-2", "R-3", "R-4"])
        self.assertEqual(len({s["group_id"] for s in report["sessions"]}), 4)
        self.assertEqual(len({p["ssrc"] for p in rtp.customer()}), 4)
        self.assertEqual(len(rtp.customer()),
                         sum(s["streams"][0]["packets"] for s in report["sessions"]))

    def test_failures_exit_non_zero_with_the_reason(self):
        # Nothing listens: the INVITE cannot be delivered.
        port = free_port()
        run = callgen("--target", "127.0.0.1:%d" % port, "--duration", "1")
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("FAILED: INVITE answered 503", run.stdout)
        # SIPp's stock UAS answers one unlabelled m-line: the agent's stream is missing.
        rtp = RtpCounter()
        self.addCleanup(rtp.stop)
        uas_port = free_port()
        uas = subprocess.Popen([SIPP, "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port),
                                "-m", "1", "-nostdin", "-mp", str(free_port())],
                               cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: uas.poll() is None and (uas.kill(), uas.wait()))
        time.sleep(0.3)
        run = callgen("--target", "127.0.0.1:%d" % uas_port, "--duration", "1", "--json")
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        (session,) = json.loads(run.stdout)["sessions"]
        self.assertIn("label 2", session["failure"])
        self.assertEqual(session["sip"][-1]["request"], "BYE")


@unittest.skipUnless(SIPP, "sipp (Debian sip-tester) is not installed")
class SippClientAgainstSippRecorder(unittest.TestCase):
    """tests/sipp/siprec_uac.xml, checked against the SIPp recorder."""

    def test_uac_scenario_sends_siprec_and_plays_both_labels(self):
        rtp = RtpCounter()
        recorder = Recorder(self, rtp)
        run = subprocess.run([SIPP, "-sf", os.path.join(HERE, "siprec_uac.xml"), "-i", "127.0.0.1",
                              "-p", str(free_port()), "-m", "1", "-d", "2000", "-s", "recorder",
                              "-nostdin", "-timeout", "30s", "-timeout_error",
                              "127.0.0.1:%d" % recorder.port],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
        sipp_status = recorder.wait()
        rtp.stop()
        self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr)
        self.assertEqual(sipp_status, 0)
        invite = recorder.requests()[0][1]
        self.assertIn("Require: siprec", invite)
        self.assertIn(";+sip.src", invite)
        self.assertEqual(invite.count("a=label:"), 2)
        agent = b"".join(p["payload"] for p in rtp.agent())
        self.assertGreater(len(agent), 50 * 160, "the agent's capture reached label 2")
        agent_data = wav_data(os.path.join(AUDIO, "agent_ulaw.wav"))
        self.assertEqual(agent, agent_data[:len(agent)])
        packets = rtp.customer()
        self.assertGreater(len(packets), 50)
        data = wav_data(os.path.join(AUDIO, "customer_ulaw.wav"))
        stream = b"".join(p["payload"] for p in packets)
        # SIPp plays the headerless copy of the WAV's samples, in order.
        self.assertEqual(stream[:len(data)], data[:len(stream)])


if __name__ == "__main__":
    unittest.main()
