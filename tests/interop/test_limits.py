"""Limits (issue 7) against the real callrec-server: --max-contacts and
--max-sip-sessions-per-source answer clearly (503 with Retry-After, naming the
flag), free a place when a contact ends and leave other sources alone; ended
contacts leave memory and read back from the state database as before; memory
stays flat over 50,000 contacts created and ended (the figures are printed);
the SIP message's size and header count are bounded; GET /v1/contacts pages.
"""

import json
import os
import re
import socket
import threading
import time
import unittest
import urllib.parse

import rtp
import sipclient
from harness import SipServerCase, metric, parse_metrics

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))

CUSTOMER = ("p-cust", "sip:+15551230001@pstn.example", "Customer")
AGENT = ("p-agent", "sip:agent7@cc.example", "Agent Seven")


def rtp_range(offset, count):
    """This file's RTP ports: CALLREC_TEST_RTP_BASE + 1300..1399."""
    assert 0 <= offset and offset + count <= 100
    return RTP_BASE + 1300 + offset, RTP_BASE + 1300 + offset + count - 1


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def siprec_offer(session_id):
    sdp = sipclient.siprec_sdp([("1", 20000, "sendonly"), ("2", 20002, "sendonly")])
    meta = sipclient.siprec_metadata(session_id, "g-" + session_id, [
        (CUSTOMER[0], CUSTOMER[1], CUSTOMER[2], ["1"]), (AGENT[0], AGENT[1], AGENT[2], ["2"])])
    return sipclient.multipart(sdp, meta)


class LimitsCase(SipServerCase):
    rtp_ports = rtp_range(0, 20)
    server_name = "limits"

    def client(self, source="127.0.0.1", transport="udp"):
        return self.track(sipclient.SipClient(self.server.sip_port, transport, source=source))

    def metrics(self):
        return parse_metrics(self.server.metrics())

    def refused(self, reason):
        return metric(self.metrics(), "callrec_contacts_refused_total", reason=reason)

    def wait_metric(self, name, value, timeout=10, **labels):
        deadline = time.monotonic() + timeout
        while True:
            current = metric(self.metrics(), name, **labels)
            if current == value:
                return
            if time.monotonic() > deadline:
                self.fail("%s%s is %s, expected %s" % (name, labels or "", current, value))
            time.sleep(0.05)

    def assertRefused503(self, response, *needles):
        self.assertEqual(response.status, 503, "%s %s" % (response.status,
                                                           response.header("Warning")))
        self.assertEqual(response.reason, "Service Unavailable")
        self.assertTrue(response.header("Retry-After"), "503 without Retry-After")
        warning = response.header("Warning") or ""
        for needle in needles:
            self.assertIn(needle, warning)

    def logs(self):
        return self.server.stdout_text() + self.server.stderr_text()


class MaxContactsTest(LimitsCase):
    rtp_ports = rtp_range(0, 20)
    extra = ("--max-contacts", "3")

    def test_new_contacts_are_refused_at_the_limit_until_one_ends(self):
        for contact_id in ("a", "b", "c"):
            self.server.create_contact(contact_id)
        refused = self.server.v1("POST", "/v1/contacts", {"InstanceId": "local",
                                                           "ContactId": "d"})
        self.assertAwsError(refused, 503, "ServiceUnavailableException",
                            ["--max-contacts", "3 are not ENDED"])
        self.assertEqual(refused.header("Retry-After"), "5")
        self.assertEqual(self.server.v1("GET", "/v1/contacts/d").status, 404, "nothing created")
        # A SIPREC INVITE meets the same limit.
        body, content_type = siprec_offer("over-the-limit")
        self.assertRefused503(self.client().invite(body, content_type), "--max-contacts")
        self.assertEqual(len(self.server.list_contacts()), 3)
        self.assertEqual(self.refused("max_contacts"), 2)
        # Contacts that exist are served as usual, a retried create included.
        self.assertEqual(self.server.connect_call("START", "a").status, 200)
        self.assertEqual(self.server.create_contact("b")["ContactId"], "b")
        # One log line per refusal over /v1, naming the limit and no secret.
        logs = self.logs()
        self.assertIn("contact.refused", logs)
        self.assertIn("max_contacts", logs)
        self.assertNotIn(self.server.admin_token, logs)

        # An end frees a place, for either door.
        self.assertEqual(self.server.v1("POST", "/v1/contacts/a/end").status, 200)
        self.server.create_contact("d")
        self.assertRefused503(self.client().invite(*siprec_offer("still-full")), "--max-contacts")
        self.assertEqual(self.server.v1("POST", "/v1/contacts/b/end").status, 200)
        sip = self.client()
        self.assertEqual(sip.invite(*siprec_offer("a-place")).status, 200)
        self.assertEqual(self.refused("max_contacts"), 3)
        self.assertEqual(sip.bye().status, 200)
        self.wait_metric("callrec_contacts", 3, state="ENDED")


class SessionsPerSourceTest(LimitsCase):
    rtp_ports = rtp_range(20, 30)
    extra = ("--max-sip-sessions-per-source", "2")

    def test_one_source_over_its_limit_is_refused_others_are_not(self):
        ours = []
        for n in range(2):
            c = self.client("127.0.0.1", "udp" if n == 0 else "tcp")
            self.assertEqual(c.invite(*siprec_offer("one-%d" % n)).status, 200)
            ours.append(c)
        # A flood from the same address, over UDP and TCP: every INVITE refused.
        for n in range(6):
            c = self.client("127.0.0.1", "tcp" if n % 2 else "udp")
            self.assertRefused503(c.invite(*siprec_offer("flood-%d" % n)),
                                  "--max-sip-sessions-per-source", "127.0.0.1")
        self.assertEqual(self.refused("max_sip_sessions_per_source"), 6)
        self.assertEqual(self.refused("max_contacts"), 0)
        # Other sources are not affected...
        other = self.client("127.0.0.2")
        self.assertEqual(other.invite(*siprec_offer("other-0")).status, 200)
        # ...even one whose Via claims to be the source at its limit: the count
        # goes by where the INVITE came from.
        claims = self.client("127.0.0.3")
        claims.local = ("127.0.0.1", claims.local[1])
        self.assertEqual(claims.invite(*siprec_offer("claims-0")).status, 200)
        self.assertEqual(len(self.server.list_contacts()), 4)

        # A dialog that ends frees its place.
        self.assertEqual(ours[0].bye().status, 200)
        self.wait_metric("callrec_siprec_sessions", 3)
        again = self.client("127.0.0.1")
        self.assertEqual(again.invite(*siprec_offer("one-again")).status, 200)
        self.assertRefused503(self.client("127.0.0.1").invite(*siprec_offer("flood-again")),
                              "--max-sip-sessions-per-source")
        for c in (ours[1], again, other, claims):
            self.assertEqual(c.bye().status, 200)
        self.wait_metric("callrec_siprec_sessions", 0)
        self.assertEqual(self.server.metrics().count("# TYPE callrec_contacts_refused_total"), 1)


class SipMessageLimitsTest(LimitsCase):
    """The SIP message itself: at most 128 header fields in an INVITE, re-INVITE or
    UPDATE (400 with a Warning naming the limit, counted), and at most 512 KiB
    (sofia-sip's NTATAG_MAXSIZE: over TCP it answers 413 itself and closes the
    connection). A good call recording meanwhile is not disturbed."""
    rtp_ports = rtp_range(70, 10)
    # Via, Max-Forwards, From, To, Call-ID, CSeq, Contact, Require, Content-Type,
    # Content-Length: what sipclient sends besides the fillers.
    BASE_FIELDS = 10

    def fillers(self, total):
        return ["X-Filler-%d: f" % i for i in range(total - self.BASE_FIELDS)]

    def refused_total(self):
        return metric(self.metrics(), "callrec_siprec_refused_total", reason="offer")

    def start_good_call(self):
        client = self.client()
        response = client.invite(*siprec_offer("good-call"),
                                 extra_headers=("Require: siprec", "X-Contact-Id: good",
                                                "X-Initial-Contact-Id: good"))
        self.assertEqual(response.status, 200, response.header("Warning"))
        self.assertEqual(self.server.connect_call("START", "good").status, 200)
        ports, _, _ = sipclient.answered_ports(response.body)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        return client, sock, ports["1"]

    def send_rtp(self, sock, port, first, count):
        for seq in range(first, first + count):
            sock.sendto(rtp.rtp_packet(0, seq, 160 * seq, 0x4321, bytes([0xFF]) * 160),
                        ("127.0.0.1", port))
            time.sleep(0.002)

    def wait_packets(self, count):
        deadline = time.monotonic() + 5
        while self.server.get_contact("good")["Recording"]["Packets"] < count:
            self.assertLess(time.monotonic(), deadline, "good packets not counted")
            time.sleep(0.05)
        self.assertEqual(self.server.get_contact("good")["Recording"]["Packets"], count)

    def test_too_many_header_fields(self):
        good, sock, port = self.start_good_call()
        self.send_rtp(sock, port, 0, 50)
        before = self.refused_total()
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                response = self.client(transport=transport).invite(
                    *siprec_offer("many-" + transport),
                    extra_headers=["Require: siprec"] + self.fillers(129))
                self.assertEqual(response.status, 400, response.header("Warning"))
                self.assertEqual(response.reason, "Bad Request")
                self.assertIn("129 header fields; at most 128", response.header("Warning", ""))
        self.assertEqual(self.refused_total() - before, 2)
        # At the limit: accepted, and so is a re-INVITE at it; one over is refused
        # and the dialog goes on.
        sip = self.client()
        response = sip.invite(*siprec_offer("at-limit"),
                              extra_headers=["Require: siprec"] + self.fillers(128))
        self.assertEqual(response.status, 200, response.header("Warning"))
        over = sip.invite(*siprec_offer("at-limit"),
                          extra_headers=["Require: siprec"] + self.fillers(129))
        self.assertEqual(over.status, 400, over.header("Warning"))
        self.assertIn("at most 128", over.header("Warning", ""))
        self.assertEqual(self.refused_total() - before, 3)
        again = sip.invite(*siprec_offer("at-limit"),
                           extra_headers=["Require: siprec"] + self.fillers(128))
        self.assertEqual(again.status, 200, again.header("Warning"))
        self.assertEqual(sip.bye().status, 200)
        # The good call recorded throughout.
        self.send_rtp(sock, port, 50, 50)
        self.wait_packets(100)
        self.assertEqual(good.bye().status, 200)
        self.assertEqual(len(self.server.list_contacts()), 2)

    def send_tcp(self, body_bytes, declared):
        """An INVITE over a new TCP connection: (what came back, whether the
        server closed the connection after it)."""
        c = self.client(transport="tcp")
        head = "\r\n".join([
            "INVITE sip:srs@127.0.0.1:%d SIP/2.0" % self.server.sip_port,
            "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%x;rport" % (c.local[0], c.local[1], declared),
            "Max-Forwards: 70", "From: <sip:src@127.0.0.1>;tag=1", "To: <sip:srs@127.0.0.1>",
            "Call-ID: big-%d@test" % declared, "CSeq: 1 INVITE", "Require: siprec",
            "Contact: <sip:src@127.0.0.1:%d;transport=tcp>;+sip.src" % c.local[1],
            "Content-Type: application/sdp", "Content-Length: %d" % declared]) + "\r\n\r\n"
        try:
            c.sock.sendall(head.encode() + b"v" * body_bytes)
        except OSError:
            pass  # the server may answer and close before reading it all
        c.sock.settimeout(10)
        received, closed = b"", False
        try:
            while True:
                chunk = c.sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                received += chunk
                if b"SIP/2.0 4" in received and received.endswith(b"\r\n\r\n"):
                    # a final answer: see whether the connection closes after it
                    c.sock.settimeout(3)
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
        return received, closed

    def test_message_over_512_kib(self):
        good, sock, port = self.start_good_call()
        self.send_rtp(sock, port, 0, 50)
        before = self.refused_total()
        # Over 512 KiB, sent whole or only declared: sofia-sip answers 413 from the
        # head, before callrec sees the request (not counted), and closes.
        for sent in (600 * 1024, 10):
            with self.subTest(sent=sent):
                received, closed = self.send_tcp(sent, 600 * 1024)
                self.assertIn(b"SIP/2.0 413 Request Entity Too Large", received, received[:300])
                self.assertTrue(closed, "the connection stayed open")
        self.assertEqual(self.refused_total(), before)
        # Under 512 KiB but over the 256 KiB body limit: callrec's own 413, with a
        # Warning, counted; the connection stays (sofia-sip keeps it for the next).
        received, closed = self.send_tcp(300 * 1024, 300 * 1024)
        self.assertIn(b"SIP/2.0 413 Request Entity Too Large", received, received[:300])
        self.assertIn(b"Warning: 399 callrec", received)
        self.assertFalse(closed)
        self.assertEqual(self.refused_total() - before, 1)
        # New calls over TCP, /healthz and the good call go on.
        tcp = self.client(transport="tcp")
        self.assertEqual(tcp.invite(*siprec_offer("after-big")).status, 200)
        self.assertEqual(tcp.bye().status, 200)
        self.assertEqual(self.server.v1("GET", "/healthz").status, 200)
        self.send_rtp(sock, port, 50, 50)
        self.wait_packets(100)
        self.assertEqual(good.bye().status, 200)


class ListPagesTest(LimitsCase):
    """GET /v1/contacts in pages: MaxResults (default 100, at most 1000) and an
    opaque NextToken; the pages of 260 contacts, live and ended, concatenate to
    exactly the full set, even when contacts end between two pages."""
    rtp_ports = rtp_range(80, 20)

    def page(self, token=None, **query):
        if token:
            query["NextToken"] = token
        path = "/v1/contacts" + ("?" + urllib.parse.urlencode(query) if query else "")
        reply = self.server.v1("GET", path)
        self.assertEqual(reply.status, 200, reply)
        body = reply.json()
        return [c["ContactId"] for c in body["Contacts"]], body.get("NextToken")

    def test_pages_concatenate_to_the_whole_list(self):
        ids = ["p%03d" % i for i in range(260)]
        # Four live contacts (four RTP ports each: room for one ending), spread out.
        live = {ids[13], ids[82], ids[151], ids[221]}
        for contact_id in ids:
            self.server.create_contact(contact_id, agent_id="a" if contact_id < "p130" else "b")
            if contact_id not in live:
                self.assertEqual(
                    self.server.v1("POST", "/v1/contacts/%s/end" % contact_id).status, 200)
        self.wait_metric("callrec_contacts_in_memory", 4)

        # Default page size 100: 100, 100, 60; NextToken on all but the last.
        seen, token, sizes = [], None, []
        while True:
            page, token = self.page(token)
            seen += page
            sizes.append(len(page))
            if len(sizes) == 1:
                # Contacts end between pages: one already listed, one still ahead.
                for contact_id in (ids[13], ids[221]):
                    self.assertIn(contact_id, live)
                    self.assertEqual(
                        self.server.v1("POST", "/v1/contacts/%s/end" % contact_id).status, 200)
            if not token:
                break
        self.assertEqual(sizes, [100, 100, 60])
        self.assertEqual(seen, ids, "pages repeat, skip or reorder contacts")

        # Other page sizes, and filters page alike.
        for size in (1, 7, 259, 260, 1000):
            with self.subTest(MaxResults=size):
                seen, token, pages = [], None, 0
                while True:
                    page, token = self.page(token, MaxResults=size)
                    self.assertLessEqual(len(page), size)
                    seen += page
                    pages += 1
                    if not token:
                        break
                self.assertEqual(seen, ids)
                self.assertEqual(pages, -(-260 // size))
        first, token = self.page(AgentId="b", MaxResults=50)
        self.assertEqual(first, ids[130:180])
        rest, token = self.page(token, AgentId="b", MaxResults=1000)
        self.assertEqual(rest, ids[180:])
        self.assertIsNone(token)
        ended = [c["ContactId"] for c in self.server.list_contacts(State="ENDED")]
        self.assertEqual(len(ended), 258)
        self.assertEqual(len(self.server.list_contacts()), 260)

        # Bad sizes and tokens are refused, naming the parameter.
        for bad in ("0", "1001", "-1", "ten", "", "1e2"):
            with self.subTest(MaxResults=bad):
                reply = self.server.v1("GET", "/v1/contacts?MaxResults=" + bad)
                self.assertAwsError(reply, 400, "InvalidParameterException", "MaxResults")
        for bad in ("zz", "abc", "00", "636f6e74616374733a", "p100", "%00"):
            with self.subTest(NextToken=bad):
                reply = self.server.v1("GET", "/v1/contacts?NextToken=" + bad)
                self.assertAwsError(reply, 400, "InvalidParameterException", "NextToken")

        # callrec list follows every page.
        listed = self.server.callrec_cli("--json", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual([c["ContactId"] for c in json.loads(listed.stdout)["Contacts"]], ids)


class EndedContactReadsTest(LimitsCase):
    """An ended contact is out of memory once its end is durable; everything
    that reads it answers as it did when memory held it, after a restart too."""
    rtp_ports = rtp_range(50, 20)

    def test_ended_contact_reads_back_from_the_store(self):
        created = self.server.create_contact("kept", agent_id="agent-7")
        self.assertEqual(self.server.connect_call("START", "kept").status, 200)
        host, port = created["Rtp"]["Customer"].rsplit(":", 1)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        for seq in range(50):
            sock.sendto(rtp.rtp_packet(0, seq, 160 * seq, 0x1234, bytes([0xFF]) * 160),
                        (host, int(port)))
        deadline = time.monotonic() + 5
        while self.server.get_contact("kept")["Recording"]["Packets"] < 50:
            self.assertLess(time.monotonic(), deadline, "packets not counted")
            time.sleep(0.05)
        self.assertEqual(self.server.connect_call("PAUSE", "kept").status, 200)
        ended = self.server.v1("POST", "/v1/contacts/kept/end")
        self.assertEqual(ended.status, 200)
        self.assertEqual(ended.json()["State"], "ENDED")
        self.server.create_contact("live", agent_id="agent-7")

        self.wait_metric("callrec_contacts_in_memory", 1)
        described = self.server.get_contact("kept")
        self.assertEqual(described["State"], "ENDED")
        self.assertEqual(described["RecordingState"], "PAUSED")
        self.assertNotIn("Rtp", described)
        recording = described["Recording"]
        self.assertFalse(recording["Running"])
        self.assertEqual(recording["Packets"], 50)
        self.assertTrue(os.path.exists(recording["Path"]))
        self.assertEqual(recording, ended.json()["Recording"])
        self.assertEqual([e["Operation"] for e in described["AuditTrail"]],
                         ["CREATE", "START", "PAUSE", "END"])

        # Lists: by state, by agent, all.
        self.assertEqual([c["ContactId"] for c in self.server.list_contacts(State="ENDED")],
                         ["kept"])
        self.assertEqual(sorted(c["ContactId"] for c in self.server.list_contacts(
            AgentId="agent-7")), ["kept", "live"])
        self.assertEqual(len(self.server.list_contacts()), 2)
        self.assertEqual(metric(self.metrics(), "callrec_contacts", state="ENDED"), 1)
        # The Connect API refuses as before, and the refusal is audited.
        self.assertAwsError(self.server.connect_call("RESUME", "kept"), 400,
                            "InvalidRequestException", "the contact has ended")
        self.assertEqual(self.trail("kept")[-1], ("RESUME", "AKIDTEST", "InvalidRequestException"))
        # A retried create with the same identity is answered with the ended contact.
        again = self.server.v1("POST", "/v1/contacts", {
            "InstanceId": "local", "ContactId": "kept", "InitialContactId": "kept",
            "AgentId": "agent-7"})
        self.assertEqual(again.status, 201)
        self.assertEqual(again.json()["State"], "ENDED")
        self.assertEqual(again.json()["Recording"], recording)
        other = self.server.v1("POST", "/v1/contacts", {
            "InstanceId": "local", "ContactId": "kept", "AgentId": "someone-else"})
        self.assertAwsError(other, 409, "ConflictException")
        # The workspace: the recording's metadata and audio, the guide's view.
        self.assertEqual(self.server.v1("GET", "/v1/recordings/kept").status, 200)
        audio = self.server.v1("GET", "/v1/recordings/kept/audio")
        self.assertEqual(audio.status, 200)
        self.assertEqual(audio.header("Content-Type"), "audio/wav")
        guide = self.server.v1("GET", "/v1/contacts/kept/guide")
        self.assertEqual(guide.status, 200, guide)
        self.assertEqual(guide.json()["State"], "ENDED")
        self.wait_metric("callrec_contacts_in_memory", 1)

        before = self.server.get_contact("kept")
        self.server.restart()
        after = self.server.get_contact("kept")
        self.assertEqual(after, before, "the same answer after a restart")
        self.assertEqual(metric(self.metrics(), "callrec_contacts", state="ENDED"), 1)
        self.assertEqual(metric(self.metrics(), "callrec_contacts_in_memory"), 1)


class PipelinedClient:
    """One keep-alive connection; requests are written in batches and their
    responses read back in order (the server answers one at a time)."""

    def __init__(self, port, token):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.token = token
        self.buffer = b""

    def close(self):
        self.sock.close()

    def request(self, method, path, body=b""):
        return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (method, path, self.token, len(body))).encode() + body

    def exchange(self, requests):
        self.sock.sendall(b"".join(requests))
        statuses = []
        for _ in requests:
            while b"\r\n\r\n" not in self.buffer:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buffer += chunk
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            while len(rest) < length:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                rest += chunk
            statuses.append(int(head.split(b" ", 2)[1]))
            self.buffer = rest[length:]
        return statuses


class MemoryTest(LimitsCase):
    """Contacts created and ended over /v1, 50,000 of them: resident memory
    after the first 10,000 and after all of them; then 8,000 more with a
    recording each. Memory holds live contacts only, so it must stay flat.
    Prints KiB per ended contact and per ended recording."""
    rtp_ports = rtp_range(70, 30)
    extra = ("--http-threads", "2")
    contacts = 50_000
    warm_up = 10_000
    connections = 6  # at most this many live at once (two RTP ports each)
    batch = 100      # contacts per pipelined batch: a create and an end each

    def churn(self, prefix, count):
        errors = []
        share = count // self.connections

        def run(worker):
            client = PipelinedClient(self.server.port, self.server.admin_token)
            try:
                for start in range(0, share, self.batch):
                    requests = []
                    for i in range(start, min(share, start + self.batch)):
                        contact_id = "%s-%d-%06d" % (prefix, worker, i)
                        body = json.dumps({"InstanceId": "local", "ContactId": contact_id,
                                           "AgentId": "agent-%d" % (i % 50)}).encode()
                        requests.append(client.request("POST", "/v1/contacts", body))
                        requests.append(client.request("POST",
                                                       "/v1/contacts/%s/end" % contact_id))
                    statuses = client.exchange(requests)
                    if statuses != [201, 200] * (len(requests) // 2):
                        errors.append(statuses)
                        return
            except Exception as error:  # reported below, with the others
                errors.append(repr(error))
            finally:
                client.close()

        threads = [threading.Thread(target=run, args=(w,)) for w in range(self.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [], "every create 201 and every end 200")
        return share * self.connections

    def test_memory_stays_flat_over_ended_contacts(self):
        pid = self.server.proc.pid
        with open("/proc/%d/maps" % pid) as f:
            if "libasan" in f.read():
                self.skipTest("AddressSanitizer build: RSS is its quarantine, not the server's")
        figures = {"start": rss_kib(pid)}
        started = time.monotonic()
        done = self.churn("warm", self.warm_up)
        time.sleep(1)
        figures["after_%d" % done] = first = rss_kib(pid)
        done += self.churn("load", self.contacts - self.warm_up)
        time.sleep(1)
        figures["after_%d" % done] = last = rss_kib(pid)
        per_ended = (last - first) / float(done - self.warm_up)
        figures["kib_per_ended_contact"] = round(per_ended, 4)
        figures["seconds"] = round(time.monotonic() - started, 1)
        counts = self.metrics()
        figures["in_memory"] = metric(counts, "callrec_contacts_in_memory")
        print("\nlimits memory (VmRSS KiB): %s" % json.dumps(figures))
        # With the state database grown (SQLite's page caches full), the same
        # with recordings.
        per_recording = self.measure_recordings(pid)
        self.assertEqual(metric(counts, "callrec_contacts", state="ENDED"), done)
        self.assertEqual(figures["in_memory"], 0)
        self.assertLess(per_ended, 0.05, "ended contacts keep memory: %s" % figures)
        self.assertLess(per_recording, 0.25, "ended recordings keep memory")

    def measure_recordings(self, pid):
        """Contacts with a recording each (START, then the end finishes the
        file): what /v1 shows of a finished recording is not kept in memory.
        Returns KiB per ended recording."""
        start_path = "/contact/start-recording"

        def churn(prefix, count):
            client = PipelinedClient(self.server.port, self.server.admin_token)
            try:
                for first in range(0, count, 50):
                    requests = []
                    for i in range(first, min(count, first + 50)):
                        contact_id = "%s-%05d" % (prefix, i)
                        body = json.dumps({"InstanceId": "local", "ContactId": contact_id,
                                           "AgentId": "agent-1"}).encode()
                        requests.append(client.request("POST", "/v1/contacts", body))
                        signed, headers = self.server.sign(start_path, {
                            "InstanceId": "local", "ContactId": contact_id,
                            "InitialContactId": contact_id,
                            "VoiceRecordingConfiguration": {"VoiceRecordingTrack": "ALL"}})
                        requests.append(("POST %s HTTP/1.1\r\n" % start_path).encode() + b"".join(
                            ("%s: %s\r\n" % (k, v)).encode() for k, v in headers
                            if k.lower() != "content-length") +
                            b"Content-Length: %d\r\n\r\n" % len(signed) + signed)
                        requests.append(client.request("POST",
                                                       "/v1/contacts/%s/end" % contact_id))
                    statuses = client.exchange(requests)
                    self.assertEqual(statuses, [201, 200, 200] * (len(requests) // 3))
            finally:
                client.close()

        def drained(contact_id):
            # The writer finishes files in order: the last one's final metadata
            # (with its SHA-256) means nothing is queued any more.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                reply = self.server.v1("GET", "/v1/recordings/%s" % contact_id)
                if reply.status == 200 and reply.json().get("Sha256"):
                    return
                time.sleep(0.1)
            self.fail("the recording writer did not catch up")

        # Two rounds warm up the recording path (the writer's buffers, the
        # allocator's arenas); RSS is read with the writer's queue empty (a
        # backlog raises the peak).
        for round_ in range(2):
            churn("warm%d" % round_, 2000)
            drained("warm%d-01999" % round_)
        first = rss_kib(pid)
        started = time.monotonic()
        for round_ in range(2):
            churn("rec%d" % round_, 2000)
            drained("rec%d-01999" % round_)
        last = rss_kib(pid)
        per_ended = (last - first) / 4000.0
        print("\nlimits memory with recordings (VmRSS KiB): %s" % json.dumps({
            "after_4000": first, "after_8000": last,
            "kib_per_ended_recording": round(per_ended, 4),
            "seconds": round(time.monotonic() - started, 1)}))
        self.assertEqual(self.server.get_contact("rec1-01999")["Recording"]["Running"], False)
        return per_ended



if __name__ == "__main__":
    unittest.main()
