#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ from tests/fixtures/ and
hand-written inputs, in each target's input format (see the target's header
comment). Run from anywhere; it rewrites only the seed-*.bin files, so inputs
kept from fuzzing runs (crash-*, regress-*) stay. Standard library, and the
interop tests' SRTP sender (python3-cryptography) for the SRTP seeds."""

import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, seeds):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*.bin"):
        old.unlink()
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        (folder / f"seed-{name}.bin").write_bytes(data)


# --- SIPREC bodies ---------------------------------------------------------

def siprec_fixtures():
    """(name, content type, body) of every multipart fixture, and the plain one."""
    out = []
    for path in sorted((FIXTURES / "siprec").glob("*.txt")):
        body = path.read_text()
        first = next((line for line in body.splitlines() if line.startswith("--")), None)
        if first is None:
            out.append((path.stem, "application/sdp", body))
        else:
            boundary = first[2:].strip()
            out.append((path.stem, f"multipart/mixed;boundary={boundary}", body))
    return out


def parts(content_type, body):
    """The SDP and the metadata of a fixture, split naively (seeds only)."""
    if not content_type.startswith("multipart"):
        return body, None
    boundary = "--" + content_type.split("boundary=")[1]
    sdp = xml = None
    for chunk in body.split(boundary):
        head, _, content = chunk.partition("\n\n")
        if "application/sdp" in head:
            sdp = content.strip() + "\n"
        elif "rs-metadata" in head:
            xml = content.strip() + "\n"
    return sdp, xml


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def invite(content_type, body, extra=""):
    body = crlf(body)
    return crlf(
        "INVITE sip:srs@192.0.2.1:5060 SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-1\n"
        "Max-Forwards: 70\n"
        "From: <sip:src@192.0.2.9>;tag=1\n"
        "To: <sip:srs@192.0.2.1>\n"
        "Call-ID: call-1@192.0.2.9\n"
        "CSeq: 1 INVITE\n"
        "Contact: <sip:src@192.0.2.9:5060>\n"
        "Require: siprec\n"
        f"{extra}"
        f"Content-Type: {content_type}\n"
        f"Content-Length: {len(body.encode())}\n\n") + body


def siprec_seeds():
    fixtures = siprec_fixtures()
    sdp_seeds, xml_seeds, body_seeds, sip_seeds = {}, {}, {}, {}
    for name, content_type, body in fixtures:
        sdp, xml = parts(content_type, body)
        if sdp:
            sdp_seeds[name] = crlf(sdp)
        if xml:
            xml_seeds[name] = xml
        body_seeds[name] = content_type + "\r\n" + body
        sip_seeds[name] = invite(content_type, body)
    sdp_seeds["telephone-event-inactive"] = crlf(
        "v=0\no=- 1 1 IN IP6 2001:db8::9\ns=-\nc=IN IP6 2001:db8::9\nt=0 0\n"
        "m=audio 4000 RTP/AVP 8 101\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n"
        "a=label:customer\na=inactive\nm=audio 0 RTP/AVP 0\na=label:agent\n"
        "m=video 4004 RTP/AVP 96\na=rtpmap:96 H264/90000\n")
    sdp_seeds["sdes-srtp"] = crlf(
        "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"
        "m=audio 4000 RTP/SAVP 0\na=rtpmap:0 PCMU/8000\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\n"
        "a=label:1\na=sendonly\n"
        "m=audio 4002 RTP/SAVPF 0\na=crypto:5 AES_256_CM_HMAC_SHA1_32 "
        "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ== WSH=64\n"
        "a=label:2\na=sendonly\n")
    sip_seeds["identity-headers"] = invite(
        "application/sdp", sdp_seeds["telephone-event-inactive"],
        "X-Contact-Id: 11111111-2222-3333-4444-555555555555\n"
        "X-Initial-Contact-Id: c-1\n")
    sip_seeds["options"] = crlf(
        "OPTIONS sip:srs@192.0.2.1 SIP/2.0\nVia: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK-2\n"
        "From: <sip:a@192.0.2.9>;tag=2\nTo: <sip:srs@192.0.2.1>\nCall-ID: o@192.0.2.9\n"
        "CSeq: 7 OPTIONS\nContent-Length: 0\n\n")
    write("sdp_offer", sdp_seeds)
    write("rs_metadata", xml_seeds)
    write("siprec_body", body_seeds)
    write("sip_message", sip_seeds)


# --- RTP -------------------------------------------------------------------

def rtp(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def rtp_seeds():
    seeds = {p.stem: p.read_bytes() for p in sorted((FIXTURES / "rtp").glob("*.raw"))}
    # Authentic SRTP under the target's fixed key (AES_CM_128_HMAC_SHA1_32, 30 x 0x07),
    # protected by the interop tests' RFC 3711 sender.
    sys.path.insert(0, str(ROOT / "tests" / "interop"))
    import srtp  # noqa: E402 - the interop tests' module
    sender = srtp.Sender(srtp.new_crypto_line(1, "AES_CM_128_HMAC_SHA1_32", bytes([7] * 30)))
    for seq in (1, 65535):
        seeds["srtp-seq-%d" % seq] = sender.protect(rtp(0, seq, 160 * seq, 0x1234, bytes(160)))
    write("rtp_packet", seeds)


def step(op, delay_ms, datagram=None):
    """delay_ms: 0-249, or 250-255 for a gap of 1-6 s."""
    out = struct.pack("!BB", op, delay_ms)
    if datagram is not None:
        out += bytes([min(len(datagram), 255)]) + datagram[:255]
    return out


def session_seeds():
    audio = (FIXTURES / "audio" / "customer_ulaw.raw").read_bytes()
    agent = (FIXTURES / "audio" / "agent_ulaw.raw").read_bytes()
    seeds = {}

    # Two legs, 20 ms apart, a pause and a resume in the middle.
    body = bytes([0])
    for i in range(30):
        body += step(0, 20, rtp(0, 100 + i, 160 * i, 0x1111, audio[160 * i:160 * i + 160]))
        body += step(1, 0, rtp(0, 900 + i, 160 * i, 0x2222, agent[160 * i:160 * i + 160]))
        if i == 12:
            body += step(2, 1)
        if i == 20:
            body += step(3, 1)
    seeds["two-legs-pause"] = body

    # Reordered, duplicated, an SSRC change and a sequence wrap, PCMA, skip paused.
    body = bytes([0b11])
    order = [0, 2, 1, 1, 3, 5, 4, 6]
    for i in order:
        body += step(0, 20, rtp(8, 0xFFFC + i, 160 * i, 0x3333, bytes([0xD5]) * 160))
    body += step(2, 40) + step(3, 40)
    for i in range(6):
        body += step(0, 20, rtp(8, 7 + i, 5_000_000 + 160 * i, 0x4444, bytes([0x55]) * 160))
    seeds["reorder-ssrc-change"] = body

    # DTMF (telephone-event) packets among audio, agent side only recorded.
    body = bytes([0b100])
    for i in range(10):
        body += step(1, 20, rtp(0, i, 160 * i, 0x5555, bytes([0xFF]) * 160))
    for i in range(4):
        event = struct.pack("!BBH", 5, (0x80 if i == 3 else 0) | 10, 160 * (i + 1))
        body += step(1, 20, rtp(101, 10 + i, 1600, 0x5555, event, marker=(i == 0)))
    seeds["dtmf"] = body

    # A long silence between two packets (a gap the session fills).
    body = bytes([0]) + step(0, 20, rtp(0, 1, 0, 7, bytes(160)))
    body += step(0, 255, rtp(0, 2, 160, 7, bytes(160)))
    seeds["gap"] = body
    write("recording_session", seeds)


# --- WAV -------------------------------------------------------------------

def wav(channels, rate, bits, fmt_tag, frames, data_size=None, riff_size=None, extra=b""):
    block = channels * bits // 8
    data = bytes((i * 37) & 0xFF for i in range(frames * block))
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits) + extra
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def wav_seeds():
    seeds = {p.stem: p.read_bytes() for p in sorted((FIXTURES / "audio").glob("tone1000_*.wav"))}
    seeds["stereo-pcm16"] = wav(2, 8000, 16, 1, 80)
    seeds["crashed-zero-sizes"] = wav(2, 8000, 16, 1, 80, data_size=0, riff_size=0)
    seeds["crashed-max-sizes"] = wav(2, 8000, 16, 1, 81, data_size=0xFFFFFFFF,
                                     riff_size=0xFFFFFFFF)[:-3]
    seeds["mulaw-extensible"] = wav(1, 8000, 8, 7, 160, extra=b"\x00\x00")
    seeds["header-only"] = wav(2, 8000, 16, 1, 0)[:44]
    seeds["truncated-fmt"] = wav(1, 8000, 16, 1, 10)[:30]
    list_chunk = b"LIST" + struct.pack("<I", 10) + b"INFOISFT\x00\x00"
    plain = wav(1, 8000, 16, 1, 40)
    seeds["list-before-data"] = (plain[:36] + list_chunk + plain[36:])
    write("wav_file", seeds)


# --- Flows and HTML --------------------------------------------------------

def flow_seeds():
    seeds = {}
    for path in sorted((ROOT / "flows").glob("*.json")):
        kind = b"\x01" if "inbound" in path.stem else b"\x00"
        seeds[path.stem] = kind + path.read_bytes()
    for path in sorted((FIXTURES / "flows").glob("*.json")):
        seeds[path.stem] = b"\x00" + path.read_bytes()
    write("flow_json", seeds)


def html_seeds():
    write("html_sanitiser", {
        "badge": '<span class="badge" style="color:red;font-weight:bold">Recording ON</span>',
        "script": '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=alert(1)></p>',
        "links": '<a href="https://example.com/a?b=1&c=2" rel="noopener">ok</a>'
                 '<a href="javascript:alert(1)">no</a><a href=" HTTP://x">case</a>',
        "table": "<table><thead><tr><th colspan=2>A</th></tr></thead><tbody><tr><td rowspan='1'>"
                 "1<td>2</table><ul><li>one<li>two</ul><br><hr/>",
        "unbalanced": "<b><i>bold italic</b> text</i> &amp; &lt;tag&gt; &#x27; \"q\" 'a'",
        "style-tricks": '<div style="background-color: url(javascript:x); color: \\65 red;'
                        'display:none;behavior:x">d</div>',
        "comment-cdata": "<!-- c --><![CDATA[x]]><?php echo 1 ?><svg><foreignObject>"
                         "<p>x</p></foreignObject></svg><template><b>t</b></template>",
        "entities": "&nbsp;&eacute;&#0;&#xD800;&#1114112;\u00e9\u2028 <h1>T</h1><pre>a\n b</pre>",
    })


# --- Lambda and HTTP -------------------------------------------------------

def lambda_event(attributes, parameters, contact_id="c-2", related=None):
    contact = {"ContactId": contact_id, "InitialContactId": "c-1",
               "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/local",
               "Channel": "VOICE", "Attributes": attributes}
    if related:
        contact["RelatedContactId"] = related
    return {"Name": "ContactFlowEvent",
            "Details": {"ContactData": contact, "Parameters": parameters}}


def lambda_seeds():
    events = {
        "start": (0, lambda_event({"callRecordingStatus": "OFF"}, {"operation": "start"})),
        "pause-agent": (2, lambda_event({"callRecordingStatus": "ON"},
                                        {"operation": "pause", "voiceRecordingTrack": "AGENT"})),
        "resume-related": (3, lambda_event({"callRecordingStatus": "PAUSED"},
                                           {"operation": "resume", "initialContactId": "c-0"},
                                           related="c-9")),
        "stop-unreachable": (4, lambda_event({}, {"operation": "STOP"})),
        "no-contact": (1, {"Details": {"ContactData": {}, "Parameters": {"operation": "start"}}}),
        "bad-operation": (0, lambda_event({"callRecordingStatus": 7}, {"operation": ["x"]})),
    }
    seeds = {name: bytes([sel]) + json.dumps(event).encode()
             for name, (sel, event) in events.items()}
    seeds["not-json"] = b"\x00{\"Details\": "
    write("lambda_event", seeds)


CONNECT_PATHS = ["/contact/start-recording", "/contact/stop-recording",
                 "/contact/suspend-recording", "/contact/resume-recording"]


def connect_bodies():
    return {
        "start": (0, {"InstanceId": "local", "ContactId": "c-1", "InitialContactId": "c-1",
                      "VoiceRecordingConfiguration": {"VoiceRecordingTrack": "ALL"}}),
        "stop": (1, {"InstanceId": "local", "ContactId": "c-2", "InitialContactId": "c-1"}),
        "suspend-screen": (2, {"InstanceId": "local", "ContactId": "c-2",
                               "InitialContactId": "c-1", "ContactRecordingType": "SCREEN"}),
        "resume": (3, {"InstanceId": "local", "ContactId": "c-3", "InitialContactId": "c-1"}),
        "start-bad-track": (0, {"InstanceId": "local", "ContactId": "c-1",
                                "InitialContactId": "c-1",
                                "VoiceRecordingConfiguration": {"VoiceRecordingTrack": 3}}),
        "unknown-contact": (2, {"InstanceId": "other", "ContactId": "x" * 300,
                                "InitialContactId": None}),
    }


def connect_seeds():
    seeds = {name: bytes([op]) + json.dumps(body).encode()
             for name, (op, body) in connect_bodies().items()}
    seeds["not-object"] = b"\x01[1,2,3]"
    write("connect_body", seeds)


def http_request(method, path, query, headers, body):
    target = path + ("?" + query if query else "")
    lines = [f"{method} {target} HTTP/1.1"]
    names = {name.lower() for name, _ in headers}
    if "host" not in names:
        lines.append("Host: 127.0.0.1:8080")
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def http_seeds():
    seeds = {}
    vectors = json.loads((FIXTURES / "sigv4_botocore.json").read_text())
    for i, vector in enumerate(vectors[:6]):
        seeds[f"botocore-{i}"] = http_request(vector["method"], vector["path"], vector["query"],
                                              vector["headers"], vector["body"])
    auth = ("AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20240607/us-east-1/connect/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64)
    for name, (op, body) in connect_bodies().items():
        seeds[f"connect-{name}"] = http_request(
            "POST", CONNECT_PATHS[op], "", [
                ("Content-Type", "application/json"), ("X-Amz-Date", "20240607T120000Z"),
                ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"), ("Authorization", auth)],
            json.dumps(body))
    seeds["chunked"] = (b"POST /contact/stop-recording HTTP/1.1\r\nHost: a\r\n"
                        b"Transfer-Encoding: chunked\r\nAuthorization: AWS4-HMAC-SHA256 "
                        b"Credential=AKIDFUZZ/20240607/us-east-1/connect/aws4_request\r\n\r\n"
                        b"5\r\n{\"a\":\r\n3\r\n1}\n\r\n0\r\n\r\n")
    seeds["query-presigned"] = http_request(
        "GET", "/v1/contacts", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDFUZZ%2F"
        "20240607%2Fus-east-1%2Fconnect%2Faws4_request&X-Amz-Date=20240607T120000Z"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "a" * 64, [], "")
    seeds["http10-no-length"] = b"GET / HTTP/1.0\r\nAuthorization: AWS4-HMAC-SHA256\r\n\r\n"
    write("http_request", seeds)


def v1_seeds():
    """fuzz/v1_request.cpp: a selector byte (0 Range with a 2-byte size, 1 list
    query, 2 page token, 3 POST /v1/contacts, 4 POST /v1/agents, 5 an event),
    then the input."""
    def size(n):
        return bytes([n >> 8, n & 0xFF])
    token = ("contacts:c-1").encode().hex()
    seeds = {
        "range-first-last": b"\0" + size(1000) + b"bytes=0-99",
        "range-open": b"\0" + size(44) + b"bytes=40-",
        "range-suffix": b"\0" + size(1000) + b"bytes=-500",
        "range-several": b"\0" + size(1000) + b"bytes=0-1,5-9",
        "range-past-end": b"\0" + size(10) + b"bytes=10-20",
        "list": b"\1AgentId=alice&State=RECORDING&MaxResults=50",
        "list-token": b"\1MaxResults=2&NextToken=" + token.encode(),
        "list-encoded": b"\1AgentId=a%20b+c&State=PAUS%45D",
        "list-bad-max": b"\1MaxResults=1001",
        "token": b"\2" + ("recordings:c-9").encode().hex().encode(),
        "token-odd": b"\2abc",
        "contact": b"\3" + json.dumps({
            "InstanceId": "local", "ContactId": "c-1", "InitialContactId": "c-0",
            "AgentId": "alice", "Codec": "PCMA", "AgentJoined": False,
            "PauseBehavior": "skip", "DtmfPolicy": "pause"}).encode(),
        "contact-minimal": b'\3{"InstanceId":"local"}',
        "contact-bad-codec": b'\3{"InstanceId":"local","Codec":"OPUS"}',
        "contact-not-object": b"\3[1,2]",
        "agent": b'\4{"AgentId":"alice","Role":"supervisor"}',
        "agent-space": b'\4{"AgentId":"a b"}',
        "event": b'\5{"Type":"payment-form-opened"}',
        "event-number": b'\5{"Type":7}',
    }
    write("v1_request", seeds)


def main():
    siprec_seeds()
    rtp_seeds()
    session_seeds()
    wav_seeds()
    flow_seeds()
    html_seeds()
    lambda_seeds()
    connect_seeds()
    http_seeds()
    v1_seeds()


if __name__ == "__main__":
    main()
