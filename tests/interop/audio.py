"""Audio analysis for the media interop tests: WAV reading (and a strict look at
the RIFF header), channel splitting, Goertzel tone detection, silence checks.
Pure Python.

Tone detection works on 20 ms windows (160 samples at 8 kHz) every 5 ms. In each
window it measures, at the tone's frequency, the Goertzel power P, turned into an
amplitude estimate 2*sqrt(P)/N (the sine's amplitude for a pure tone), and the
share of the window's energy that the tone accounts for, P / (N/2 * sum x^2)
(1.0 for a pure tone, about f^2 when a fraction f of the window holds the tone
and the rest holds another tone of the same level, 1/N or so for noise). A window
"has" the tone when the share is at least 1/4 and the amplitude at least half the
tone's typical amplitude in the file: both mean "more than half the window is
this tone", so span edges land within one hop (5 ms) of the true edges.
"""

import array
import math
import struct
import sys
import wave

RATE = 8000
WINDOW = 160  # 20 ms
HOP = 40  # 5 ms
RESOLUTION = HOP / RATE  # how far a span edge may be from the true edge


class Wav:
    """A PCM WAV read whole: rate, channels, sample width, frames, per-channel lists."""

    def __init__(self, path):
        self.path = path
        with wave.open(path, "rb") as w:
            self.rate = w.getframerate()
            self.channels = w.getnchannels()
            self.sampwidth = w.getsampwidth()
            self.nframes = w.getnframes()
            raw = w.readframes(self.nframes)
        if self.sampwidth != 2:
            raise ValueError("%s: %d-byte samples, expected 16-bit" % (path, self.sampwidth))
        samples = array.array("h")
        samples.frombytes(raw[:len(raw) - len(raw) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
        self.samples = samples
        # frames actually present (a header may claim more than the file holds)
        self.frames_read = len(samples) // self.channels
        self.channel_data = split_channels(samples, self.channels)

    @property
    def duration(self):
        return self.frames_read / float(self.rate)

    @property
    def left(self):
        return self.channel_data[0]

    @property
    def right(self):
        return self.channel_data[1]


def read_wav(path):
    return Wav(path)


def split_channels(interleaved, channels):
    """[l0, r0, l1, r1, ...] -> [[l0, l1, ...], [r0, r1, ...]]."""
    return [interleaved[c::channels].tolist() if hasattr(interleaved, "tolist")
            else list(interleaved[c::channels]) for c in range(channels)]


def riff_layout(path):
    """The RIFF structure of a WAV, read strictly by hand (not through `wave`,
    which tolerates a lot): {'file_size', 'riff_size', 'fmt': (format, channels,
    rate, byte_rate, block_align, bits), 'data_offset', 'data_size', 'chunks'}.
    Raises ValueError on anything malformed."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    out = {"file_size": len(blob), "riff_size": struct.unpack("<I", blob[4:8])[0],
           "chunks": [], "fmt": None, "data_offset": None, "data_size": None}
    pos = 12
    while pos + 8 <= len(blob):
        cid, size = blob[pos:pos + 4], struct.unpack("<I", blob[pos + 4:pos + 8])[0]
        out["chunks"].append((cid.decode("latin-1"), pos, size))
        body = pos + 8
        if cid == b"fmt ":
            if size < 16:
                raise ValueError("fmt chunk of %d bytes" % size)
            out["fmt"] = struct.unpack("<HHIIHH", blob[body:body + 16])
        elif cid == b"data":
            out["data_offset"], out["data_size"] = body, size
            break
        pos = body + size + (size & 1)
    if out["fmt"] is None:
        raise ValueError("no fmt chunk")
    if out["data_offset"] is None:
        raise ValueError("no data chunk")
    return out


def header_problems(path):
    """What is wrong with a WAV's header as a description of the file ([] if
    nothing): RIFF size and data size must match the bytes present."""
    try:
        layout = riff_layout(path)
    except (OSError, ValueError) as error:
        return [str(error)]
    problems = []
    if layout["riff_size"] != layout["file_size"] - 8:
        problems.append("RIFF size %d, file has %d bytes after the RIFF header"
                        % (layout["riff_size"], layout["file_size"] - 8))
    present = layout["file_size"] - layout["data_offset"]
    if layout["data_size"] != present:
        problems.append("data chunk says %d bytes, %d present"
                        % (layout["data_size"], present))
    fmt, channels, rate, byte_rate, block_align, bits = layout["fmt"]
    if (fmt, channels, rate, bits) != (1, 2, 8000, 16):
        problems.append("format %s (want PCM stereo 8000 Hz 16-bit)" % (layout["fmt"],))
    if block_align != channels * bits // 8 or byte_rate != rate * block_align:
        problems.append("inconsistent block align / byte rate in %s" % (layout["fmt"],))
    if layout["data_size"] % max(block_align, 1):
        problems.append("data size %d is not a whole number of frames" % layout["data_size"])
    return problems


# ---- Goertzel --------------------------------------------------------------------------

def goertzel_power(samples, start, n, coeff):
    """|X(f)|^2 over samples[start:start+n], with coeff = 2 cos(2 pi f / rate)."""
    s1 = s2 = 0.0
    for i in range(start, start + n):
        s0 = samples[i] + coeff * s1 - s2
        s2 = s1
        s1 = s0
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def window_starts(length, window=WINDOW, hop=HOP):
    if length < window:
        return []
    starts = list(range(0, length - window + 1, hop))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


class ToneScan:
    """Per-window amplitude and energy share of one frequency over a channel."""

    def __init__(self, channel, freq, rate=RATE, window=WINDOW, hop=HOP):
        self.channel = channel
        self.freq = freq
        self.rate = rate
        self.window = window
        self.starts = window_starts(len(channel), window, hop)
        coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
        squares = [0]
        total = 0
        for x in channel:
            total += x * x
            squares.append(total)
        self.amplitude = []
        self.share = []
        for s in self.starts:
            power = max(goertzel_power(channel, s, window, coeff), 0.0)
            energy = squares[s + window] - squares[s]
            self.amplitude.append(2.0 * math.sqrt(power) / window)
            self.share.append(power / (window / 2.0 * energy) if energy else 0.0)

    def center(self, k):
        return (self.starts[k] + self.window / 2.0) / self.rate


def tone_spans(channel, freq, rate=RATE, min_amplitude=1000, min_share=0.25, relative=0.5,
               merge_gap=0.045, min_duration=0.0):
    """[(start_s, end_s)] where `freq` is present in `channel` (see the module
    docstring). Gaps up to merge_gap seconds (a lost packet) are bridged; spans
    shorter than min_duration are dropped. A span touching the start or end of the
    channel starts at 0 or ends at its length."""
    scan = ToneScan(channel, freq, rate)
    candidates = [k for k in range(len(scan.starts))
                  if scan.share[k] >= min_share and scan.amplitude[k] >= min_amplitude]
    if not candidates:
        return []
    levels = sorted(scan.amplitude[k] for k in candidates)
    reference = levels[int(0.9 * (len(levels) - 1))]
    present = [k for k in candidates if scan.amplitude[k] >= relative * reference]
    last = len(scan.starts) - 1
    runs = []
    for k in present:
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    spans = []
    for a, b in runs:
        start = 0.0 if a == 0 else scan.center(a)
        end = len(channel) / float(rate) if b == last else scan.center(b)
        if spans and start - spans[-1][1] <= merge_gap:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return [(round(s, 4), round(e, 4)) for s, e in spans if e - s >= min_duration]


def joined_tone_spans(channel, freq, gap, min_duration=0.04):
    """tone_spans (of at least min_duration), with spans up to `gap` seconds apart
    counted as one: for tests whose subject is where a tone is, not a hole a
    late sender left in it."""
    spans = []
    for s, e in tone_spans(channel, freq, min_duration=min_duration):
        if spans and s - spans[-1][1] <= gap:
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def max_tone_amplitude(channel, freq, rate=RATE, start_s=None, end_s=None):
    """The largest per-window amplitude of `freq` (windows wholly inside
    [start_s, end_s] when given): near 0 when the tone is absent, the tone's
    amplitude when it is there even for a single 20 ms window."""
    first = 0 if start_s is None else max(0, int(math.ceil(start_s * rate)))
    last = len(channel) if end_s is None else min(len(channel), int(end_s * rate))
    part = channel[first:last]
    if len(part) < WINDOW:
        return 0.0
    scan = ToneScan(part, freq, rate)
    return max(scan.amplitude)


def dtmf_windows(channel, freqs, rate=RATE, min_amplitude=300):
    """Window start times (s) where some low-group and some high-group DTMF
    frequency are both present at min_amplitude or more."""
    lows = sorted({lo for lo, _ in freqs})
    highs = sorted({hi for _, hi in freqs})
    scans = {f: ToneScan(channel, f, rate) for f in lows + highs}
    out = []
    for k, s in enumerate(scans[lows[0]].starts):
        if (max(scans[f].amplitude[k] for f in lows) >= min_amplitude and
                max(scans[f].amplitude[k] for f in highs) >= min_amplitude):
            out.append(s / float(rate))
    return out


# ---- silence ---------------------------------------------------------------------------

def _sample_range(channel, start_s, end_s, rate):
    first = max(0, int(math.ceil(start_s * rate - 1e-9)))
    last = min(len(channel), int(math.floor(end_s * rate + 1e-9)))
    return first, last


def is_silent(channel, start_s, end_s, rate=RATE):
    """All samples in [start_s, end_s) (rounded inwards to whole samples) are zero."""
    first, last = _sample_range(channel, start_s, end_s, rate)
    return not any(channel[first:last])


def nonzero_report(channel, start_s, end_s, rate=RATE):
    """A short description of the non-zero samples in [start_s, end_s), for messages."""
    first, last = _sample_range(channel, start_s, end_s, rate)
    hits = [i for i in range(first, last) if channel[i]]
    if not hits:
        return "all %d samples zero" % (last - first)
    return ("%d of %d samples non-zero, first at %.4f s, last at %.4f s, peak %d"
            % (len(hits), last - first, hits[0] / float(rate), hits[-1] / float(rate),
               max(abs(channel[i]) for i in hits)))
