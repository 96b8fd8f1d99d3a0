"""The hostile-input suite: the corpus of hostile.py (malformed and oversized
HTTP requests, SIP messages and RTP packets, plus the fuzzers' seeds) is
replayed against a running callrec-server while a good SIPREC call records.

The server must answer or refuse each input (never hang on one), keep serving
(/healthz, the Connect API, new SIP sessions), leak no descriptor or port, and
record the good call exactly: its tones on the right channel, every good
packet counted, no loss, the hostile datagrams sent to its ports refused.
"""

import json
import os
import socket
import subprocess
import threading
import time
import unittest

import audio
import hostile
import rtp
import sipclient
from harness import SERVER_BIN, ServerTestCase, http_call

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")
# RFC 9112 5.2 lets a server replace obsolete line folding with spaces and go on.
MAY_SUCCEED = {"obsolete line folding"}
GOOD_SECONDS = 6
PACKETS = GOOD_SECONDS * 50


def read_until_closed_or_answered(sock, timeout):
    """What the server sends back before it closes the connection or goes quiet
    for `timeout` s: enough to see a status line."""
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < 65536:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                break
    except (socket.timeout, ConnectionError):
        pass
    return data


class HostileInputTest(ServerTestCase):
    server_kwargs = {"extra_args": ["--rtp-ports", "%d-%d" % (RTP_BASE + 1200, RTP_BASE + 1239),
                                    "--auto-record", "ALL", "--agent-match", "agent"],
                     "name": "hostile"}

    def setUp(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        super().setUp()

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.server.proc.pid))

    def server_sockets(self):
        out = subprocess.run(["ss", "-tuanp"], capture_output=True, text=True).stdout
        return [l for l in out.splitlines() if "pid=%d," % self.server.proc.pid in l]

    def sip_tcp_connections(self):
        """Accepted TCP connections on the server's SIP port."""
        port = self.server.sip_port
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    lines = f.readlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].split(":")[1], 16)
                if local_port == port and fields[3] != "0A":  # 0A: LISTEN
                    count += 1
        return count

    def rss_kib(self):
        with open("/proc/%d/status" % self.server.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def start_good_call(self, contact_id, session):
        sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
        meta = sipclient.siprec_metadata(session, "grp-" + session, [
            (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]), (AGENT[0], AGENT[1], AGENT[2], ["2"])])
        body, content_type = sipclient.multipart(sdp, meta)
        client = sipclient.SipClient(self.server.sip_port, "udp")
        self.addCleanup(client.close)
        response = client.invite(body, content_type,
                                 extra_headers=("Require: siprec", "X-Contact-Id: " + contact_id))
        self.assertEqual(response.status, 200, response.header("Warning"))
        ports, _, _ = sipclient.answered_ports(response.body)
        return client, ports

    def send_http_corpus(self, port):
        answered = closed = 0
        for name, data in hostile.http_corpus():
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                try:
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)
                except OSError:  # refused and closed while we were still sending
                    pass
                reply = read_until_closed_or_answered(sock, 10)
            took = time.monotonic() - started
            self.assertLess(took, 10, "%s: no answer and no close within 10 s" % name)
            if reply.startswith(b"HTTP/1.1 "):
                status = int(reply[9:12])
                self.assertTrue(400 <= status < 600 or name.startswith("fuzz seed") or
                                name in MAY_SUCCEED,
                                "%s: answered %d" % (name, status))
                self.assertNotIn(b"root:x:0:0", reply, "%s: served a system file" % name)
                answered += 1
            else:
                closed += 1
        return answered, closed

    def send_sip_corpus(self, port):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        for _, data in hostile.sip_corpus():
            if len(data) <= 65000:
                udp.sendto(data, ("127.0.0.1", port))
            # The same over TCP, where sizes are not bounded by a datagram.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                try:
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)
                except OSError:  # refused and closed while we were still sending
                    pass
                read_until_closed_or_answered(sock, 2)
            time.sleep(0.005)

    def test_corpus_against_a_recording_call(self):
        baseline_fds = self.fds()
        invalid_before = self.invalid_rtp()
        rss_before = self.rss_kib()
        client, ports = self.start_good_call("hostile-good", "sess-good")
        victim, victim_ports = self.start_good_call("hostile-victim", "sess-victim")

        # The good call: 600 Hz customer, 1400 Hz agent, paced, on its own threads.
        sock = rtp.udp_socket()
        self.addCleanup(sock.close)
        t0 = time.perf_counter() + 0.05
        legs = []
        for label, freq, ssrc in (("1", 600, 0x5101), ("2", 1400, 0x5102)):
            legs.append(threading.Thread(target=rtp.send_stream, args=(
                sock, ("127.0.0.1", ports[label]), lambda i, f=freq: rtp.tone_packet(f, i),
                "PCMU", 100, 1000, ssrc, PACKETS), kwargs={"t0": t0}))
        for leg in legs:
            leg.start()
        self.addCleanup(lambda: [leg.join() for leg in legs])

        # Meanwhile, everything hostile.
        http_answered, http_closed = self.send_http_corpus(self.server.port)
        self.send_sip_corpus(self.server.sip_port)
        junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(junk.close)
        invalid = hostile.rtp_invalid_corpus()
        for _, data in invalid:
            for label in ("1", "2"):
                junk.sendto(data, ("127.0.0.1", ports[label]))
        for data in hostile.rtp_strange_valid():
            for label in ("1", "2"):
                junk.sendto(data, ("127.0.0.1", victim_ports[label]))
            time.sleep(0.001)
        # Idle connections that never send a byte must not stop anyone.
        idle = [socket.create_connection(("127.0.0.1", self.server.port)) for _ in range(50)]
        self.assertEqual(http_call(self.server.port, "GET", "/healthz", timeout=5).status, 200,
                         "the server still answers with 50 idle connections open")
        for s in idle:
            s.close()

        for leg in legs:
            leg.join()
        time.sleep(0.2)
        self.assertEqual(client.bye().status, 200)
        self.assertEqual(victim.bye().status, 200)

        # Still serving: health, the Connect API, and a new SIPREC session.
        self.assertEqual(http_call(self.server.port, "GET", "/healthz").status, 200)
        self.assertEqual(self.server.connect_call("START", "hostile-after-missing").status, 404)
        after, _ = self.start_good_call("hostile-after", "sess-after")
        self.assertEqual(after.bye().status, 200)

        meta = self.wait_metadata("hostile-good")
        counters = meta["Counters"]
        self.assertEqual(counters["Packets"], 2 * PACKETS, counters)
        self.assertEqual((counters["Lost"], counters["Late"], counters["Gated"]), (0, 0, 0), counters)
        self.assertEqual(self.invalid_rtp() - invalid_before, 2 * len(invalid),
                         "every non-RTP datagram refused and counted")
        wav = audio.read_wav(meta["_wav"])
        # The call lasts until its BYE (after the corpus); the tones are its first seconds.
        self.assertGreaterEqual(wav.duration, GOOD_SECONDS)
        customer, agent = wav.left, wav.right
        for channel, freq, side in ((customer, 600, "customer (left)"), (agent, 1400, "agent (right)")):
            spans = audio.tone_spans(channel, freq, min_duration=0.5)
            self.assertEqual(len(spans), 1, "%s tone in one piece: %s" % (side, spans))
            self.assertAlmostEqual(spans[0][1] - spans[0][0], GOOD_SECONDS, delta=0.1, msg=side)
        self.assertLess(audio.max_tone_amplitude(customer, 1400), 300)
        self.assertLess(audio.max_tone_amplitude(agent, 600), 300)
        self.assertTrue(self.wait_metadata("hostile-victim")["Complete"])

        # Nothing leaked: descriptors back to where they were, bounded memory. The
        # SIP TCP connections that sent garbage are kept by sofia-sip until they
        # have been idle for 2 minutes (then closed: SipUserAgent's kIdleMs), so
        # they are counted apart: at most one per hostile TCP input.
        # A hostile INVITE the server accepted but that is never ACKed ends when its
        # 200 stops being retransmitted (timer H, 32 s): its ports come back then.
        deadline = time.monotonic() + 45
        while any(c["State"] != "ENDED" for c in self.server.list_contacts()):
            self.assertLess(time.monotonic(), deadline, "contacts never ended: %s" % [
                (c["ContactId"], c["State"]) for c in self.server.list_contacts()])
            time.sleep(0.5)
        deadline = time.monotonic() + 5
        while self.fds() - self.sip_tcp_connections() > baseline_fds and time.monotonic() < deadline:
            time.sleep(0.1)
        sip_tcp = self.sip_tcp_connections()
        self.assertLessEqual(self.fds() - sip_tcp, baseline_fds,
                             "descriptors leaked: %s" % self.server_sockets())
        self.assertLessEqual(sip_tcp, len(hostile.sip_corpus()))
        rss_growth_mib = (self.rss_kib() - rss_before) / 1024
        print("\nhostile corpus: HTTP %d answered with an error, %d closed; SIP %d inputs x2 (UDP, "
              "TCP); RTP %d invalid x2, %d strange; server RSS +%.1f MiB"
              % (http_answered, http_closed, len(hostile.sip_corpus()), len(invalid),
                 len(hostile.rtp_strange_valid()), rss_growth_mib))
        self.assertLess(rss_growth_mib, 64, "memory grew by %.1f MiB" % rss_growth_mib)

    def invalid_rtp(self):
        for line in self.server.metrics().splitlines():
            if line.startswith("callrec_rtp_invalid_packets_total "):
                return int(line.split()[1])
        self.fail("no callrec_rtp_invalid_packets_total in /metrics")

    def wait_metadata(self, contact_id, timeout=10):
        path = self.server.get_contact(contact_id)["Recording"]["Path"]
        json_path = path[:-len(".wav")] + ".json"
        deadline = time.monotonic() + timeout
        meta = {}
        while time.monotonic() < deadline:
            try:
                with open(json_path) as f:
                    meta = json.load(f)
                if meta.get("Complete") is not None and meta.get("EndTime"):
                    meta["_wav"] = path
                    return meta
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        self.fail("%s: no final metadata: %s" % (contact_id, meta))


if __name__ == "__main__":
    unittest.main()
