#!/usr/bin/env python3
"""Writes tests/fixtures/audio/agent_ulaw.pcap: the agent's audio
(agent_ulaw.wav, 1000 Hz at 1-2 s, 1800 Hz at 3.5-4.5 s) as 20 ms PCMU RTP
packets, for SIPp's play_pcap_audio in siprec_uac.xml.

Why a pcap: SIPp 3.6 plays rtp_stream audio to the first m= line of the answer
only. play_pcap_audio sends each captured packet to the answer's first media
port plus (its captured destination port - the first captured packet's), so a
capture whose first packet goes to port 6000 and whose audio goes to 6002 lands
on the second m= line when the recorder answered adjacent even ports (callrec
does on a fresh range; the tests check it). The first packet is an RTCP
receiver report (RFC 3550 6.4.2) on the first port, which a recorder ignores.

Standard library only; the same bytes on every run.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIO = os.path.normpath(os.path.join(HERE, "..", "fixtures", "audio"))
SSRC = 0x0A6E7001
BASE_PORT, AGENT_PORT, SOURCE_PORT = 6000, 6002, 7002


def wav_data(path):
    with open(path, "rb") as f:
        image = f.read()
    at = 12
    while at + 8 <= len(image):
        tag, size = image[at:at + 4], struct.unpack("<I", image[at + 4:at + 8])[0]
        if tag == b"data":
            return image[at + 8:at + 8 + size]
        at += 8 + size + (size & 1)
    raise ValueError("no data chunk in " + path)


def frame(dport, payload):
    """Ethernet + IPv4 + UDP around payload, 127.0.0.1 to 127.0.0.1."""
    udp = struct.pack("!HHHH", SOURCE_PORT, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def main():
    samples = wav_data(os.path.join(AUDIO, "agent_ulaw.wav"))
    records = [(0.0, frame(BASE_PORT, struct.pack("!BBHI", 0x80, 201, 1, SSRC)))]
    for n in range(len(samples) // 160):
        header = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * 160) & 0xFFFFFFFF, SSRC)
        records.append((0.001 + n * 0.02, frame(AGENT_PORT, header + samples[n * 160:(n + 1) * 160])))
    path = os.path.join(AUDIO, "agent_ulaw.pcap")
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
        for when, data in records:
            seconds = int(when)
            micros = int(round((when - seconds) * 1e6))
            out.write(struct.pack("<IIII", seconds, micros, len(data), len(data)))
            out.write(data)
    print("wrote %s: %d RTP packets" % (path, len(records) - 1))


if __name__ == "__main__":
    main()
