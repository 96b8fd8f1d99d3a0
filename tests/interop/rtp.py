"""RTP for the media interop tests: G.711 (ITU-T G.711, the classic reference
algorithm), RFC 3550 packets, RFC 4733 telephone events, and a paced sender.

Pure Python; nothing here talks to anything but the address it is given (the
tests give it 127.0.0.1 only).

The sender works in *slots*: slot i of a stream is due at t0 + i * 20 ms
(time.perf_counter, absolute, so the schedule never drifts), carries sequence
number start_seq + i and timestamp start_ts + 160 * i. Loss, reordering,
duplication and RFC 4733 events are all expressed in slots, so what the
receiver should make of the stream is known exactly.
"""

import math
import os
import random
import socket
import struct
import threading
import time

RATE = 8000
PTIME = 0.020
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz

PT_PCMU = 0
PT_PCMA = 8
PT_TELEPHONE_EVENT = 101
PAYLOAD_TYPES = {"PCMU": PT_PCMU, "PCMA": PT_PCMA}

# ---- G.711 ------------------------------------------------------------------------------

_SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159  # in the 14-bit domain


def _segment(value, table):
    for i, end in enumerate(table):
        if value <= end:
            return i
    return len(table)


def linear_to_ulaw(sample):
    """One 16-bit linear sample -> one µ-law byte (G.711, as the CCITT reference code)."""
    pcm = _clamp16(sample) >> 2
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    if pcm > _ULAW_CLIP:
        pcm = _ULAW_CLIP
    pcm += _ULAW_BIAS >> 2
    seg = _segment(pcm, _SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_to_linear(byte):
    u = ~byte & 0xFF
    t = ((u & 0x0F) << 3) + _ULAW_BIAS
    t <<= (u & 0x70) >> 4
    return (_ULAW_BIAS - t) if (u & 0x80) else (t - _ULAW_BIAS)


def linear_to_alaw(sample):
    """One 16-bit linear sample -> one A-law byte (G.711, as the CCITT reference code)."""
    pcm = _clamp16(sample) >> 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _segment(pcm, _SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0x0F if seg < 2 else (pcm >> seg) & 0x0F
    return aval ^ mask


def alaw_to_linear(byte):
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if (a & 0x80) else -t


def _clamp16(sample):
    sample = int(sample)
    return -32768 if sample < -32768 else 32767 if sample > 32767 else sample


# Whole-range tables: encoding a packet is then one lookup per sample.
_ULAW_ENC = bytes(linear_to_ulaw(s - 32768) for s in range(65536))
_ALAW_ENC = bytes(linear_to_alaw(s - 32768) for s in range(65536))
ULAW_DEC = tuple(ulaw_to_linear(b) for b in range(256))
ALAW_DEC = tuple(alaw_to_linear(b) for b in range(256))
_ENCODERS = {"PCMU": _ULAW_ENC, "PCMA": _ALAW_ENC}
DECODERS = {"PCMU": ULAW_DEC, "PCMA": ALAW_DEC}


def encode(samples, codec):
    """16-bit linear samples -> G.711 payload bytes ("PCMU" or "PCMA")."""
    table = _ENCODERS[codec]
    return bytes(table[_clamp16(s) + 32768] for s in samples)


def decode(payload, codec):
    table = DECODERS[codec]
    return [table[b] for b in payload]


# ---- signals ------------------------------------------------------------------------------

def tone_packet(freq, index, amplitude=8000):
    """The 160 samples of packet `index` of a continuous sine (phase runs on across
    packets, so a run of packets is one clean tone)."""
    base = index * SAMPLES_PER_PACKET
    w = 2.0 * math.pi * freq / RATE
    return [int(round(amplitude * math.sin(w * (base + n)))) for n in range(SAMPLES_PER_PACKET)]


SILENCE = [0] * SAMPLES_PER_PACKET


def tone_fn(freq, amplitude=8000):
    """samples_fn for send_stream: the tone in every packet (None: silence)."""
    if freq is None:
        return lambda index: SILENCE
    return lambda index: tone_packet(freq, index, amplitude)


def schedule_fn(segments, amplitude=8000):
    """samples_fn from [(first_slot, end_slot, freq or None)]: freq in
    first_slot <= slot < end_slot, silence elsewhere."""
    def samples(index):
        for first, end, freq in segments:
            if first <= index < end and freq is not None:
                return tone_packet(freq, index, amplitude)
        return SILENCE
    return samples


# ---- packets ------------------------------------------------------------------------------

def rtp_packet(payload_type, seq, timestamp, ssrc, payload, marker=False):
    """An RFC 3550 packet: V=2, no padding, no extension, no CSRC."""
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | (payload_type & 0x7F),
                       seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


def parse_rtp(data):
    """(payload_type, marker, seq, timestamp, ssrc, payload) of a packet built above."""
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
    if b0 >> 6 != 2:
        raise ValueError("not RTP version 2")
    cc = b0 & 0x0F
    return b1 & 0x7F, bool(b1 & 0x80), seq, ts, ssrc, data[12 + 4 * cc:]


def telephone_event_payload(event, end, volume, duration):
    """RFC 4733 2.3: event (0-9 digits, 10 '*', 11 '#', 12-15 A-D), E bit, volume
    (0-63, as -dBm0), duration in timestamp units."""
    return struct.pack("!BBH", event & 0xFF, (0x80 if end else 0) | (volume & 0x3F),
                       duration & 0xFFFF)


DTMF_EVENTS = {str(d): d for d in range(10)}
DTMF_EVENTS.update({"*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15})
DTMF_FREQS = {  # (low, high) Hz
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


class Event:
    """An RFC 4733 event occupying `slots` consecutive slots of a stream in place
    of audio: one update packet per slot (duration growing by 160), the last three
    being the end packet (E bit, final duration) sent three times, each with its own
    sequence number (RFC 4733 2.5.1.4). All carry the timestamp of the first slot;
    the first has the marker bit."""

    def __init__(self, digit, slots=5, volume=10, payload_type=PT_TELEPHONE_EVENT):
        if slots < 4:
            raise ValueError("an event needs at least 4 slots (1 update + 3 ends)")
        self.digit = digit
        self.code = DTMF_EVENTS[digit]
        self.slots = slots
        self.volume = volume
        self.payload_type = payload_type

    def packet(self, k, seq, start_ts, ssrc):
        """The packet for slot k (0-based) of the event."""
        updates = self.slots - 3
        end = k >= updates
        duration = SAMPLES_PER_PACKET * (min(k, updates - 1) + 1)
        return rtp_packet(self.payload_type, seq, start_ts, ssrc,
                          telephone_event_payload(self.code, end, self.volume, duration),
                          marker=(k == 0))


# ---- paced sending ------------------------------------------------------------------------

def sleep_until(deadline):
    """Sleeps until time.perf_counter() >= deadline: sleeps most of the way, spins
    the last millisecond."""
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        if left > 0.0015:
            time.sleep(left - 0.001)


def pair_swaps(first, end, every=10, distance=1, phase=0):
    """Slot pairs to swap (reorder): (i, i + distance) for i in [first, end) with
    i % every == phase. distance <= 3 keeps every packet within 60 ms of its slot."""
    return [(i, i + distance) for i in range(first, end)
            if i % every == phase and i + distance < end]


def loss_slots(first, end, every=10, phase=7):
    """Every `every`-th slot in [first, end) (i % every == phase): a deterministic loss."""
    return {i for i in range(first, end) if i % every == phase}


class SendLog:
    """What a stream sent: one record per datagram (slot, seq, timestamp, payload
    type, perf_counter time of sending, what it carried)."""

    def __init__(self):
        self.records = []
        self.t0 = None
        self.error = None

    def add(self, slot, seq, ts, pt, when, what):
        self.records.append((slot, seq, ts, pt, when, what))

    def sent_at(self, slot):
        """perf_counter time the audio of this slot was (first) sent, or None."""
        for record in self.records:
            if record[0] == slot:
                return record[4]
        return None

    def slots_with(self, what):
        return sorted({r[0] for r in self.records if r[5] == what})

    def runs(self, what):
        """[(first_slot, last_slot, first_sent, last_sent)] of consecutive slots
        (consecutive in slot numbers) that carried `what`."""
        by_slot = {}
        for slot, _, _, _, when, label in self.records:
            if label == what and slot not in by_slot:
                by_slot[slot] = when
        out = []
        for slot in sorted(by_slot):
            if out and slot == out[-1][1] + 1:
                first, _, t_first, _ = out[-1]
                out[-1] = (first, slot, t_first, by_slot[slot])
            else:
                out.append((slot, slot, by_slot[slot], by_slot[slot]))
        return out


def send_stream(sock, addr, samples_fn, codec, start_seq, start_ts, ssrc, packets, pace=True,
                t0=None, first=0, drop=(), duplicate=(), swaps=(), events=None, actions=None,
                label_fn=None, send_lock=None, log=None):
    """Sends slots first..packets-1 of one RTP stream to addr.

    samples_fn(slot) -> 160 linear samples, called when the slot is sent (so it may
                  depend on what happened meanwhile, e.g. a pause acknowledged).
    codec         "PCMU" (PT 0) or "PCMA" (PT 8).
    pace          send slot i at t0 + i * 20 ms (perf_counter, absolute); if False,
                  as fast as possible.
    t0            the schedule's origin (perf_counter); default: now. Legs that
                  share t0 are in step.
    drop          slots never sent (loss).
    duplicate     slots sent twice (the copy right after the original).
    swaps         [(a, b)]: slot a's packet is sent in b's place and b's in a's
                  (reordering; |a - b| <= 3 keeps it within 60 ms).
    events        {slot: Event}: an RFC 4733 event over event.slots slots from
                  that slot on, in place of audio.
    actions       {slot: callable}: called in this thread just before slot's time
                  comes (and before the slot's packet is sent). It may block: the
                  slots whose time passed meanwhile are then sent at once, carrying
                  what samples_fn says at the moment they are sent.
    label_fn(slot) -> a label recorded in the log (default: None).
    send_lock     if given, held while a slot's samples are chosen and sent, so
                  another thread can change what is sent at a precise point.
    Returns a SendLog.
    """
    payload_type = PAYLOAD_TYPES[codec]
    log = log if log is not None else SendLog()
    t0 = time.perf_counter() if t0 is None else t0
    log.t0 = t0
    drop = set(drop)
    duplicate = set(duplicate)
    actions = dict(actions or {})
    placement = {}  # send position -> slot whose packet goes there
    for a, b in swaps:
        if a == b or a in placement or b in placement:
            raise ValueError("swaps must be disjoint pairs: %r" % (list(swaps),))
        placement[a], placement[b] = b, a
    event_at = {}
    for start, event in (events or {}).items():
        for k in range(event.slots):
            event_at[start + k] = (event, k, start)

    def build(slot):
        seq = start_seq + slot
        if slot in event_at:
            event, k, start = event_at[slot]
            data = event.packet(k, seq, start_ts + SAMPLES_PER_PACKET * start, ssrc)
            return data, event.payload_type, "event:" + event.digit
        samples = samples_fn(slot)
        data = rtp_packet(payload_type, seq, start_ts + SAMPLES_PER_PACKET * slot, ssrc,
                          encode(samples, codec))
        return data, payload_type, label_fn(slot) if label_fn else None

    for position in range(first, packets):
        if position in actions:
            if pace:
                sleep_until(t0 + position * PTIME - 0.001)
            actions[position]()
        if pace:
            sleep_until(t0 + position * PTIME)
        slot = placement.get(position, position)
        if slot in drop:
            continue
        lock = send_lock if send_lock is not None else _NoLock
        with lock:
            data, pt, what = build(slot)
            sock.sendto(data, addr)
            when = time.perf_counter()
            if slot in duplicate:
                sock.sendto(data, addr)
        log.add(slot, (start_seq + slot) & 0xFFFF,
                (start_ts + SAMPLES_PER_PACKET * slot) & 0xFFFFFFFF, pt, when, what)
    return log


class _NoLockType:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NoLock = _NoLockType()


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def random_stream_ids(rng=None):
    """(ssrc, start_seq, start_ts) as a real endpoint would pick them: random."""
    rng = rng or random.Random(int.from_bytes(os.urandom(4), "big"))
    return rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(32)


def parse_addr(text):
    """"127.0.0.1:40000" -> ("127.0.0.1", 40000)."""
    host, _, port = text.rpartition(":")
    return host, int(port)


class Leg:
    """One leg (customer or agent) of a call sent from its own thread and socket.

        leg = Leg(("127.0.0.1", p), "PCMU", samples_fn, packets=150, t0=t0, ...)
        leg.start(); ...; leg.join()      # raises what the thread raised
        leg.log                           # SendLog

    Extra keyword arguments go to send_stream."""

    def __init__(self, addr, codec, samples_fn, packets, name="leg", ssrc=None, start_seq=None,
                 start_ts=None, **kwargs):
        rand_ssrc, rand_seq, rand_ts = random_stream_ids()
        self.addr = addr
        self.codec = codec
        self.samples_fn = samples_fn
        self.packets = packets
        self.name = name
        self.ssrc = rand_ssrc if ssrc is None else ssrc
        self.start_seq = rand_seq if start_seq is None else start_seq
        self.start_ts = rand_ts if start_ts is None else start_ts
        self.kwargs = kwargs
        self.log = SendLog()
        self.sock = udp_socket()
        self._thread = threading.Thread(target=self._run, name="rtp-" + name, daemon=True)

    def _run(self):
        try:
            send_stream(self.sock, self.addr, self.samples_fn, self.codec, self.start_seq,
                        self.start_ts, self.ssrc, self.packets, log=self.log, **self.kwargs)
        except BaseException as error:  # reported by join()
            self.log.error = error

    def start(self):
        self._thread.start()
        return self

    def join(self, timeout=None):
        self._thread.join(timeout)
        try:
            if self._thread.is_alive():
                raise AssertionError("RTP leg %s still sending after %ss" % (self.name, timeout))
            if self.log.error is not None:
                raise self.log.error
        finally:
            if not self._thread.is_alive():
                self.sock.close()


def run_legs(legs, timeout=60):
    """Starts the legs together and waits for all of them."""
    for leg in legs:
        leg.start()
    for leg in legs:
        leg.join(timeout)
