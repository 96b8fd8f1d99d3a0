"""The media tests' own helpers checked without a server: G.711 tables, the
RTP packet builder and parser, the tone analysis, the digit-leak scan of logs.
"""

import math
import os
import struct
import tempfile
import time
import unittest
import warnings
import wave

import audio
import rtp
from media_call import ABSENT, AMPLITUDE, PTIME, TONE_A, TONE_B, TONE_C, log_digit_leaks


class G711SelfTest(unittest.TestCase):

    def test_known_values(self):
        self.assertEqual(rtp.linear_to_ulaw(0), 0xFF)
        self.assertEqual(rtp.linear_to_alaw(0), 0xD5)
        self.assertEqual(rtp.ulaw_to_linear(0xFF), 0)
        self.assertEqual(rtp.ulaw_to_linear(0x7F), 0)
        self.assertEqual(rtp.ulaw_to_linear(0x00), -32124)
        self.assertEqual(rtp.ulaw_to_linear(0x80), 32124)
        self.assertEqual(rtp.alaw_to_linear(0xD5), 8)
        self.assertEqual(rtp.alaw_to_linear(0x55), -8)
        self.assertEqual(rtp.alaw_to_linear(0xAA), 32256)
        self.assertEqual(rtp.alaw_to_linear(0x2A), -32256)
        self.assertEqual(rtp.linear_to_ulaw(32767), 0x80)
        self.assertEqual(rtp.linear_to_ulaw(-32768), 0x00)
        self.assertEqual(rtp.linear_to_alaw(32767), 0xAA)
        self.assertEqual(rtp.linear_to_alaw(-32768), 0x2A)

    def test_against_audioop(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                import audioop
            except ImportError:
                self.skipTest("no audioop (Python >= 3.13)")
        pcm = struct.pack("<%dh" % 65536, *range(-32768, 32768))
        for codec, to_law, from_law in (("PCMU", audioop.lin2ulaw, audioop.ulaw2lin),
                                        ("PCMA", audioop.lin2alaw, audioop.alaw2lin)):
            with self.subTest(codec=codec):
                self.assertEqual(rtp.encode(range(-32768, 32768), codec), to_law(pcm, 2))
                all_codes = bytes(range(256))
                theirs = struct.unpack("<256h", from_law(all_codes, 2))
                self.assertEqual(tuple(rtp.decode(all_codes, codec)), theirs)

    def test_round_trip_error_is_a_quantisation_step(self):
        for codec in ("PCMU", "PCMA"):
            for x in range(-32768, 32768, 7):
                y = rtp.decode(rtp.encode([x], codec), codec)[0]
                self.assertLessEqual(abs(x - y), max(16, abs(x) // 16 + 8), (codec, x, y))
                # decode(encode(decode(c))) is stable
                self.assertEqual(rtp.decode(rtp.encode([y], codec), codec)[0], y)


class RtpSelfTest(unittest.TestCase):

    def test_packet_layout(self):
        data = rtp.rtp_packet(0, 0x1234, 0xDEADBEEF, 0x01020304, b"\xff" * 160, marker=True)
        self.assertEqual(data[:12], bytes.fromhex("80801234deadbeef01020304"))
        self.assertEqual(len(data), 172)
        self.assertEqual(rtp.parse_rtp(data), (0, True, 0x1234, 0xDEADBEEF, 0x01020304,
                                               b"\xff" * 160))
        wrapped = rtp.rtp_packet(8, 0x1FFFF, 0x1_0000_0005, 7, b"")
        self.assertEqual(rtp.parse_rtp(wrapped)[:5], (8, False, 0xFFFF, 5, 7))

    def test_event_packets(self):
        event = rtp.Event("#", slots=6, volume=10)
        packets = [rtp.parse_rtp(event.packet(k, 100 + k, 5000, 9)) for k in range(6)]
        self.assertEqual([p[0] for p in packets], [101] * 6)
        self.assertEqual([p[1] for p in packets], [True] + [False] * 5)
        self.assertEqual({p[3] for p in packets}, {5000})
        fields = [struct.unpack("!BBH", p[5]) for p in packets]
        self.assertEqual([f[0] for f in fields], [11] * 6)
        self.assertEqual([bool(f[1] & 0x80) for f in fields], [False] * 3 + [True] * 3)
        self.assertEqual([f[1] & 0x3F for f in fields], [10] * 6)
        self.assertEqual([f[2] for f in fields], [160, 320, 480, 480, 480, 480])

    def _receive(self, sock, count, timeout=2.0):
        sock.settimeout(timeout)
        out = []
        for _ in range(count):
            data, _ = sock.recvfrom(2048)
            out.append((time.perf_counter(), rtp.parse_rtp(data)))
        sock.settimeout(0.05)
        try:
            sock.recvfrom(2048)
            self.fail("more datagrams than expected")
        except OSError:
            pass
        return out

    def test_stream_impairments(self):
        rx = rtp.udp_socket()
        tx = rtp.udp_socket()
        self.addCleanup(rx.close)
        self.addCleanup(tx.close)
        calls = []
        events = {10: rtp.Event("1", slots=4)}
        log = rtp.send_stream(tx, rx.getsockname(), rtp.tone_fn(TONE_A), "PCMA", 65530, 4294967000,
                              0xABCDEF01, 20, pace=False, drop={3}, duplicate={5},
                              swaps=[(6, 8)], events=events,
                              actions={7: lambda: calls.append("action")})
        got = [p for _, p in self._receive(rx, 20)]  # 20 - 1 dropped + 1 duplicate
        seqs = [p[2] for p in got]
        expected_slots = [0, 1, 2, 4, 5, 5, 8, 7, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
        self.assertEqual(seqs, [(65530 + s) & 0xFFFF for s in expected_slots])
        for slot, p in zip(expected_slots, got):
            if 10 <= slot < 14:
                self.assertEqual((p[0], p[3]), (101, (4294967000 + 1600) & 0xFFFFFFFF))
            else:
                self.assertEqual(p[0], 8)
                self.assertEqual(p[3], (4294967000 + 160 * slot) & 0xFFFFFFFF)
                self.assertEqual(p[5], rtp.encode(rtp.tone_packet(TONE_A, slot), "PCMA"))
            self.assertEqual(p[4], 0xABCDEF01)
        self.assertEqual(calls, ["action"])
        self.assertEqual(sorted({r[0] for r in log.records}), [s for s in range(20) if s != 3])
        self.assertEqual(log.slots_with("event:1"), [10, 11, 12, 13])
        self.assertEqual(sorted({r[5] for r in log.records if r[5]}), ["event:1"])

    def test_pacing_does_not_drift(self):
        rx = rtp.udp_socket()
        self.addCleanup(rx.close)
        leg = rtp.Leg(rx.getsockname(), "PCMU", rtp.tone_fn(None), 40, name="pace",
                      t0=time.perf_counter() + 0.02)
        leg.start()
        got = self._receive(rx, 40, timeout=3)
        leg.join(5)
        t0 = leg.log.t0
        deviations = [when - (t0 + i * PTIME) for i, (when, _) in enumerate(got)]
        # Drift would make every later packet late; a busy machine only delays a few
        # (scheduling hiccups of a few ms, not carried over to the next packets).
        magnitudes = sorted(abs(d) for d in deviations)
        self.assertLess(magnitudes[len(magnitudes) // 2], 0.004, deviations)
        self.assertLess(min(abs(d) for d in deviations[-10:]), 0.002, deviations)
        self.assertLess(magnitudes[-1], 0.05, deviations)
        self.assertEqual([p[2] for _, p in got], [(leg.start_seq + i) & 0xFFFF for i in range(40)])

    def test_hook_blocks_then_catches_up(self):
        rx = rtp.udp_socket()
        tx = rtp.udp_socket()
        self.addCleanup(rx.close)
        self.addCleanup(tx.close)
        state = {"freq": TONE_A}

        def hook():
            time.sleep(0.05)
            state["freq"] = TONE_C

        log = rtp.send_stream(tx, rx.getsockname(), lambda s: rtp.tone_packet(state["freq"], s),
                              "PCMU", 0, 0, 1, 10, actions={4: hook},
                              label_fn=lambda s: state["freq"])
        self._receive(rx, 10)
        self.assertEqual([r[5] for r in log.records], [TONE_A] * 4 + [TONE_C] * 6)
        late = log.sent_at(4) - (log.t0 + 4 * PTIME)
        self.assertGreater(late, 0.04, "the hook's slot is sent after the hook")
        self.assertLess(log.sent_at(9) - (log.t0 + 9 * PTIME), 0.004, "caught up")


class AudioSelfTest(unittest.TestCase):

    def write_wav(self, left, right, codec="PCMU"):
        """Encodes both channels through G.711 and writes a stereo WAV."""
        left = rtp.decode(rtp.encode(left, codec), codec)
        right = rtp.decode(rtp.encode(right, codec), codec)
        fd, path = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        self.addCleanup(os.remove, path)
        frames = struct.pack("<%dh" % (2 * len(left)),
                             *[v for pair in zip(left, right) for v in pair])
        with wave.open(path, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(frames)
        return path

    @staticmethod
    def signal(total_s, segments):
        """[(start_s, end_s, freq)] -> samples, phase continuous from time 0."""
        out = [0] * int(total_s * 8000)
        for start, end, freq in segments:
            for n in range(int(start * 8000), int(end * 8000)):
                out[n] = int(round(AMPLITUDE * math.sin(2 * math.pi * freq * n / 8000)))
        return out

    def test_tone_round_trip(self):
        left = self.signal(3.0, [(0.0, 0.8, TONE_A), (1.337, 2.5, TONE_A), (2.5, 2.9, TONE_C)])
        right = self.signal(3.0, [(0.213, 1.1, TONE_B)])
        for codec in ("PCMU", "PCMA"):
            with self.subTest(codec=codec):
                wav = audio.read_wav(self.write_wav(left, right, codec))
                self.assertEqual((wav.channels, wav.rate, wav.nframes), (2, 8000, 24000))
                self.assertAlmostEqual(wav.duration, 3.0)
                tol = audio.RESOLUTION + 0.001
                for found, expected in (
                        (audio.tone_spans(wav.left, TONE_A), [(0.0, 0.8), (1.337, 2.5)]),
                        (audio.tone_spans(wav.left, TONE_C), [(2.5, 2.9)]),
                        (audio.tone_spans(wav.right, TONE_B), [(0.213, 1.1)])):
                    self.assertEqual(len(found), len(expected), (found, expected))
                    for (a, b), (c, d) in zip(found, expected):
                        self.assertLessEqual(abs(a - c), tol, (found, expected))
                        self.assertLessEqual(abs(b - d), tol, (found, expected))
                self.assertEqual(audio.tone_spans(wav.right, TONE_A), [])
                self.assertLess(audio.max_tone_amplitude(wav.right, TONE_A), ABSENT / 4)
                self.assertLess(audio.max_tone_amplitude(wav.left, TONE_B), ABSENT / 4)
                self.assertLess(audio.max_tone_amplitude(wav.left, TONE_C, start_s=0, end_s=2.45), ABSENT / 4)
                self.assertGreater(audio.max_tone_amplitude(wav.left, TONE_C), 0.9 * AMPLITUDE)

    def test_short_fragment_is_detected_as_present(self):
        left = self.signal(1.0, [(0.4037, 0.4237, TONE_C)])  # 20 ms at an odd offset
        wav = audio.read_wav(self.write_wav(left, [0] * 8000))
        self.assertGreater(audio.max_tone_amplitude(wav.left, TONE_C), ABSENT * 4)

    def test_lost_packet_is_bridged_and_silence(self):
        left = self.signal(2.0, [(0.1, 1.9, TONE_A)])
        for n in range(8000, 8160):  # one lost packet, zero-filled
            left[n] = 0
        wav = audio.read_wav(self.write_wav(left, [0] * 16000))
        spans = audio.tone_spans(wav.left, TONE_A)
        self.assertEqual(len(spans), 1, spans)
        self.assertTrue(audio.is_silent(wav.left, 1.0, 1.02))
        self.assertTrue(audio.is_silent(wav.right, 0, 2.0))
        self.assertFalse(audio.is_silent(wav.left, 0.999, 1.02))
        self.assertFalse(audio.is_silent(wav.left, 1.0, 1.021))
        self.assertEqual(len(audio.tone_spans(wav.left, TONE_A, merge_gap=0.0)), 2)

    def test_dtmf_detection(self):
        lo, hi = rtp.DTMF_FREQS["5"]
        dtmf = [a + b for a, b in zip(self.signal(1.0, [(0.3, 0.4, lo)]),
                                      self.signal(1.0, [(0.3, 0.4, hi)]))]
        dtmf = [max(-32768, min(32767, v // 2)) for v in dtmf]
        wav = audio.read_wav(self.write_wav(dtmf, self.signal(1.0, [(0.0, 1.0, TONE_B)])))
        hits = audio.dtmf_windows(wav.left, rtp.DTMF_FREQS.values())
        self.assertTrue(hits and 0.27 <= hits[0] <= 0.32 and hits[-1] <= 0.4, hits)
        self.assertEqual(audio.dtmf_windows(wav.right, rtp.DTMF_FREQS.values()), [])
        tones = self.write_wav(self.signal(1.0, [(0.1, 0.5, TONE_A), (0.5, 0.9, TONE_C)]),
                               self.signal(1.0, [(0.2, 0.7, TONE_B)]))
        for channel in audio.read_wav(tones).channel_data:
            self.assertEqual(audio.dtmf_windows(channel, rtp.DTMF_FREQS.values()), [])

    def test_header_checks(self):
        path = self.write_wav([0] * 800, [0] * 800)
        self.assertEqual(audio.header_problems(path), [])
        with open(path, "ab") as f:
            f.write(b"\x01\x00" * 40)  # 20 frames the header does not cover
        problems = audio.header_problems(path)
        self.assertEqual(len(problems), 2, problems)
        with open(path, "r+b") as f:
            f.write(b"RIFX")
        self.assertEqual(audio.header_problems(path), ["not a RIFF/WAVE file"])

    def test_log_leak_finder(self):
        digits, codes = {"5", "#"}, {5, 11}
        clean = ['{"level":"debug","msg":"rtp packet","seq":5,"pt":101}',
                 '{"level":"info","event":"recording.started","contact":"dtmf-5"}',
                 '{"level":"debug","event":"rtp.telephone_event_ignored","count":3}',
                 'DTMF-less plain line 1234']
        self.assertEqual(log_digit_leaks("\n".join(clean), digits, codes), [])
        for leak in ('{"level":"debug","msg":"telephone event","code":5}',
                     '{"level":"debug","event":"dtmf","value":"#"}',
                     '{"level":"debug","msg":"got it","digit":"x"}',
                     '{"msg":"x","telephone_event":{"code":11}}',
                     'plain text: telephone-event # received'):
            self.assertEqual(log_digit_leaks(leak, digits, codes), [leak])


if __name__ == "__main__":
    unittest.main()
