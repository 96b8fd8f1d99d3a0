"""A minimal SIP user agent client for the SIPREC tests that need to send what
no well-behaved client sends (broken bodies, non-SIPREC INVITEs) or the exact
bodies real SBCs sent (tests/fixtures/siprec). Over UDP or TCP on 127.0.0.1.

The well-behaved peers are SIPp (tests/sipp) and callrec-callgen; this module
only frames requests, reads responses, and ACKs/BYEs like RFC 3261 says.
SIP over TLS uses Python's ssl module (OpenSSL): a TLS client that is not
sofia-sip's.
"""

import os
import random
import re
import socket
import ssl
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.normpath(os.path.join(HERE, "..", "fixtures", "siprec"))


def sample_body(name):
    """A fixture body and its multipart Content-Type (boundary from its first '--' line)."""
    with open(os.path.join(SAMPLES, name), "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    for line in text.splitlines():
        if line.startswith("--"):
            boundary = line[2:].strip()
            return raw, 'multipart/mixed;boundary="%s"' % boundary
    return raw, "application/sdp"


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return default


def parse_message(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    first = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return first, headers, body


class SipClient:
    """One dialog at a time: invite() -> ack() -> reinvite()... -> bye()."""

    def __init__(self, server_port, transport="udp", host="127.0.0.1", src=True, tls_context=None,
                 source=None):
        """transport: udp, tcp or tls (tls_context: an ssl.SSLContext, verifying the server).
        `source`: the local address to send from (another 127.x address), else `host`."""
        self.src = src  # Contact with +sip.src (a recording client)
        self.server = (host, server_port)
        self.transport = transport
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((source or host, 0))
        elif transport == "tls":
            raw = socket.create_connection(
                self.server, timeout=5, source_address=(source, 0) if source else None)
            self.sock = tls_context.wrap_socket(raw, server_hostname=host)
        else:
            self.sock = socket.create_connection(
                self.server, timeout=5, source_address=(source, 0) if source else None)
        self.local = self.sock.getsockname()
        self.call_id = "%016x@callrec-test" % random.getrandbits(64)
        self.from_tag = "%08x" % random.getrandbits(32)
        self.to_tag = None
        self.cseq = 0
        self.contact = None
        self.buffer = b""

    def close(self):
        self.sock.close()

    # ---- framing --------------------------------------------------------------------

    def _send(self, data):
        if self.transport == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def _read_one(self, timeout):
        self.sock.settimeout(timeout)
        if self.transport == "udp":
            data, _ = self.sock.recvfrom(65535)
            return data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                match = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", self.buffer[:head_end])
                length = int(match.group(2)) if match else 0
                total = head_end + 4 + length
                if len(self.buffer) >= total:
                    data, self.buffer = self.buffer[:total], self.buffer[total:]
                    return data
            chunk = self.sock.recv(65535)
            if not chunk:
                raise ConnectionError("server closed the TCP connection")
            self.buffer += chunk

    def request(self, method, body=b"", content_type=None, extra_headers=(), cseq=None,
                branch=None, timeout=10, want_final=True):
        """Sends one request; returns its final response (provisionals skipped)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or "z9hG4bK%016x" % random.getrandbits(64)
        uri = self.contact or "sip:srs@%s:%d" % self.server
        proto = self.transport.upper()
        to = "<sip:srs@%s:%d>" % self.server + (";tag=%s" % self.to_tag if self.to_tag else "")
        lines = [
            "%s %s SIP/2.0" % (method, uri),
            "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (proto, self.local[0], self.local[1], branch),
            "Max-Forwards: 70",
            "From: <sip:src@%s>;tag=%s" % (self.local[0], self.from_tag),
            "To: %s" % to,
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:src@%s:%d;transport=%s>%s" % (
                self.local[0], self.local[1], self.transport, ";+sip.src" if self.src else ""),
        ]
        lines += list(extra_headers)
        if body:
            lines.append("Content-Type: %s" % content_type)
        lines.append("Content-Length: %d" % len(body))
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        if not want_final:
            return None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no final response to %s" % method)
            data = self._read_one(remaining)
            first, headers, rbody = parse_message(data)
            if not first[0].startswith("SIP/2.0"):
                continue  # a request from the server (e.g. BYE at shutdown): not ours here
            status = int(first[1])
            response = Response(status, first[2] if len(first) > 2 else "", headers, rbody)
            if response.header("CSeq", "").split()[0] != str(cseq):
                continue
            if status < 200:
                continue
            if method == "INVITE":
                to_value = response.header("To", "")
                tag = re.search(r";\s*tag=([^;>\s]+)", to_value)
                if tag and status < 300:
                    self.to_tag = tag.group(1)
                contact = re.search(r"<([^>]+)>", response.header("Contact", "") or "")
                if contact and status < 300:
                    self.contact = contact.group(1)
                # ACK: same branch for a failure (same transaction), new one for a 2xx.
                if status >= 300:
                    saved_tag = self.to_tag
                    if tag:
                        self.to_tag = tag.group(1)
                    self.request("ACK", cseq=cseq, branch=branch, want_final=False)
                    self.to_tag = saved_tag
                else:
                    self.request("ACK", cseq=cseq, want_final=False)
            return response

    def invite(self, body, content_type, extra_headers=("Require: siprec",), **kw):
        return self.request("INVITE", body, content_type, extra_headers, **kw)

    def bye(self):
        return self.request("BYE")


def answered_ports(sdp):
    """{label: port} and the directions from an answer SDP (bytes)."""
    ports, directions, label, port, direction = {}, {}, None, None, None
    entries = []
    for line in sdp.decode().splitlines():
        if line.startswith("m="):
            if port is not None:
                entries.append((label, port, direction))
            port, label, direction = int(line.split()[1]), None, None
        elif line.startswith("a=label:"):
            label = line[len("a=label:"):].strip()
        elif line in ("a=recvonly", "a=sendonly", "a=inactive", "a=sendrecv"):
            direction = line[2:]
    if port is not None:
        entries.append((label, port, direction))
    for label, port, direction in entries:
        ports[label] = port
        directions[label] = direction
    return ports, directions, entries


# ---- bodies of our own (RFC 7865 metadata + SDP) ---------------------------------------

BOUNDARY = "callrec-test-boundary"


def siprec_sdp(streams, address="127.0.0.1", codecs=(0,), crypto=None):
    """streams: [(label, port, direction)]. crypto: {label: ["1 AES_CM_128_HMAC_SHA1_80
    inline:...", ...]}: those streams are offered RTP/SAVP with these a=crypto lines."""
    lines = ["v=0", "o=- 1 1 IN IP4 %s" % address, "s=siprec", "c=IN IP4 %s" % address, "t=0 0"]
    names = {0: "PCMU/8000", 8: "PCMA/8000", 18: "G729/8000", 96: "telephone-event/8000",
             101: "telephone-event/8000"}
    for label, port, direction in streams:
        keys = (crypto or {}).get(label)
        profile = "RTP/SAVP" if keys is not None else "RTP/AVP"
        lines.append("m=audio %d %s %s" % (port, profile, " ".join(str(c) for c in codecs)))
        for c in codecs:
            lines.append("a=rtpmap:%d %s" % (c, names[c]))
        lines += ["a=crypto:%s" % k for k in keys or ()]
        lines += ["a=label:%s" % label, "a=%s" % direction]
    return "\r\n".join(lines) + "\r\n"


def siprec_metadata(session_id, group_id, participants):
    """participants: [(participant id, aor, name, [stream label it sends])]."""
    ns = "urn:ietf:params:xml:ns:recording:1"
    out = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<recording xmlns=\"%s\">" % ns,
           "<datamode>complete</datamode>",
           "<group group_id=\"%s\"><associate-time>2026-11-24T12:00:00Z</associate-time></group>"
           % group_id,
           "<session session_id=\"%s\"><group-ref>%s</group-ref></session>" % (session_id, group_id)]
    streams = []
    for pid, aor, name, sends in participants:
        out.append("<participant participant_id=\"%s\"><nameID aor=\"%s\"><name>%s</name>"
                   "</nameID></participant>" % (pid, aor, name))
        streams += [(pid, label) for label in sends]
    for pid, label in streams:
        out.append("<stream stream_id=\"s%s\" session_id=\"%s\"><label>%s</label></stream>"
                   % (label, session_id, label))
    for pid, aor, name, sends in participants:
        out.append("<participantstreamassoc participant_id=\"%s\">%s</participantstreamassoc>"
                   % (pid, "".join("<send>s%s</send>" % label for label in sends)))
    out.append("</recording>")
    return "\r\n".join(out) + "\r\n"


def multipart(sdp, metadata, boundary=BOUNDARY):
    parts = ["--%s\r\nContent-Type: application/sdp\r\n\r\n%s" % (boundary, sdp)]
    if metadata is not None:
        parts.append("--%s\r\nContent-Type: application/rs-metadata+xml\r\n"
                     "Content-Disposition: recording-session\r\n\r\n%s" % (boundary, metadata))
    body = "\r\n".join(parts) + "\r\n--%s--\r\n" % boundary
    return body.encode(), "multipart/mixed;boundary=%s" % boundary
