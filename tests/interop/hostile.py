"""The hostile-input corpus: malformed and oversized HTTP requests, SIP messages
and RTP packets, generated (deterministically) so the repository holds the
recipe rather than megabytes of junk, plus the fuzzers' seed corpora
(fuzz/corpus/*), replayed as they are.

Each entry is (name, bytes). test_hostile.py sends them to a running server
while a good call records.
"""

import random
import struct
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FUZZ_CORPUS = REPO / "fuzz" / "corpus"

# --------------------------------------------------------------------- HTTP


def _request(head, body=b""):
    return head.replace("\n", "\r\n").encode() + body


def http_corpus():
    rng = random.Random(7)
    connect = "POST /contact/suspend-recording HTTP/1.1\nHost: h\nContent-Type: application/json\n"
    nested = b"[" * 60000 + b"]" * 60000
    out = [
        ("random bytes", bytes(rng.getrandbits(8) for _ in range(4096))),
        ("empty line only", b"\r\n\r\n"),
        ("NUL in the request line", b"GET /\x00healthz HTTP/1.1\r\nHost: h\r\n\r\n"),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ("TLS ClientHello to plain HTTP",
         bytes.fromhex("16030100a5010000a10303") + bytes(range(32)) + b"\x00" * 100),
        ("request line of 100 KB", _request("GET /" + "a" * 100_000 + " HTTP/1.1\nHost: h\n\n")),
        ("header value of 70 KB", _request("GET /healthz HTTP/1.1\nHost: h\nX-Big: " + "b" * 70_000 +
                                           "\n\n")),
        ("5,000 headers", _request("GET /healthz HTTP/1.1\nHost: h\n" +
                                   "".join("X-H%d: v\n" % i for i in range(5000)) + "\n")),
        ("Content-Length of 20 digits", _request(connect + "Content-Length: 99999999999999999999\n\n",
                                                 b"{}")),
        ("negative Content-Length", _request(connect + "Content-Length: -1\n\n", b"{}")),
        ("two different Content-Lengths", _request(connect + "Content-Length: 2\nContent-Length: 5\n\n",
                                                   b"{}")),
        ("chunk size overflowing 64 bits",
         _request(connect + "Transfer-Encoding: chunked\n\n", b"fffffffffffffffffff\r\nx\r\n0\r\n\r\n")),
        ("chunk size not hex", _request(connect + "Transfer-Encoding: chunked\n\n", b"zz\r\nx\r\n0\r\n\r\n")),
        ("chunked body over 64 KiB", _request(connect + "Transfer-Encoding: chunked\n\n",
                                              b"".join(b"4000\r\n" + b"a" * 0x4000 + b"\r\n"
                                                       for _ in range(6)) + b"0\r\n\r\n")),
        ("JSON nested 60,000 deep (under the body limit)",
         _request(connect + "Content-Length: %d\n\n" % len(nested), nested)),
        ("JSON with invalid UTF-8 and NUL",
         _request(connect + "Content-Length: 40\n\n", b'{"ContactId":"\xff\xfe\x00\x00","x":"\xc3"}   ')),
        ("Authorization with 10,000 signed headers",
         _request("POST /contact/start-recording HTTP/1.1\nHost: h\nX-Amz-Date: 20261124T000000Z\n"
                  "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/connect/"
                  "aws4_request, SignedHeaders=" + ";".join("h%d" % i for i in range(10000)) +
                  ", Signature=" + "0" * 64 + "\nContent-Length: 2\n\n", b"{}")),
        ("Authorization of garbage", _request("POST /contact/start-recording HTTP/1.1\nHost: h\n"
                                              "Authorization: AWS4-HMAC-SHA256 ,,,,===;;;\n"
                                              "Content-Length: 2\n\n", b"{}")),
        ("bearer token of 60 KB", _request("GET /v1/contacts HTTP/1.1\nHost: h\nAuthorization: Bearer " +
                                           "t" * 60_000 + "\n\n")),
        ("path traversal", _request("GET /../../../../etc/passwd HTTP/1.1\nHost: h\n\n")),
        ("encoded path traversal", _request("GET /%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\nHost: h\n\n")),
        ("encoded slash traversal", _request("GET /..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\nHost: h\n\n")),
        # A page name over NAME_MAX: std::filesystem threw ENAMETOOLONG out of an HTTP
        # thread, and the process exited (issue 15.3).
        ("page name over NAME_MAX", _request("GET /" + "a" * 300 + ".html HTTP/1.1\nHost: h\n\n")),
        ("unknown method", _request("BREW /healthz HTTP/1.1\nHost: h\n\n")),
        ("HTTP/0.9 request", b"GET /healthz\r\n"),
        ("HTTP version 9.9", _request("GET /healthz HTTP/9.9\nHost: h\n\n")),
        ("header without colon", _request("GET /healthz HTTP/1.1\nHost h\nbroken\n\n")),
        ("obsolete line folding", _request("GET /healthz HTTP/1.1\nHost: h\nX-A: a\n  folded\n\n")),
        ("Range garbage", _request("GET /v1/recordings/none/audio HTTP/1.1\nHost: h\n"
                                   "Range: bytes=999999999999999999999-1,-0,5-2\n\n")),
    ]
    for path in sorted((FUZZ_CORPUS / "http_request").glob("*")):
        out.append(("fuzz seed " + path.name, path.read_bytes()))
    return out


# ---------------------------------------------------------------------- SIP

_SIP_HEAD = ("{method} sip:srs@127.0.0.1 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{tag}\n"
             "From: <sip:src@127.0.0.1>;tag={tag}\n"
             "To: <sip:srs@127.0.0.1>\n"
             "Call-ID: hostile-{tag}\n"
             "CSeq: 1 {method}\n"
             "Max-Forwards: 70\n")


def _sip(method, tag, extra="", body=b"", content_type=None, length=None):
    head = _SIP_HEAD.format(method=method, tag=tag) + extra
    if content_type:
        head += "Content-Type: %s\n" % content_type
    head += "Content-Length: %d\n\n" % (len(body) if length is None else length)
    return head.replace("\n", "\r\n").encode() + body


def _multipart(sdp, xml, boundary="hostile"):
    return ("--%s\r\nContent-Type: application/sdp\r\n\r\n%s\r\n--%s\r\n"
            "Content-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n"
            "%s\r\n--%s--\r\n" % (boundary, sdp, boundary, xml, boundary)).encode()


_SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\na=sendonly\r\na=label:1\r\n"
        "m=audio 40002 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n")
_XML = ('<?xml version="1.0"?><recording xmlns="urn:ietf:params:xml:ns:recording:1">'
        '<datamode>complete</datamode><session session_id="aGk="/></recording>')
_SIPREC = "Require: siprec\nContact: <sip:src@127.0.0.1:5999>;+sip.src\n"
_MIXED = "multipart/mixed;boundary=hostile"


def sip_corpus():
    rng = random.Random(11)
    laughs = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' +
              "".join('<!ENTITY %s "%s">' % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10) for i in range(9)) +
              ']><recording xmlns="urn:ietf:params:xml:ns:recording:1"><session session_id="&j;"/>'
              '</recording>')
    deep_xml = ('<?xml version="1.0"?><recording xmlns="urn:ietf:params:xml:ns:recording:1">' +
                "<group>" * 5000 + "</group>" * 5000 + "</recording>")
    many_m = _SDP + "".join("m=audio %d RTP/AVP 0\r\na=sendonly\r\na=label:%d\r\n" % (41000 + 2 * i, i + 3)
                            for i in range(400))
    external = ('<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd">'
                '<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>')
    out = [
        ("random bytes", bytes(rng.getrandbits(8) for _ in range(1400))),
        ("request line only", b"INVITE sip:srs@127.0.0.1 SIP/2.0\r\n\r\n"),
        ("response to nobody", b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n"
                               b"Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
        ("Content-Length far beyond the datagram",
         _sip("INVITE", "cl", _SIPREC, b"v=0\r\n", "application/sdp", length=100000)),
        ("multipart without its boundary", _sip("INVITE", "nb", _SIPREC, _multipart(_SDP, _XML),
                                                "multipart/mixed")),
        ("multipart with the wrong boundary", _sip("INVITE", "wb", _SIPREC, _multipart(_SDP, _XML, "other"),
                                                   _MIXED)),
        ("billion laughs in the metadata", _sip("INVITE", "bl", _SIPREC, _multipart(_SDP, laughs), _MIXED)),
        ("external DTD in the metadata", _sip("INVITE", "ext", _SIPREC, _multipart(_SDP, external), _MIXED)),
        ("metadata nested 5,000 deep", _sip("INVITE", "deep", _SIPREC, _multipart(_SDP, deep_xml), _MIXED)),
        ("SDP with 400 m-lines", _sip("INVITE", "mm", _SIPREC, _multipart(many_m, _XML), _MIXED)),
        ("SDP of garbage", _sip("INVITE", "sg", _SIPREC, _multipart("v=0\r\nm=\r\nc=IN IP9 x\r\n", _XML),
                                _MIXED)),
        ("100 Via headers", _sip("OPTIONS", "via", "".join(
            "Via: SIP/2.0/UDP 10.0.0.%d:5060;branch=z9hG4bKv%d\n" % (i % 250, i) for i in range(100)))),
        ("Request-URI of 8 KB", ("INVITE sip:" + "u" * 8000 + "@127.0.0.1 SIP/2.0\r\n\r\n").encode()),
        ("non-UTF-8 From", _sip("OPTIONS", "utf", "").replace(b"<sip:src@", b"\xff\xfe<sip:\xc3@")),
        ("CSeq overflowing", _sip("OPTIONS", "cseq", "").replace(b"CSeq: 1 ", b"CSeq: 99999999999999999999 ")),
        ("BYE for an unknown dialog", _sip("BYE", "bye", "").replace(b"To: <sip:srs@127.0.0.1>",
                                                                     b"To: <sip:srs@127.0.0.1>;tag=nope")),
        ("re-INVITE for an unknown dialog",
         _sip("INVITE", "reinv", _SIPREC, _multipart(_SDP, _XML), _MIXED).replace(
             b"To: <sip:srs@127.0.0.1>", b"To: <sip:srs@127.0.0.1>;tag=nope")),
        ("ACK for nothing", _sip("ACK", "ack", "")),
        ("INVITE with no codec in common", _sip("INVITE", "codec", _SIPREC, _multipart(
            _SDP.replace("RTP/AVP 0", "RTP/AVP 96"), _XML), _MIXED)),
    ]
    for name in ("sip_message", "siprec_body"):
        for path in sorted((FUZZ_CORPUS / name).glob("*")):
            data = path.read_bytes()
            if len(data) <= 60000:
                out.append(("fuzz seed %s/%s" % (name, path.name), data))
    return out


# ---------------------------------------------------------------------- RTP


def rtp_invalid_corpus():
    """Datagrams sent to a recording call's own ports that are not RTP (nor
    RTCP): each must be refused without touching the recording."""
    header = struct.pack("!BBHII", 0x80, 0, 1, 160, 0x1234)
    out = [
        ("one byte", b"\x80"),
        ("eleven bytes", header[:11]),
        ("version 0", b"\x00" + header[1:] + b"\xff" * 160),
        ("version 1", b"\x40" + header[1:] + b"\xff" * 160),
        ("version 3", b"\xc0" + header[1:] + b"\xff" * 160),
        ("15 CSRCs announced, none there", b"\x8f" + header[1:] + b"\xff" * 8),
        ("extension longer than the packet", b"\x90" + header[1:] + b"\xbe\xde\xff\xff" + b"\xff" * 8),
        ("padding longer than the payload", b"\xa0" + header[1:] + b"\xff" * 10 + b"\xfa"),
        ("padding count zero", b"\xa0" + header[1:] + b"\xff" * 10 + b"\x00"),
    ]
    for path in sorted((FUZZ_CORPUS / "rtp_packet").glob("*")):
        data = path.read_bytes()
        if 2 <= len(data) and (data[0] >> 6) != 2:
            out.append(("fuzz seed " + path.name, data[:1400]))
    return out


def rtp_strange_valid(count=400, seed=3):
    """Well-formed RTP with hostile values for another call: SSRC changing,
    timestamps jumping back and forth, sequence wrapping, unknown payload
    types, markers, RFC 4733 events with absurd durations."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        pt = rng.choice([0, 0, 8, 13, 101, 127])
        marker = 0x80 if rng.random() < 0.1 else 0
        seq = rng.choice([i, 65535 - i, rng.getrandbits(16)])
        ts = rng.choice([160 * i, 0xFFFFFFFF - 160 * i, rng.getrandbits(32)])
        ssrc = rng.choice([1, 2, rng.getrandbits(32)])
        if pt == 101:
            payload = bytes([rng.randrange(256), 0x80 | rng.randrange(64)]) + struct.pack("!H", 0xFFFF)
        else:
            payload = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 160, 1200])))
        out.append(struct.pack("!BBHII", 0x80, marker | pt, seq, ts, ssrc) + payload)
    return out
