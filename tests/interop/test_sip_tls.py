"""SIPREC over TLS with SRTP media keyed by SDES (RFC 4568): the recording
client is Python's ssl module (OpenSSL, not sofia-sip) and the media comes
from tests/interop/srtp.py, an SRTP sender written from RFC 3711 (not
libsrtp2, which the server uses). Tones are found (or proven absent) in the
recording; forged, replayed and plain packets on an SRTP leg never reach it.

Also: what is refused and how (SDES over UDP, unusable a=crypto, DTLS-SRTP,
plain RTP with --srtp required, a client claiming TLS in its Via over TCP,
TLS 1.1, garbage on the TLS port), mutual TLS (--sip-tls-client-ca), clear
start-up errors, and that no key reaches the log.
"""

import base64
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import audio
import rtp
import sipclient
import srtp
from harness import (BUILD_DIR, SANITIZED, SERVER_BIN, SipServerCase, free_port,
                     free_sip_port, sanitizer_env)
from test_tls import make_ca, make_server_cert, openssl

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
CALLGEN_BIN = os.path.join(BUILD_DIR, "src", "callrec-callgen")

CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")


def make_client_cert(directory, ca, name):
    """<name>.pem (clientAuth, signed by `ca`) and <name>.key."""
    with open(os.path.join(directory, name + ".ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=sbc.example",
            cwd=directory)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
            cwd=directory)
    return os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")


class Pki:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="callrec-interop-sip-pki-")
        self.ca = make_ca(self.dir, "ca")
        self.cert, self.key = make_server_cert(self.dir, "ca", "server")
        self.other_ca = make_ca(self.dir, "other-ca")
        self.client_cert, self.client_key = make_client_cert(self.dir, "ca", "sbc")
        self.stranger_cert, self.stranger_key = make_client_cert(self.dir, "other-ca", "stranger")

    def context(self, client_cert=None, client_key=None):
        context = ssl.create_default_context(cafile=self.ca)
        if client_cert:
            context.load_cert_chain(client_cert, client_key)
        return context


PKI = None


def setUpModule():
    global PKI
    srtp.check_rfc3711_vectors()  # the test's own SRTP sender, against the RFC
    PKI = Pki()


def tearDownModule():
    shutil.rmtree(PKI.dir, ignore_errors=True)


def two_party_body(session_id, crypto=None, profile_override=None):
    sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")],
                               crypto=crypto)
    if profile_override:
        sdp = sdp.replace("RTP/SAVP", profile_override).replace("RTP/AVP", profile_override)
    meta = sipclient.siprec_metadata(session_id, "grp-" + session_id, [
        (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]), (AGENT[0], AGENT[1], AGENT[2], ["2"])])
    return sipclient.multipart(sdp, meta)


def answer_crypto(answer_sdp):
    """{label: a=crypto value} from an answer."""
    out, crypto = {}, None
    for line in answer_sdp.decode().splitlines():
        if line.startswith("m="):
            crypto = None
        elif line.startswith("a=crypto:"):
            crypto = line[len("a=crypto:"):]
        elif line.startswith("a=label:") and crypto:
            out[line[len("a=label:"):]] = crypto
    return out


def profiles(answer_sdp):
    return re.findall(r"(?m)^m=audio \d+ (\S+)", answer_sdp.decode())


class SipTlsCase(SipServerCase):
    rtp_offset = 1400  # 20 ports from RTP_BASE + rtp_offset
    extra = ("--auto-record", "ALL")
    server_name = "siptls"
    client_ca = False
    log_level = "warn"

    def server_args(self):
        self.rtp_ports = (RTP_BASE + self.rtp_offset, RTP_BASE + self.rtp_offset + 19)
        self.tls_port = free_sip_port()
        args = super().server_args() + ["--sip-tls-listen", "127.0.0.1:%d" % self.tls_port,
                                        "--sip-tls-cert", PKI.cert, "--sip-tls-key", PKI.key]
        if self.client_ca:
            args += ["--sip-tls-client-ca", PKI.ca]
        return args

    def server_options(self):
        return {"log_level": self.log_level, "env": sanitizer_env(full_stacks=True)}

    def tls_client(self, context=None):
        return self.track(
            sipclient.SipClient(self.tls_port, "tls", tls_context=context or PKI.context()))

    def udp_client(self):
        return self.track(sipclient.SipClient(self.server.sip_port, "udp"))

    def srtp_refused(self, reason):
        match = re.search(r'(?m)^callrec_srtp_packets_refused_total\{reason="%s"\} (\d+)' % reason,
                          self.server.metrics())
        self.assertIsNotNone(match, "no callrec_srtp_packets_refused_total{reason=%s}" % reason)
        return int(match.group(1))

    def finished_recording(self, contact_id, min_duration):
        meta = self.final_metadata(contact_id)
        wav = audio.read_wav(self.server.get_contact(contact_id)["Recording"]["Path"])
        self.assertGreaterEqual(wav.duration, min_duration)
        return wav, meta


class SrtpRecordingTest(SipTlsCase):
    """Both legs SRTP (two suites), tones recorded on the right channels; forged
    and plain packets on the legs counted and absent from the file."""
    log_level = "debug"  # everything the server logs is searched for the keys

    def test_srtp_legs_recorded_and_forgeries_kept_out(self):
        customer_key = srtp.new_crypto_line(1, "AES_CM_128_HMAC_SHA1_80")
        agent_key = srtp.new_crypto_line(5, "AES_256_CM_HMAC_SHA1_32")
        body, content_type = two_party_body(
            "sess-srtp", crypto={"1": ["9 AEAD_AES_128_GCM inline:" + "A" * 40, customer_key],
                                 "2": [agent_key]})
        c = self.tls_client()
        self.assertEqual(c.sock.version(), "TLSv1.3")
        response = c.invite(body, content_type,
                            extra_headers=("Require: siprec", "X-Contact-Id: srtp-1"))
        self.assertEqual(response.status, 200, response.header("Warning"))
        self.assertEqual(profiles(response.body), ["RTP/SAVP", "RTP/SAVP"])
        answered = answer_crypto(response.body)
        # The first usable line of each stream is taken (the GCM one is not
        # offered by Debian's libsrtp2); the answer has its tag, suite, own key.
        self.assertEqual(answered["1"].split()[:2], ["1", "AES_CM_128_HMAC_SHA1_80"])
        self.assertEqual(answered["2"].split()[:2], ["5", "AES_256_CM_HMAC_SHA1_32"])
        for label, offered, size in (("1", customer_key, 30), ("2", agent_key, 46)):
            ours = base64.b64decode(answered[label].split()[2][len("inline:"):])
            self.assertEqual(len(ours), size)
            self.assertNotEqual(answered[label].split()[2], offered.split()[2])
        ports, _, _ = sipclient.answered_ports(response.body)

        customer = srtp.SrtpSocket(rtp.udp_socket(), srtp.Sender(customer_key))
        agent = srtp.SrtpSocket(rtp.udp_socket(), srtp.Sender(agent_key))
        forger = rtp.udp_socket()
        wrong_key = srtp.Sender(srtp.new_crypto_line(1, "AES_CM_128_HMAC_SHA1_80"))
        t0 = time.perf_counter() + 0.05
        packets = 75  # 1.5 s
        legs = [threading.Thread(target=rtp.send_stream, args=(
            sock, ("127.0.0.1", ports[label]), lambda i, f=freq: rtp.tone_packet(f, i), "PCMU",
            seq, 1000, ssrc, packets), kwargs={"t0": t0})
            for sock, label, freq, seq, ssrc in ((customer, "1", 600, 65500, 0x1001),
                                                 (agent, "2", 1400, 100, 0x1002))]
        for leg in legs:
            leg.start()
        # Meanwhile, 2,200 Hz forged on the customer's port: plain RTP and SRTP under
        # another key, from the customer's own address:port (as an on-path forger
        # spoofing it would: only SRTP authentication keeps them out) and from
        # another port (foreign: dropped before SRTP, --rtp-source).
        time.sleep(0.3)
        forged = foreign = 0
        for i in range(20):
            packet = rtp.rtp_packet(0, 65500 + 20 + i, 1000 + 160 * (20 + i), 0x1001,
                                    rtp.encode(rtp.tone_packet(2200, 20 + i), "PCMU"))
            for sock in (customer.sock, forger):
                sock.sendto(packet, ("127.0.0.1", ports["1"]))
                sock.sendto(wrong_key.protect(packet), ("127.0.0.1", ports["1"]))
            forged += 2
            foreign += 2
            time.sleep(0.01)
        for leg in legs:
            leg.join()
        time.sleep(0.2)
        self.assertEqual(c.bye().status, 200)
        self.wait_state("srtp-1", "ENDED")
        wav, meta = self.finished_recording("srtp-1", 1.4)
        self.assertTrue(audio.tone_spans(wav.left, 600), "customer's SRTP tone on the left")
        self.assertTrue(audio.tone_spans(wav.right, 1400), "agent's SRTP tone on the right")
        for channel in (wav.left, wav.right):
            self.assertLess(audio.max_tone_amplitude(channel, 2200), 300, "a forgery was recorded")
        self.assertLess(audio.max_tone_amplitude(wav.left, 1400), 300)
        self.assertLess(audio.max_tone_amplitude(wav.right, 600), 300)
        counters = meta.get("Counters", {})
        self.assertEqual(counters.get("Packets", 0) + counters.get("Late", 0), 2 * packets, meta)
        self.assertGreaterEqual(self.srtp_refused("authentication"), forged)
        self.assertGreaterEqual(counters.get("Foreign", 0), foreign, meta)

        # No key, ours or the client's, in anything the server wrote.
        logs = self.server.stderr_text() + self.server.stdout_text()
        self.assertIn("sip.session.started", logs)
        for line in (customer_key, agent_key, answered["1"], answered["2"]):
            key = line.split()[2][len("inline:"):]
            self.assertNotIn(key, logs)
            self.assertNotIn(key[:16], logs)
        for c_socket in (customer, agent):
            c_socket.close()
        forger.close()

    def test_rekey_by_reinvite(self):
        """A re-INVITE with a new key: the recorder switches; the old key is refused."""
        old_key = srtp.new_crypto_line(1)
        new_key = srtp.new_crypto_line(2)
        agent_key = srtp.new_crypto_line(1)
        body, content_type = two_party_body("sess-rekey", crypto={"1": [old_key], "2": [agent_key]})
        c = self.tls_client()
        response = c.invite(body, content_type,
                            extra_headers=("Require: siprec", "X-Contact-Id: rekey-1"))
        self.assertEqual(response.status, 200, response.header("Warning"))
        ports, _, _ = sipclient.answered_ports(response.body)
        sock = rtp.udp_socket()
        old, new = srtp.Sender(old_key), srtp.Sender(new_key)
        addr = ("127.0.0.1", ports["1"])

        def send(sender, first, count, freq):
            for i in range(first, first + count):
                packet = rtp.rtp_packet(0, 7000 + i, 160 * i, 0x77,
                                        rtp.encode(rtp.tone_packet(freq, i), "PCMU"))
                sock.sendto(sender.protect(packet), addr)
                time.sleep(0.02)

        send(old, 0, 25, 600)
        body2, _ = two_party_body("sess-rekey", crypto={"1": [new_key], "2": [agent_key]})
        response = c.invite(body2, content_type)
        self.assertEqual(response.status, 200, response.header("Warning"))
        self.assertEqual(answer_crypto(response.body)["1"].split()[0], "2")
        before = self.srtp_refused("authentication")
        send(old, 25, 10, 2200)  # the old key no longer opens anything
        send(new, 35, 25, 600)
        time.sleep(0.2)
        self.assertEqual(c.bye().status, 200)
        self.wait_state("rekey-1", "ENDED")
        wav, meta = self.finished_recording("rekey-1", 1.0)
        self.assertEqual(self.srtp_refused("authentication") - before, 10)
        self.assertLess(audio.max_tone_amplitude(wav.left, 2200), 300)
        self.assertGreater(audio.max_tone_amplitude(wav.left, 600, start_s=0.0, end_s=0.4), 1000)
        self.assertGreater(audio.max_tone_amplitude(wav.left, 600, start_s=0.8, end_s=1.1), 1000,
                           "audio under the new key recorded")
        sock.close()


class RefusalTest(SipTlsCase):
    rtp_offset = 1420

    def assertRefused(self, response, status, warning_part):
        self.assertEqual(response.status, status, response.header("Warning"))
        self.assertIn(warning_part, response.header("Warning") or "")

    def test_what_is_refused_and_how(self):
        key = srtp.new_crypto_line(1)
        cases = [
            ("udp", {"1": [key], "2": [key]}, None, "unencrypted SIP transport"),
            ("tls", {"1": ["1 AEAD_AES_128_GCM inline:" + "A" * 40], "2": [key]}, None,
             "no usable SRTP key"),
            ("tls", {"1": [key + "|2^31|1:4"], "2": [key]}, None, "MKI"),
            ("tls", {"1": [], "2": [key]}, None, "no a=crypto"),
            ("tls", {"1": [key.replace("inline:", "inline:AAAA")], "2": [key]}, None, "bytes"),
            ("tls", None, "UDP/TLS/RTP/SAVP", "no recordable audio stream"),
        ]
        for n, (transport, crypto, profile, warning) in enumerate(cases):
            with self.subTest(case=warning):
                c = self.udp_client() if transport == "udp" else self.tls_client()
                body, content_type = two_party_body("sess-ref-%d" % n, crypto=crypto,
                                                    profile_override=profile)
                self.assertRefused(c.invite(body, content_type), 488, warning)
        self.assertEqual(self.server.list_contacts(), [], "nothing refused became a contact")

    def test_via_claiming_tls_over_tcp_is_dropped(self):
        """The server's idea of 'came over TLS' is the Via, which sofia-sip checks
        against the real transport: a TCP client claiming TLS gets nothing."""
        c = self.track(sipclient.SipClient(self.server.sip_port, "tcp"))
        c.transport = "tls"  # Via: SIP/2.0/TLS, sent over plain TCP
        real_read = c._read_one

        def read(timeout):
            c.transport = "tcp"
            try:
                return real_read(timeout)
            finally:
                c.transport = "tls"

        c._read_one = read
        body, content_type = two_party_body("sess-spoof", crypto={"1": [srtp.new_crypto_line()],
                                                                  "2": [srtp.new_crypto_line()]})
        with self.assertRaises((TimeoutError, socket.timeout, ConnectionError)):
            c.invite(body, content_type, timeout=2)
        self.assertEqual(self.server.list_contacts(), [])
        # And the real thing still works.
        ok = self.tls_client().request("OPTIONS")
        self.assertEqual(ok.status, 200)

    def test_old_tls_garbage_and_wrong_ca(self):
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(PKI.ca)
        old.minimum_version = ssl.TLSVersion.TLSv1_1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=5) as raw:
                old.wrap_socket(raw, server_hostname="127.0.0.1")
        wrong = ssl.create_default_context(cafile=PKI.other_ca)
        with self.assertRaises(ssl.SSLCertVerificationError):
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=5) as raw:
                wrong.wrap_socket(raw, server_hostname="127.0.0.1")
        # Plain SIP and garbage on the TLS port: the connection is closed.
        for junk in (b"OPTIONS sip:x SIP/2.0\r\n\r\n", os.urandom(3000)):
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
                raw.sendall(junk)
                raw.settimeout(10)
                try:
                    while raw.recv(4096):
                        pass
                except (ConnectionError, socket.timeout):
                    pass
        self.assertEqual(self.tls_client().request("OPTIONS").status, 200)
        self.assertTrue(self.server.running)


class StalledConnectionTest(SipTlsCase):
    """Connections that never become SIP (silent, or a TLS ClientHello cut short)
    on the TCP and TLS ports are closed after 10 s (sofia-sip alone keeps them
    for ever, a descriptor each), while a quiet but real TLS peer stays."""
    rtp_offset = 1420

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.server.proc.pid))

    def test_silent_and_half_handshakes_closed(self):
        good = self.tls_client()
        self.assertEqual(good.request("OPTIONS").status, 200)
        baseline = self.fds()
        hostile = []
        for _ in range(10):
            hostile.append(socket.create_connection(("127.0.0.1", self.tls_port)))
            hostile.append(socket.create_connection(("127.0.0.1", self.server.sip_port)))
            half = socket.create_connection(("127.0.0.1", self.tls_port))
            half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
            hostile.append(half)
        time.sleep(0.5)
        self.assertGreaterEqual(self.fds(), baseline + 30)
        closed = set()
        deadline = time.monotonic() + 20
        while len(closed) < len(hostile) and time.monotonic() < deadline:
            for i, sock in enumerate(hostile):
                if i in closed:
                    continue
                sock.settimeout(0.01)
                try:
                    if sock.recv(16) == b"":
                        closed.add(i)
                except socket.timeout:
                    pass
                except OSError:
                    closed.add(i)
            time.sleep(0.2)
        self.assertEqual(len(closed), len(hostile), "every stalled connection closed in 20 s")
        for sock in hostile:
            sock.close()
        deadline = time.monotonic() + 5
        while self.fds() > baseline and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertLessEqual(self.fds(), baseline, "descriptors back to where they were")
        match = re.search(r"(?m)^callrec_sip_stalled_connections_closed_total (\d+)",
                          self.server.metrics())
        self.assertIsNotNone(match)
        self.assertEqual(int(match.group(1)), 30)
        # The real peer, quiet all along, still has its connection.
        self.assertEqual(good.request("OPTIONS").status, 200)


class TlsConnectionMemoryTest(SipTlsCase):
    """Each SIP TLS connection's OpenSSL object is freed when the connection
    ends (sofia-sip 1.12 alone leaves it: +23 KiB per handshake, +46 KiB per
    bare connect, for ever; callrec frees it, src/sipstack/SofiaTlsRelease). Server
    memory stays flat over hundreds of connections that handshake, ask, and
    go, and of bare connects; every one is counted as freed."""
    rtp_offset = 1440
    connections = 300

    def rss_kib(self):
        with open("/proc/%d/status" % self.server.proc.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def freed(self):
        match = re.search(r"(?m)^callrec_sip_tls_connections_freed_total (\d+)",
                          self.server.metrics())
        self.assertIsNotNone(match, "no callrec_sip_tls_connections_freed_total")
        return int(match.group(1))

    def churn(self, count):
        """`count` connections that handshake and send OPTIONS, and as many
        bare connects that close at once."""
        for _ in range(count):
            client = sipclient.SipClient(self.tls_port, "tls", tls_context=PKI.context())
            self.assertEqual(client.request("OPTIONS").status, 200)
            client.close()
            socket.create_connection(("127.0.0.1", self.tls_port)).close()

    def wait_freed(self, at_least):
        deadline = time.monotonic() + 20
        while self.freed() < at_least and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.freed()

    def test_connections_leave_no_memory_behind(self):
        self.churn(50)  # warm-up: allocator arenas, session cache, log buffers
        self.wait_freed(100)
        before_freed = self.freed()
        before = self.rss_kib()
        self.churn(self.connections)
        after_freed = self.wait_freed(before_freed + 2 * self.connections)
        after = self.rss_kib()
        per_connection = (after - before) / (2.0 * self.connections)
        print("\nSIP TLS connection memory: %d connections (half handshaken + OPTIONS, "
              "half bare), RSS %d -> %d KiB, %.2f KiB per connection, %d freed"
              % (2 * self.connections, before, after, per_connection,
                 after_freed - before_freed))
        self.assertEqual(after_freed - before_freed, 2 * self.connections,
                         "every connection's SSL object freed once")
        if SANITIZED:
            return  # ASan's quarantine holds freed memory: RSS says nothing
        self.assertLess(per_connection, 2.0, "KiB of server memory left per TLS connection")


class SrtpRequiredTest(SipTlsCase):
    rtp_offset = 1440
    extra = ("--auto-record", "ALL", "--srtp", "required")

    def test_plain_rtp_refused_srtp_accepted(self):
        body, content_type = two_party_body("sess-plain")
        response = self.tls_client().invite(body, content_type)
        self.assertEqual(response.status, 488)
        self.assertIn("requires SRTP", response.header("Warning"))
        body, content_type = two_party_body("sess-srtp-req", crypto={
            "1": [srtp.new_crypto_line()], "2": [srtp.new_crypto_line()]})
        c = self.tls_client()
        response = c.invite(body, content_type)
        self.assertEqual(response.status, 200, response.header("Warning"))
        self.assertEqual(c.bye().status, 200)


class MutualTlsTest(SipTlsCase):
    rtp_offset = 1440
    client_ca = True

    def test_client_certificate_required(self):
        ok = self.tls_client(PKI.context(PKI.client_cert, PKI.client_key)).request("OPTIONS")
        self.assertEqual(ok.status, 200)
        for cert, key in ((None, None), (PKI.stranger_cert, PKI.stranger_key)):
            with self.subTest(cert=cert):
                with self.assertRaises((ssl.SSLError, ConnectionError, OSError, TimeoutError)):
                    c = sipclient.SipClient(self.tls_port, "tls",
                                            tls_context=PKI.context(cert, key))
                    try:
                        # TLS 1.3: the server's refusal of the certificate arrives
                        # after the client's handshake is done, at the first read.
                        c.request("OPTIONS", timeout=5)
                    finally:
                        c.close()


class CallgenOverTlsTest(SipTlsCase):
    """callrec-callgen as the recording client: sofia-sip's TLS on both ends,
    libsrtp2 protecting on one and unprotecting on the other; the tones of its
    default clips (440 Hz customer, 1000 Hz agent) are found in the recording."""
    rtp_offset = 1440
    client_ca = True

    def callgen(self, *args):
        argv = [CALLGEN_BIN, "--target", "127.0.0.1:%d" % self.tls_port, "--transport", "tls",
                "--duration", "2", "--json"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              env=sanitizer_env(full_stacks=True))

    def test_callgen_tls_srtp_recorded(self):
        if not os.path.exists(CALLGEN_BIN):
            self.skipTest("no %s" % CALLGEN_BIN)
        done = self.callgen("--tls-ca", PKI.ca, "--tls-cert", PKI.client_cert, "--tls-key",
                            PKI.client_key, "--srtp", "AES_256_CM_HMAC_SHA1_80",
                            "--contact-id", "cg-tls-1")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        report = json.loads(done.stdout)
        sent = sum(s["packets"] for s in report["sessions"][0]["streams"])
        self.assertGreaterEqual(sent, 2 * 100, report)
        self.wait_state("cg-tls-1", "ENDED")
        wav, meta = self.finished_recording("cg-tls-1", 1.9)
        self.assertTrue(audio.tone_spans(wav.left, 440), "customer (440 Hz) on the left")
        self.assertTrue(audio.tone_spans(wav.right, 1000), "agent (1000 Hz) on the right")
        counters = meta.get("Counters", {})
        self.assertEqual(counters.get("Packets", 0) + counters.get("Late", 0), sent, meta)
        self.assertEqual(self.srtp_refused("authentication"), 0)

        # The recorder's certificate from another CA: callgen refuses to talk.
        done = self.callgen("--tls-ca", PKI.other_ca, "--tls-cert", PKI.client_cert,
                            "--tls-key", PKI.client_key, "--contact-id", "cg-tls-2")
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        # No client certificate: the recorder refuses callgen.
        done = self.callgen("--tls-ca", PKI.ca, "--contact-id", "cg-tls-3")
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        ids = {c["ContactId"] for c in self.server.list_contacts()}
        self.assertEqual(ids, {"cg-tls-1"})


class StartupErrorTest(unittest.TestCase):
    def run_server(self, *args):
        tmp = tempfile.mkdtemp(prefix="callrec-interop-siptls-start-")
        try:
            return subprocess.run(
                [SERVER_BIN, "--data-dir", os.path.join(tmp, "data"), "--listen", "127.0.0.1:%d" % free_port(),
                 "--sip-listen", "127.0.0.1:%d" % free_sip_port()] + list(args),
                capture_output=True, text=True, timeout=30)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_clear_messages(self):
        if not os.path.exists(SERVER_BIN):
            self.skipTest("no %s" % SERVER_BIN)
        port = "127.0.0.1:%d" % free_sip_port()
        cases = [
            (["--sip-tls-listen", port], "needs --sip-tls-cert"),
            (["--sip-tls-cert", PKI.cert, "--sip-tls-key", PKI.key], "without --sip-tls-listen"),
            (["--sip-tls-listen", port, "--sip-tls-cert", PKI.cert, "--sip-tls-key",
              PKI.client_key], "mismatch"),
            (["--sip-tls-listen", port, "--sip-tls-cert", "/nonexistent.pem", "--sip-tls-key",
              PKI.key], "/nonexistent.pem"),
            (["--srtp", "always"], "--srtp"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                done = self.run_server(*args)
                self.assertNotEqual(done.returncode, 0)
                self.assertIn(message, done.stdout + done.stderr)


if __name__ == "__main__":
    unittest.main()
