"""Who may send SIPREC (--sip-allow): an INVITE or OPTIONS from outside the
allowed networks gets 403 Forbidden with a Warning before anything of it is
parsed, creates nothing and is counted; an allowed SBC records as before; a
listener reachable from the network without an allowlist refuses to start.
Loopback only: 127.0.0.2 plays the stranger, 127.0.0.1 the SBC.
"""

import os
import re
import subprocess
import tempfile
import time

import audio
import rtp
import sipclient
from harness import SERVER_BIN, SipServerCase, metric, parse_metrics

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")


def body(session):
    sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
    meta = sipclient.siprec_metadata(session, "grp-" + session, [
        (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]), (AGENT[0], AGENT[1], AGENT[2], ["2"])])
    return sipclient.multipart(sdp, meta)


class SipAllowTest(SipServerCase):
    rtp_ports = (RTP_BASE + 1600, RTP_BASE + 1619)
    extra = ("--auto-record", "ALL", "--sip-allow", "127.0.0.1/32")
    server_name = "sip-allow"

    def refused_source(self):
        return metric(parse_metrics(self.server.metrics()), "callrec_siprec_refused_total",
                      reason="source")

    def test_strangers_are_refused_before_parsing(self):
        for transport in ("udp", "tcp"):
            stranger = self.track(sipclient.SipClient(self.server.sip_port, transport,
                                                      source="127.0.0.2"))
            before = self.refused_source()
            payload, content_type = body("sess-stranger-" + transport)
            response = stranger.invite(payload, content_type, extra_headers=(
                "Require: siprec", "X-Contact-Id: stranger-" + transport))
            self.assertEqual(response.status, 403, transport)
            self.assertIn("127.0.0.2", response.header("Warning", ""))
            self.assertIn("--sip-allow", response.header("Warning", ""))
            self.assertEqual(stranger.request("OPTIONS").status, 403, transport)
            # Not even a body that would be refused for itself is looked at.
            garbage = stranger.invite(b"\x00not sdp", "application/sdp")
            self.assertEqual(garbage.status, 403, transport)
            self.assertEqual(self.refused_source(), before + 3, transport)
        self.assertEqual(self.server.list_contacts(), [], "a stranger created a contact")

    def test_the_allowed_sbc_records(self):
        sbc = self.track(sipclient.SipClient(self.server.sip_port, source="127.0.0.1"))
        options = sbc.request("OPTIONS")
        self.assertEqual(options.status, 200)
        self.assertIn("INVITE", options.header("Allow", ""))
        payload, content_type = body("sess-sbc")
        response = sbc.invite(payload, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: allowed-1"))
        self.assertEqual(response.status, 200, response.header("Warning"))
        ports, _, _ = sipclient.answered_ports(response.body)
        self.wait_state("allowed-1", "RECORDING")
        t0 = time.perf_counter() + 0.05
        legs = [rtp.Leg(("127.0.0.1", ports["1"]), "PCMU", rtp.tone_fn(600), 50, t0=t0),
                rtp.Leg(("127.0.0.1", ports["2"]), "PCMU", rtp.tone_fn(1400), 50, t0=t0)]
        rtp.run_legs(legs)
        time.sleep(0.2)
        self.assertEqual(sbc.bye().status, 200)
        self.wait_state("allowed-1", "ENDED")
        self.assertTrue(self.final_metadata("allowed-1").get("Complete"))
        wav = audio.read_wav(self.server.get_contact("allowed-1")["Recording"]["Path"])
        self.assertTrue(audio.tone_spans(wav.left, 600))
        self.assertTrue(audio.tone_spans(wav.right, 1400))
        self.assertEqual(self.refused_source(), 0)


class InDialogStrangerTest(SipServerCase):
    """A re-offer inside an allowed SBC's dialog could move the media (another
    RTP address, a re-latch): from outside --sip-allow, with the dialog's
    Call-ID and tags, it is refused 403 like an INVITE, and the call goes on
    recording what the SBC sends."""
    rtp_ports = (RTP_BASE + 1620, RTP_BASE + 1639)
    extra = ("--auto-record", "ALL", "--sip-allow", "127.0.0.1/32")
    server_name = "sip-allow-dialog"

    def test_a_strangers_reoffer_in_the_dialog_is_refused(self):
        sbc = self.track(sipclient.SipClient(self.server.sip_port, source="127.0.0.1"))
        payload, content_type = body("sess-dialog")
        response = sbc.invite(payload, content_type, extra_headers=(
            "Require: siprec", "X-Contact-Id: dialog-1"))
        self.assertEqual(response.status, 200, response.header("Warning"))
        ports, _, _ = sipclient.answered_ports(response.body)
        self.wait_state("dialog-1", "RECORDING")
        stranger = self.track(sipclient.SipClient(self.server.sip_port, source="127.0.0.2"))
        stranger.call_id, stranger.from_tag = sbc.call_id, sbc.from_tag
        stranger.to_tag, stranger.contact, stranger.cseq = sbc.to_tag, sbc.contact, sbc.cseq
        # The stranger's offer would send the streams' media elsewhere.
        moved = sipclient.multipart(
            sipclient.siprec_sdp([("1", 21000, "sendonly"), ("2", 21002, "sendonly")],
                                 address="127.0.0.2"),
            sipclient.siprec_metadata("sess-dialog", "grp-sess-dialog", [
                (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]),
                (AGENT[0], AGENT[1], AGENT[2], ["2"])]))
        for method in ("INVITE", "UPDATE"):
            refused = stranger.request(method, moved[0], moved[1], ("Require: siprec",))
            self.assertEqual(refused.status, 403, method)
            self.assertIn("--sip-allow", refused.header("Warning", ""), method)
        self.assertEqual(metric(parse_metrics(self.server.metrics()),
                                "callrec_siprec_refused_total", reason="source"), 2)
        self.assertEqual(self.server.get_contact("dialog-1")["State"], "RECORDING")
        t0 = time.perf_counter() + 0.05
        legs = [rtp.Leg(("127.0.0.1", ports["1"]), "PCMU", rtp.tone_fn(600), 50, t0=t0),
                rtp.Leg(("127.0.0.1", ports["2"]), "PCMU", rtp.tone_fn(1400), 50, t0=t0)]
        rtp.run_legs(legs)
        time.sleep(0.2)
        sbc.cseq = max(sbc.cseq, stranger.cseq)
        self.assertEqual(sbc.bye().status, 200)
        self.wait_state("dialog-1", "ENDED")
        wav = audio.read_wav(self.server.get_contact("dialog-1")["Recording"]["Path"])
        self.assertTrue(audio.tone_spans(wav.left, 600), "the SBC's customer leg recorded")
        self.assertTrue(audio.tone_spans(wav.right, 1400), "the SBC's agent leg recorded")


class ExposedListenerTest(SipServerCase):
    """Start-up refuses a SIP listener reachable from the network with nobody
    named who may send (the check runs before anything is bound)."""
    rtp_ports = (RTP_BASE + 1620, RTP_BASE + 1629)
    start_server = False

    def refusal(self, *args):
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                [SERVER_BIN, "--data-dir", os.path.join(tmp, "data"), "--listen", "127.0.0.1:5997",
                 "--admin-token", "t" * 32] + list(args),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
            self.assertFalse(os.path.exists(os.path.join(tmp, "data")),
                             "refused before the data directory was touched")
        self.assertNotEqual(done.returncode, 0, done.stdout + done.stderr)
        return done.stderr

    def test_exposed_listeners_need_an_allowlist(self):
        err = self.refusal("--sip-listen", "0.0.0.0:5999")
        self.assertIn("--sip-listen 0.0.0.0", err)
        self.assertIn("--sip-allow", err)
        err = self.refusal("--sip-listen", "127.0.0.1:5999", "--sip-tls-listen", "[::]:5998",
                           "--sip-tls-cert", "/nonexistent", "--sip-tls-key", "/nonexistent")
        self.assertIn("--sip-tls-client-ca", err)
        err = self.refusal("--sip-listen", "127.0.0.1:5999", "--sip-allow", "10.0.0.0/33")
        self.assertRegex(err, re.escape("--sip-allow 10.0.0.0/33") + ".*prefix")
