"""Only the call's own media is recorded (--rtp-source): RTP sent to a contact's
ports by anyone but the call's sender, from another port of the same host or
from another loopback address, with RTP-looking junk or with well-formed RTP
carrying a tone of its own, never reaches the file, and the call's own tones
stay whole. A re-INVITE moving the stream re-latches; a sender that goes
quiet is replaced (audited). Checked by analysing the WAV: the injected
2200 Hz tone is absent, the call's 600/1400 Hz tones are each one unbroken
span. Under --rtp-source any the same injection is found in the file, so
these checks can fail.
"""

import os
import random
import re
import socket
import threading
import time

import audio
import rtp
import sipclient
from harness import SipServerCase, metric, parse_metrics

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
CUSTOMER_TONE, AGENT_TONE, INJECTED_TONE, NEWCOMER_TONE = 600, 1400, 2200, 900
ABSENT = 800  # amplitude below which a tone is absent (10 % of the senders' 8000)
SPAN_TOL = 0.08  # span length: a packet each side, the analysis resolution, a tick

CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")


def rtp_range(offset, count):
    return RTP_BASE + 1500 + offset, RTP_BASE + 1500 + offset + count - 1


def bound_socket(host):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


class Injector(threading.Thread):
    """An outsider sending to a contact's RTP port from `host`: paced well-formed
    RTP carrying INJECTED_TONE (its own SSRC and numbering), or RTP-looking junk
    (a version-2 header over random bytes) as fast as the socket takes it."""

    def __init__(self, host, dest, start, packets, junk=False):
        super().__init__(daemon=True)
        self.sock = bound_socket(host)
        self.dest, self.start_at, self.packets, self.junk = dest, start, packets, junk
        self.sent = 0
        self.error = None

    def run(self):
        try:
            rng = random.Random()
            rtp.sleep_until(self.start_at)
            if self.junk:
                for _ in range(self.packets):
                    head = bytes([0x80, 0x00]) + rng.randbytes(10)
                    self.sock.sendto(head + rng.randbytes(160), self.dest)
                    self.sent += 1
                    if self.sent % 20 == 0:
                        time.sleep(0.02)  # spread: the server's socket buffer keeps them all
                return
            ssrc, seq, ts = rtp.random_stream_ids(rng)
            for i in range(self.packets):
                rtp.sleep_until(self.start_at + i * rtp.PTIME)
                payload = rtp.encode(rtp.tone_packet(INJECTED_TONE, i), "PCMU")
                self.sock.sendto(rtp.rtp_packet(0, (seq + i) & 0xFFFF, (ts + 160 * i) & 0xFFFFFFFF,
                                                ssrc, payload), self.dest)
                self.sent += 1
        except BaseException as error:  # reported by finish()
            self.error = error

    def finish(self, case):
        self.join(30)
        self.sock.close()
        case.assertFalse(self.is_alive(), "injector still sending")
        if self.error is not None:
            raise self.error
        return self.sent


class RtpSourceCase(SipServerCase):
    server_name = "rtp-source"

    def client(self, source=None):
        return self.track(sipclient.SipClient(self.server.sip_port, source=source))

    def foreign_metric(self):
        values = parse_metrics(self.server.metrics())
        return {leg: metric(values, "callrec_rtp_foreign_packets_total", leg=leg) or 0
                for leg in ("customer", "agent")}

    def siprec_body(self, session, address="127.0.0.1"):
        sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")],
                                   address=address)
        meta = sipclient.siprec_metadata(session, "grp-" + session, [
            (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]), (AGENT[0], AGENT[1], AGENT[2], ["2"])])
        return sipclient.multipart(sdp, meta)

    def siprec_call(self, contact_id, client):
        """A SIPREC session recording from the start: the (customer, agent) ports."""
        body, content_type = self.siprec_body("sess-" + contact_id)
        response = client.invite(body, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: " + contact_id))
        self.assertEqual(response.status, 200, response.header("Warning"))
        ports, _, _ = sipclient.answered_ports(response.body)
        self.wait_state(contact_id, "RECORDING")
        return ("127.0.0.1", ports["1"]), ("127.0.0.1", ports["2"])

    def v1_call(self, contact_id):
        """A /v1 contact recording from now: the (customer, agent) ports."""
        contact = self.server.create_contact(contact_id)
        customer = rtp.parse_addr(contact["Rtp"]["Customer"])
        agent = rtp.parse_addr(contact["Rtp"]["Agent"])
        self.server.boto3_client().start_contact_recording(
            InstanceId="local", ContactId=contact_id, InitialContactId=contact_id,
            VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"})
        self.wait_state(contact_id, "RECORDING")
        return customer, agent

    def recording(self, contact_id):
        """The ended contact's WAV and final metadata."""
        meta = self.final_metadata(contact_id)
        self.assertTrue(meta.get("Complete"), meta)
        path = self.server.get_contact(contact_id)["Recording"]["Path"]
        return audio.read_wav(path), meta

    def assertWhole(self, channel, freq, seconds, what):
        spans = audio.tone_spans(channel, freq)
        self.assertEqual(len(spans), 1, "%s: %d Hz should be one unbroken span; found %s"
                         % (what, freq, spans))
        length = spans[0][1] - spans[0][0]
        self.assertAlmostEqual(length, seconds, delta=SPAN_TOL,
                               msg="%s: %d Hz lasts %.3f s, sent %.3f s (%s)"
                               % (what, freq, length, seconds, spans))
        return spans[0]

    def assertAbsent(self, channel, freq, what, start_s=None, end_s=None):
        level = audio.max_tone_amplitude(channel, freq, start_s=start_s, end_s=end_s)
        self.assertLess(level, ABSENT, "%s: %d Hz found at amplitude %.0f (spans %s)"
                        % (what, freq, level, audio.tone_spans(channel, freq)))

    def inject_during(self, customer, agent, t0, seconds):
        """Outsiders on both legs for `seconds` from t0 + 0.5 s: well-formed RTP with
        a tone of its own from the same host's other port (customer) and from
        127.0.0.2 (agent), and 1,500 junk datagrams on each leg. Returns them."""
        packets = int(seconds / rtp.PTIME)
        start = t0 + 0.5
        injectors = [Injector("127.0.0.1", customer, start, packets),
                     Injector("127.0.0.2", agent, start, packets),
                     Injector("127.0.0.1", customer, start, 1500, junk=True),
                     Injector("127.0.0.2", agent, start, 1500, junk=True)]
        for injector in injectors:
            injector.start()
        return injectors

    def call_with_injection(self, contact_id, customer, agent, finish):
        """Three seconds of the call's own tones, two of them under injection;
        `finish()` ends the call. Returns the WAV, its metadata and the datagrams the
        outsiders sent on each leg."""
        seconds = 3.0
        t0 = time.perf_counter() + 0.1
        legs = [rtp.Leg(customer, "PCMU", rtp.tone_fn(CUSTOMER_TONE), int(seconds / rtp.PTIME),
                        name="customer", t0=t0),
                rtp.Leg(agent, "PCMU", rtp.tone_fn(AGENT_TONE), int(seconds / rtp.PTIME),
                        name="agent", t0=t0)]
        for leg in legs:
            leg.start()
        injectors = self.inject_during(customer, agent, t0, 2.0)
        sent = [injector.finish(self) for injector in injectors]
        for leg in legs:
            leg.join(30)
        time.sleep(0.2)
        finish()
        self.wait_state(contact_id, "ENDED")
        wav, meta = self.recording(contact_id)
        return wav, meta, {"customer": sent[0] + sent[2], "agent": sent[1] + sent[3]}, seconds

    def check_kept_out(self, wav, meta, sent, seconds, before):
        self.assertWhole(wav.left, CUSTOMER_TONE, seconds, "customer channel")
        self.assertWhole(wav.right, AGENT_TONE, seconds, "agent channel")
        self.assertAbsent(wav.left, INJECTED_TONE, "customer channel")
        self.assertAbsent(wav.right, INJECTED_TONE, "agent channel")
        after = self.foreign_metric()
        for leg in ("customer", "agent"):
            counted = after[leg] - before[leg]
            self.assertGreaterEqual(counted, 0.95 * sent[leg],
                                    "%s leg: %d foreign datagrams counted of %d sent"
                                    % (leg, counted, sent[leg]))
            self.assertLessEqual(counted, sent[leg])
        self.assertGreaterEqual(meta["Counters"]["Foreign"], 0.95 * sum(sent.values()),
                                meta["Counters"])


class SiprecInjectionTest(RtpSourceCase):
    """SIPREC (strict by default): only the offer's address, latched to its first
    address:port."""
    rtp_ports = rtp_range(0, 20)
    extra = ("--auto-record", "ALL")

    def test_outsiders_never_reach_the_recording(self):
        client = self.client()
        customer, agent = self.siprec_call("src-siprec", client)
        before = self.foreign_metric()
        wav, meta, sent, seconds = self.call_with_injection(
            "src-siprec", customer, agent, lambda: self.assertEqual(client.bye().status, 200))
        self.check_kept_out(wav, meta, sent, seconds, before)

    def test_reinvite_moves_the_stream(self):
        """The SRC moves its media to 127.0.0.3: the new sender is recorded at once,
        the old address is foreign from the re-INVITE on."""
        client = self.client()
        customer, agent = self.siprec_call("src-move", client)
        t0 = time.perf_counter() + 0.05
        first = rtp.Leg(customer, "PCMU", rtp.tone_fn(CUSTOMER_TONE), 50, name="before", t0=t0)
        first.start()
        first.join(10)
        body, content_type = self.siprec_body("sess-src-move", address="127.0.0.3")
        self.assertEqual(client.invite(body, content_type, extra_headers=()).status, 200)
        moved_at = time.perf_counter()
        moved = bound_socket("127.0.0.3")
        old = bound_socket("127.0.0.1")
        ssrc, seq, ts = rtp.random_stream_ids()
        stale = Injector("127.0.0.1", customer, moved_at, 50)
        stale.start()
        rtp.send_stream(moved, customer, rtp.tone_fn(CUSTOMER_TONE), "PCMU", seq, ts, ssrc, 50,
                        t0=moved_at)
        stale.finish(self)
        moved.close()
        old.close()
        time.sleep(0.2)
        self.assertEqual(client.bye().status, 200)
        self.wait_state("src-move", "ENDED")
        wav, meta = self.recording("src-move")
        spans = audio.tone_spans(wav.left, CUSTOMER_TONE)
        total = sum(end - start for start, end in spans)
        self.assertAlmostEqual(total, 2.0, delta=2 * SPAN_TOL,
                               msg="both senders' second each: %s" % spans)
        self.assertAbsent(wav.left, INJECTED_TONE, "the old address after the move")
        self.assertGreaterEqual(meta["Counters"]["Foreign"], 45, meta["Counters"])


class V1InjectionTest(RtpSourceCase):
    """/v1 contacts (learn by default): the first sender through probation."""
    rtp_ports = rtp_range(20, 20)

    def test_outsiders_never_reach_the_recording(self):
        customer, agent = self.v1_call("src-v1")
        before = self.foreign_metric()

        def end():
            self.assertEqual(self.server.v1("POST", "/v1/contacts/src-v1/end").status, 200)
        wav, meta, sent, seconds = self.call_with_injection("src-v1", customer, agent, end)
        self.check_kept_out(wav, meta, sent, seconds, before)

    def test_a_quiet_sender_is_replaced_and_audited(self):
        """Sender A plays 600 Hz for 1 s and stops; B (another port) plays 900 Hz
        from 0.5 s on: refused while A is heard, latched once A has been quiet for
        the takeover delay (1.5 s) and B passed probation."""
        customer, _ = self.v1_call("src-takeover")
        started = time.perf_counter()
        t0 = started + 0.05
        a = rtp.Leg(customer, "PCMU", rtp.tone_fn(CUSTOMER_TONE), 50, name="a", t0=t0)
        b = rtp.Leg(customer, "PCMU", rtp.tone_fn(NEWCOMER_TONE), 175, name="b", t0=t0 + 0.5)
        a.start()
        b.start()
        a.join(10)
        b.join(20)
        time.sleep(0.2)
        self.assertEqual(self.server.v1("POST", "/v1/contacts/src-takeover/end").status, 200)
        self.wait_state("src-takeover", "ENDED")
        wav, meta = self.recording("src-takeover")
        a_span = self.assertWhole(wav.left, CUSTOMER_TONE, 1.0, "sender A")
        b_span = audio.tone_spans(wav.left, NEWCOMER_TONE)
        self.assertEqual(len(b_span), 1, "sender B after the takeover: %s" % b_span)
        # A's last packet, then 1.5 s of silence, then B's probation (3 packets).
        takeover = a_span[1] + 1.5
        self.assertGreaterEqual(b_span[0][0], takeover - SPAN_TOL, (a_span, b_span))
        self.assertLessEqual(b_span[0][0], takeover + 0.1 + SPAN_TOL, (a_span, b_span))
        self.assertAlmostEqual(b_span[0][1], a_span[0] + 4.0, delta=SPAN_TOL,
                               msg="B plays to its end (%s)" % b_span)
        switches = [e for e in meta["AuditTrail"] if e["Operation"] == "RTP_SOURCE_CHANGED"]
        self.assertEqual(len(switches), 1, meta["AuditTrail"])
        self.assertEqual(switches[0]["Principal"], "media")
        self.assertRegex(switches[0]["Detail"], r"^customer leg: 127\.0\.0\.1:\d+ went quiet, "
                                                r"127\.0\.0\.1:\d+ took over$")
        self.assertGreaterEqual(meta["Counters"]["Foreign"], 20, meta["Counters"])


class AnyPolicyTest(RtpSourceCase):
    """--rtp-source any records every sender: the same injection is in the file,
    which is why it is documented as unsafe (and proof these checks can fail)."""
    rtp_ports = rtp_range(40, 20)
    extra = ("--auto-record", "ALL", "--rtp-source", "any")

    def test_injection_is_recorded_under_any(self):
        client = self.client()
        customer, agent = self.siprec_call("src-any", client)
        wav, meta, _, _ = self.call_with_injection(
            "src-any", customer, agent, lambda: self.assertEqual(client.bye().status, 200))
        self.assertGreater(audio.max_tone_amplitude(wav.left, INJECTED_TONE), ABSENT,
                           "the injected tone should be in the file under --rtp-source any")
        self.assertEqual(meta["Counters"]["Foreign"], 0, meta["Counters"])
        self.assertTrue(re.search(r"(?m)^callrec_rtp_foreign_packets_total\{leg=\"customer\"\} 0$",
                                  self.server.metrics()))
