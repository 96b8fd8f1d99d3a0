"""rtpengine's ng control protocol over UDP: each request is "<cookie> <bencoded
dict>", the answer "<cookie> <bencoded dict>" with "result": "ok" (or "error"
and "error-reason"). A lost datagram is sent again with the same cookie:
rtpengine answers a repeated cookie from its cache instead of acting twice."""

import itertools
import os
import re
import socket

from bencode import decode, encode, text


class NgError(RuntimeError):
    pass


class NgClient:
    def __init__(self, host: str, port: int, timeout: float = 2.0, attempts: int = 3):
        self.address = (host, port)
        self.timeout = timeout
        self.attempts = attempts
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(timeout)
        self._cookies = (f"{os.getpid()}_{n}" for n in itertools.count())

    def close(self) -> None:
        self.sock.close()

    def request(self, command: str, **fields) -> dict:
        cookie = next(self._cookies)
        message = cookie.encode() + b" " + encode({"command": command, **_keys(fields)})
        for _ in range(self.attempts):
            self.sock.sendto(message, self.address)
            try:
                while True:
                    data = self.sock.recv(65536)
                    got, _, body = data.partition(b" ")
                    if got.decode(errors="replace") == cookie:
                        break
            except socket.timeout:
                continue
            answer = text(decode(body))
            if answer.get("result") not in ("ok", "pong"):
                raise NgError(f"ng {command}: {answer.get('result')} "
                              f"{answer.get('error-reason', '')}".strip())
            return answer
        raise NgError(f"ng {command}: no answer from {self.address[0]}:{self.address[1]} "
                      f"after {self.attempts} attempts")

    def ping(self) -> dict:
        return self.request("ping")


def _keys(fields: dict) -> dict:
    """Python names to ng keys: call_id -> call-id, record_call -> record call."""
    spaced = {"record_call", "transport_protocol"}
    return {(k.replace("_", " ") if k in spaced else k.replace("_", "-")): v
            for k, v in fields.items()}


def audio_sdp(session_id: int, port: int, host: str = "127.0.0.1") -> str:
    """A one-stream PCMU offer/answer body for an endpoint receiving at host:port."""
    return ("v=0\r\n"
            f"o=- {session_id} 1 IN IP4 {host}\r\n"
            "s=callrec bench\r\n"
            f"c=IN IP4 {host}\r\n"
            "t=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n")


def sdp_media_address(sdp: str) -> tuple[str, int]:
    """The (connection address, port) of an SDP body's first audio stream: its
    own c= line if it has one, else the session's."""
    session_host = media_host = None
    port = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            if port is not None:
                break  # past the first audio stream
            m = re.match(r"m=audio (\d+)", line)
            if m:
                port = int(m.group(1))
        elif line.startswith("c="):
            if port is None:
                session_host = line.split()[-1]
            else:
                media_host = line.split()[-1]
    host = media_host or session_host
    if host is None or port is None:
        raise NgError(f"no audio address in the SDP rtpengine returned:\n{sdp}")
    return host, port
