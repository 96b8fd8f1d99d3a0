"""callrec-callgen --rtp-only: RTP with no SIP to the destinations a file
lists, as bench/media drives it against another media server. Real UDP
receivers on 127.0.0.1 (and ::1 where the host has it) check what arrives:
every packet of every stream once, in order, 20 ms of G.711 each, from the
source port the report names; batched (io_uring) and one sendto a packet alike.
"""

import json
import os
import resource
import select
import socket
import struct
import subprocess
import tempfile
import threading
import unittest

from harness import BUILD_DIR

CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")
RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
PORTS = range(RTP_BASE + 3400, RTP_BASE + 3600)  # this module's share


class Receivers:
    """Bound UDP sockets that read every datagram until stopped."""

    def __init__(self, family, host, count, first):
        self.sockets = []
        self.packets = {}
        for port in PORTS[first:]:
            if len(self.sockets) == count:
                break
            s = socket.socket(family, socket.SOCK_DGRAM)
            try:
                s.bind((host, port))
            except OSError:
                s.close()
                continue
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.setblocking(False)
            self.sockets.append(s)
            self.packets[port] = []
        if len(self.sockets) < count:
            self.close()
            raise unittest.SkipTest("not enough free ports in %d-%d" % (PORTS[0], PORTS[-1]))
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def ports(self):
        return [s.getsockname()[1] for s in self.sockets]

    def _run(self):
        while self.running:
            readable, _, _ = select.select(self.sockets, [], [], 0.05)
            for s in readable:
                self._read_waiting(s)

    def _read_waiting(self, s):
        while True:
            try:
                data, source = s.recvfrom(2048)
            except BlockingIOError:
                break
            self.packets[s.getsockname()[1]].append((data, source[1]))

    def stop(self):
        self.running = False
        self.thread.join()
        for s in self.sockets:  # what arrived after the last select
            self._read_waiting(s)

    def close(self):
        for s in self.sockets:
            s.close()


def rtp(data):
    first, marker_pt, sequence, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
    return {"version": first >> 6, "pt": marker_pt & 0x7F, "sequence": sequence,
            "timestamp": timestamp, "ssrc": ssrc, "payload": len(data) - 12}


class RtpOnlyTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(CALLGEN_BIN):
            self.skipTest("no %s" % CALLGEN_BIN)
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def calls_file(self, text):
        path = os.path.join(self.dir.name, "calls.txt")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_callgen(self, *args):
        proc = subprocess.run([CALLGEN_BIN] + list(args), capture_output=True, text=True,
                              timeout=60)
        return proc

    def send_and_check(self, family, host, calls, duration, batch, codec="PCMU"):
        receivers = Receivers(family, host, 2 * calls, 0 if family == socket.AF_INET else 100)
        self.addCleanup(receivers.close)
        ports = receivers.ports()
        bracket = "[%s]" % host if family == socket.AF_INET6 else host
        lines = ["# name customer agent", ""]
        for i in range(calls):
            lines.append("call-%d %s:%d\t%s:%d" % (i + 1, bracket, ports[2 * i], bracket,
                                                  ports[2 * i + 1]))
        path = self.calls_file("\n".join(lines) + "\n")
        proc = self.run_callgen("--rtp-only", path, "--duration", str(duration), "--rate", "20",
                                "--codec", codec, "--send-batch", batch, "--json")
        receivers.stop()
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        report = json.loads(proc.stdout)
        slots = round(duration * 50)
        self.assertEqual(report["failed_sessions"], 0)
        self.assertEqual(report["packets"], 2 * calls * slots)
        if batch == "uring":
            self.assertEqual(report["send_batch"], "uring")
        if batch == "off":
            self.assertEqual(report["send_batch"], "off")
        self.assertEqual(len(report["sessions"]), calls)
        ssrcs = set()
        for i, session in enumerate(report["sessions"]):
            self.assertEqual(session["call_id"], "call-%d" % (i + 1))
            self.assertEqual(session["contact_id"], "call-%d" % (i + 1))
            self.assertEqual(session["sip"], [])
            self.assertTrue(session["ok"])
            self.assertEqual([s["role"] for s in session["streams"]], ["customer", "agent"])
            for k, stream in enumerate(session["streams"]):
                port = ports[2 * i + k]
                self.assertEqual(stream["destination"], "%s:%d" % (bracket, port))
                self.assertEqual(stream["packets"], slots)
                self.assertEqual(stream["send_errors"], 0)
                got = receivers.packets[port]
                self.assertEqual(len(got), slots, "call %d stream %d" % (i + 1, k))
                self.assertEqual({source for _, source in got}, {stream["local_port"]})
                headers = [rtp(data) for data, _ in got]
                self.assertEqual({h["version"] for h in headers}, {2})
                self.assertEqual({h["pt"] for h in headers}, {0 if codec == "PCMU" else 8})
                self.assertEqual({h["payload"] for h in headers}, {160})
                self.assertEqual(len({h["ssrc"] for h in headers}), 1)
                ssrcs |= {headers[0]["ssrc"]}
                for n, h in enumerate(headers):
                    self.assertEqual(h["sequence"], (headers[0]["sequence"] + n) & 0xFFFF)
                    self.assertEqual(h["timestamp"],
                                     (headers[0]["timestamp"] + 160 * n) & 0xFFFFFFFF)
        self.assertEqual(len(ssrcs), 2 * calls)
        return report

    def test_every_packet_arrives_once_in_order_batched(self):
        self.send_and_check(socket.AF_INET, "127.0.0.1", calls=20, duration=1.0, batch="auto")

    def test_every_packet_arrives_once_in_order_one_sendto_a_packet(self):
        report = self.send_and_check(socket.AF_INET, "127.0.0.1", calls=5, duration=0.6,
                                     batch="off", codec="PCMA")
        self.assertEqual(report["send_batch"], "off")

    def test_ipv6(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no ::1 here")
        self.send_and_check(socket.AF_INET6, "::1", calls=2, duration=0.4, batch="auto")

    def test_text_report_names_each_call(self):
        receivers = Receivers(socket.AF_INET, "127.0.0.1", 2, 60)
        self.addCleanup(receivers.close)
        a, b = receivers.ports()
        path = self.calls_file("desk-7 127.0.0.1:%d 127.0.0.1:%d\n" % (a, b))
        proc = self.run_callgen("--rtp-only", path, "--duration", "0.2")
        receivers.stop()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Call-ID desk-7", proc.stdout)
        self.assertIn("customer label 1", proc.stdout)
        self.assertIn("-> 127.0.0.1:%d  10 packets" % a, proc.stdout)
        self.assertIn("1 sessions, 0 failed, 20 packets", proc.stdout)

    def test_bad_file_is_a_usage_error_naming_the_line(self):
        path = self.calls_file("# calls\ncall-1 127.0.0.1:5000 127.0.0.1:5002\n"
                               "call-2 127.0.0.1:5004 localhost:5006\n")
        proc = self.run_callgen("--rtp-only", path, "--duration", "1")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("line 3: agent destination 'localhost:5006'", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_too_few_file_descriptors_are_said(self):
        """A hard limit callgen cannot raise: it says so, then stops at the first
        socket refused."""
        lines = ["c%d 127.0.0.1:%d 127.0.0.1:%d" % (i, PORTS[0], PORTS[1]) for i in range(60)]
        path = self.calls_file("\n".join(lines) + "\n")
        proc = subprocess.run(
            [CALLGEN_BIN, "--rtp-only", path, "--duration", "1", "--local-ip", "127.0.0.1"],
            capture_output=True, text=True, timeout=60,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
        self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
        self.assertIn("60 calls need about 184 file descriptors; RLIMIT_NOFILE allows 64",
                      proc.stderr)
        self.assertIn("Too many open files", proc.stderr)

    def test_sip_only_options_and_missing_target(self):
        proc = self.run_callgen("--duration", "1")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--target is required", proc.stderr)
        path = self.calls_file("a 127.0.0.1:5000 127.0.0.1:5002\n")
        proc = self.run_callgen("--rtp-only", path, "--transfer-after", "1")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("needs SIP", proc.stderr)


if __name__ == "__main__":
    unittest.main()
