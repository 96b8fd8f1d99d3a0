"""What rtpengine recorded: its pcap files (--recording-method=pcap), read with
struct. rtpengine writes one file per call, <call-id>-<random>.pcap, each packet
as it arrived (link type RAW = IPv4 with no Ethernet header, or ETH with
--recording-format=eth). A stream is the packets to one of rtpengine's local
ports; per stream: RTP packets, and those whose sequence number came below one
already seen (out of order: a recorder would count them late)."""

import struct
from dataclasses import dataclass
from pathlib import Path

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4 = 1, 101, 228


@dataclass
class StreamCount:
    packets: int = 0
    out_of_order: int = 0
    highest: int = -1  # extended sequence number


def read_pcap(path: Path) -> dict[int, StreamCount]:
    """RTP packets per UDP destination port in one pcap file."""
    data = path.read_bytes()
    if len(data) < 24:
        return {}
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    skip = {LINKTYPE_ETHERNET: 14, LINKTYPE_RAW: 0, LINKTYPE_IPV4: 0}.get(linktype)
    if skip is None:
        raise ValueError(f"{path}: link type {linktype} not handled")
    record = struct.Struct(endian + "IIII")
    streams: dict[int, StreamCount] = {}
    at, end = 24, len(data)
    while at + 16 <= end:
        _, _, captured, _ = record.unpack_from(data, at)
        packet = at + 16 + skip
        at += 16 + captured
        if at > end:
            break  # a record cut short: the file was not closed
        if data[packet] >> 4 != 4 or data[packet + 9] != 17:
            continue  # not IPv4/UDP
        udp = packet + (data[packet] & 0x0F) * 4
        dport = (data[udp + 2] << 8) | data[udp + 3]
        rtp = udp + 8
        if data[rtp] >> 6 != 2 or 72 <= (data[rtp + 1] & 0x7F) <= 76:
            continue  # not RTP, or RTCP
        seq = (data[rtp + 2] << 8) | data[rtp + 3]
        s = streams.get(dport)
        if s is None:
            s = streams[dport] = StreamCount()
        if s.highest < 0:
            s.highest = seq
        else:
            # extend the 16-bit sequence number past wraps
            base = s.highest & ~0xFFFF
            ext = base | seq
            if ext < s.highest - 0x8000:
                ext += 0x10000
            elif ext > s.highest + 0x8000:
                ext -= 0x10000
            if ext < s.highest:
                s.out_of_order += 1
            else:
                s.highest = ext
        s.packets += 1
    return streams


def pcaps_by_call(recording_dir: Path) -> dict[str, Path]:
    """pcaps/<call-id>-<16 hex>.pcap by call id."""
    found = {}
    for path in (recording_dir / "pcaps").glob("*.pcap"):
        found[path.stem.rsplit("-", 1)[0]] = path
    return found
