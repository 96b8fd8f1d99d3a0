"""Media interop: real RTP calls through the real callrec-server, driven by
boto3, and the recordings checked by analysis (tones found at the offsets they
were sent at, or proven absent while paused): PCMU and PCMA, the pause with
silence and skip modes, port ranges, impairment (loss, reordering, duplicates,
jitter), a pause in the middle of a burst, tracks, an agent who never joins, a
crash. How a call is driven and what it expects: media_call.py. RFC 4733 events:
test_media_events.py; the helpers' own tests: test_media_selftest.py.
"""

import hashlib
import os
import shutil
import tempfile
import time
import unittest

import audio
import rtp
from media_call import (PTIME, TOL, TONE_A, TONE_B, TONE_C, TONE_D, Call, MediaCase, bridge_spans,
                        find_exact, fmt_spans, parse_iso, rtp_range)

class PcmuPauseSilenceTest(MediaCase):
    rtp_ports = rtp_range(0, 20)

    def test_ulaw_all_pause_silence(self):
        """µ-law, track ALL, PAUSE/RESUME in silence mode, STOP; then callrec verify."""
        call = Call(self, "mu-all", initial_contact_id="mu-root")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(175, customer, agent)
        call.at(5.5)
        start = call.op("START")
        self.assertEqual(self.server.state(call.contact_id), "RECORDING")
        call.at(14.5)
        call.set_phase("rec")
        call.at(40)
        mid = self.server.get_contact(call.contact_id).get("Recording")
        mid_time = time.perf_counter()
        call.at(64.5)
        call.set_phase("gap")
        call.at(67.5)
        pause = call.op("PAUSE", then_phase="paused")
        self.assertEqual(self.server.state(call.contact_id), "PAUSED")
        call.at(109.5)
        call.set_phase("gap")
        call.at(112.5)
        resume = call.op("RESUME")
        call.at(114.5)
        call.set_phase("rec2")
        call.at(159.5)
        call.set_phase("tail")
        call.at(165.5)
        stop = call.op("STOP")
        call.join_legs()
        self.assertNoLateSender(call)

        # /v1 while recording
        self.assertIsInstance(mid, dict, "no Recording member in GET /v1 while recording")
        self.assertGreater(mid.get("Packets", 0), 0, mid)
        self.assertTrue(0 < mid.get("WrittenSeconds", 0) <= mid_time - start.before + 0.1, mid)

        path = self.recording_path(call)
        meta = self.metadata(path)
        self.check_metadata(meta, call, path, "ALL", "silence", start_mark=start)
        wav = self.read_wav(path)
        origin = start.after
        self.assertAlmostEqual(wav.duration, stop.after - origin, delta=0.04,
                               msg="file length vs START ack .. STOP ack")

        # tones where they were sent, on their own channel only; C nowhere
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin), "A on the left")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin), "B on the right")
        self.assertEqual(len(call.customer.log.runs(TONE_A)), 2)
        self.assertAbsent(wav.right, TONE_A, "customer tone on the agent channel")
        self.assertAbsent(wav.left, TONE_B, "agent tone on the customer channel")
        self.assertGreater(call.count(call.customer, TONE_C), 30, "the test sent no tone C")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")

        # the paused span is digital silence, and the metadata says where it is
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        p = meta["Pauses"][0]
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], resume.after - origin, delta=TOL, msg=p)
        self.assertWallWithin(parse_iso(p["Start"]), pause, "Pauses[0].Start")
        self.assertWallWithin(parse_iso(p["End"]), resume, "Pauses[0].End")
        self.assertPausedSilent(wav, p)
        for name, channel in (("left", wav.left), ("right", wav.right)):
            self.assertSilent(channel, pause.after - origin + PTIME, resume.after - origin - PTIME,
                              "paused span (as acknowledged) on the %s" % name)

        # counters: nothing lost; what was paused was gated
        counters = meta["Counters"]
        self.assertEqual((counters["Lost"], counters["Late"]), (0, 0), counters)
        gated_sent = call.count(call.customer, TONE_C) + call.count(call.agent, TONE_C)
        self.assertGreaterEqual(counters["Gated"], gated_sent, counters)
        recorded = sum(call.count(leg, after=start.after, before=stop.before) -
                       call.count(leg, after=pause.before, before=resume.after)
                       for leg in (call.customer, call.agent))
        self.assertLessEqual(abs(counters["Packets"] - recorded), 8,
                             "Packets %d, about %d sent while recording" %
                             (counters["Packets"], recorded))
        final = self.server.get_contact(call.contact_id)["Recording"]
        self.assertEqual((final["Packets"], final["Lost"], final["Late"]),
                         (counters["Packets"], counters["Lost"], counters["Late"]), final)
        self.assertAlmostEqual(final["WrittenSeconds"], wav.duration, delta=0.021, msg=final)

        # callrec verify: 0 on the file, 1 on a copy with one byte flipped
        result = self.verify_cli(path)
        self.assertEqual(result.returncode, 0, "verify %s:\n%s%s" % (path, result.stdout,
                                                                    result.stderr))
        copy_dir = tempfile.mkdtemp(prefix="callrec-verify-")
        self.addCleanup(shutil.rmtree, copy_dir, True)
        copy = os.path.join(copy_dir, os.path.basename(path))
        shutil.copy(path, copy)
        shutil.copy(path[:-4] + ".json", copy[:-4] + ".json")
        self.assertEqual(self.verify_cli(copy).returncode, 0, "verify on an exact copy")
        layout = audio.riff_layout(copy)
        flip_at = layout["data_offset"] + int(0.5 * 8000) * 4  # 0.5 s in: tone A
        with open(copy, "r+b") as f:
            f.seek(flip_at)
            byte = f.read(1)
            f.seek(flip_at)
            f.write(bytes([byte[0] ^ 0x01]))
        result = self.verify_cli(copy)
        self.assertEqual(result.returncode, 1, "verify after flipping one byte:\n%s%s"
                         % (result.stdout, result.stderr))
        self.assertTrue((result.stdout + result.stderr).strip(), "no message from verify")


class PortRangeTest(MediaCase):
    rtp_ports = rtp_range(20, 8)  # two contacts' worth

    def test_port_range_exhausted(self):
        """Contacts are created until the range runs out: then 503 with an error
        body; the range held (HIGH - LOW + 1) / 4 contacts: two RTP ports each, on
        even numbers, with the odd port above each kept for its RTCP (RFC 3550 11)."""
        ports = []
        for n in range(1, 10):
            reply = self.server.v1("POST", "/v1/contacts", {
                "InstanceId": "local", "ContactId": "ports-%d" % n,
                "InitialContactId": "ports-%d" % n, "AgentId": "a", "Codec": "PCMU",
                "AgentJoined": True})
            if reply.status != 201:
                break
            endpoints = reply.json().get("Rtp")
            if endpoints is None:
                self.skipTest("callrec-server has no media side yet")
            ports += [rtp.parse_addr(endpoints["Customer"])[1],
                      rtp.parse_addr(endpoints["Agent"])[1]]
        self.assertEqual(reply.status, 503, repr(reply))
        body = reply.json()
        self.assertIsInstance(body, dict, repr(reply))
        self.assertTrue(any(isinstance(v, str) and v.strip() for v in body.values()),
                        "503 without an error message: %r" % reply)
        self.assertEqual(len(ports), len(set(ports)), "contacts share RTP ports: %s" % ports)
        self.assertTrue(all(self.rtp_ports[0] <= p <= self.rtp_ports[1] for p in ports), ports)
        low, high = self.rtp_ports
        self.assertTrue(all(p % 2 == 0 for p in ports), "RTP on odd ports: %s" % ports)
        self.assertEqual(n - 1, (high - low + 1) // 4,
                         "contacts created from --rtp-ports %d-%d before the 503 (ports given "
                         "out: %s; two even RTP ports per contact, RTCP above each)"
                         % (low, high, ports))


class SkipModeTest(MediaCase):
    rtp_ports = rtp_range(40, 20)
    pause_behavior = "skip"

    def test_skip_cuts_paused_time(self):
        call = Call(self, "skip-1")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(150, customer, agent)
        call.at(5.5)
        start = call.op("START")
        call.at(14.5)
        call.set_phase("rec")
        call.at(54.5)
        call.set_phase("gap")
        call.at(57.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(99.5)
        call.set_phase("gap")
        call.at(102.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(134.5)
        call.set_phase("tail")
        call.at(140.5)
        stop = call.op("STOP")
        call.join_legs()
        self.assertNoLateSender(call)

        path = self.recording_path(call)
        meta = self.metadata(path)
        self.check_metadata(meta, call, path, "ALL", "skip", start_mark=start)
        wav = self.read_wav(path)
        origin = start.after
        paused = resume.after - pause.after
        self.assertGreater(paused, 0.8)
        self.assertAlmostEqual(wav.duration, stop.after - origin - paused, delta=0.04,
                               msg="skip: the file is shorter by the paused time (%.3f s)"
                               % paused)
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin, pause, resume),
                         "A on the left (skip)")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin, pause, resume),
                         "B on the right (skip)")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")
        self.assertEqual(len(meta["Pauses"]), 1, meta["Pauses"])
        p = meta["Pauses"][0]
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], p["FileOffsetStart"], delta=0.0005,
                               msg="skip: a pause takes no time in the file: %s" % p)
        self.assertWallWithin(parse_iso(p["Start"]), pause, "Pauses[0].Start")
        self.assertWallWithin(parse_iso(p["End"]), resume, "Pauses[0].End")
        result = self.verify_cli(path)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_request_overrides_server_setting(self):
        """PauseBehavior "silence" on the contact beats --pause-behavior skip."""
        call = Call(self, "skip-override", pause_behavior="silence")
        call.start_legs(100, {"rec": TONE_A, "paused": TONE_C}, {"rec": TONE_B, "paused": TONE_C})
        call.at(5.5)
        start = call.op("START", then_phase="rec")
        call.at(35.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(64.5)
        call.set_phase("gap")
        call.at(67.5)
        resume = call.op("RESUME", then_phase="rec")
        call.at(90.5)
        stop = call.op("STOP")
        call.join_legs()
        path = self.recording_path(call)
        meta = self.metadata(path)
        self.assertEqual(meta["PauseBehavior"], "silence", meta)
        wav = self.read_wav(path)
        self.assertAlmostEqual(wav.duration, stop.after - start.after, delta=0.04,
                               msg="silence: the paused time stays in the file")
        self.assertSilent(wav.left, pause.after - start.after + 0.02,
                          resume.after - start.after - 0.02, "paused span (left)")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")


class PcmaTest(MediaCase):
    rtp_ports = rtp_range(60, 20)

    def test_alaw_pause_then_end(self):
        """A-law (PT 8); the paused time is digital zero (not A-law's 'silence',
        which decodes to +/-8); ending the contact finalises the recording."""
        call = Call(self, "alaw-1", codec="PCMA")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(130, customer, agent)
        call.at(5.5)
        start = call.op("START")
        call.at(9.5)
        call.set_phase("rec")
        call.at(49.5)
        call.set_phase("gap")
        call.at(52.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(79.5)
        call.set_phase("gap")
        call.at(82.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(124.5)
        call.set_phase("tail")
        call.at(127)
        path = self.recording_path(call)
        call.join_legs()
        ended = time.perf_counter()
        call.end()
        meta = self.metadata(path)
        self.check_metadata(meta, call, path, "ALL", "silence", start_mark=start)
        self.assertEqual(meta["Codec"], "PCMA")
        wav = self.read_wav(path)
        origin = start.after
        # The file begins when the START is durable, between the request
        # (start.before) and its answer (origin); it ends with the END.
        self.assertGreaterEqual(wav.duration, ended - origin - 0.1, "duration vs the legs' end")
        self.assertLessEqual(wav.duration, time.perf_counter() - start.before,
                             "duration vs the time since the START was sent")
        self.assertSpans(audio.tone_spans(wav.left, TONE_A),
                         call.expected_spans(call.customer, TONE_A, origin), "A (A-law) left")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin), "B (A-law) right")
        self.assertAbsent(wav.left, TONE_C, "paused audio (left)")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right)")
        self.assertAbsent(wav.right, TONE_A, "customer tone on the agent channel")
        # A-law silence decodes to +/-8: a recording of the "gap" packets is not zero,
        # the paused span must be.
        p = meta["Pauses"][0]
        verify = self.verify_cli(path)
        self.assertPausedSilent(wav, p, "paused (A-law)", verify.stdout + verify.stderr)
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], resume.after - origin, delta=TOL, msg=p)
        pre_pause = call.offset(50, origin)
        self.assertFalse(audio.is_silent(wav.left, pre_pause + 0.005, pre_pause + 0.035),
                         "A-law silence packets before the pause were recorded as digital zero "
                         "(decoded as µ-law, or dropped?)")
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)


class NetworkImpairmentTest(MediaCase):
    rtp_ports = rtp_range(80, 20)

    def test_reorder_loss_duplicates(self):
        """Pairs swapped within 60 ms, 10 % lost, some duplicated: the tones are where
        they were sent, every packet's audio lies where its timestamp says, and the
        counters show the loss."""
        call = Call(self, "net-1")
        drops_c = rtp.loss_slots(20, 125, every=10, phase=7)
        drops_a = rtp.loss_slots(20, 125, every=10, phase=3)
        # disjoint pairs, 20 or 40 ms apart; (64, 65) and (79, 80) straddle tone edges
        swaps = (rtp.pair_swaps(20, 125, every=10, distance=2, phase=1) +
                 rtp.pair_swaps(20, 125, every=10, distance=1, phase=4) +
                 rtp.pair_swaps(20, 125, every=10, distance=2, phase=6) +
                 rtp.pair_swaps(20, 125, every=10, distance=1, phase=9))
        self.assertIn((64, 65), swaps)
        self.assertIn((79, 80), swaps)
        dups = {i for i in range(20, 125) if i % 10 == 5}
        signature = (lambda slot: 5000 + 97 * (slot % 31))  # every slot's samples unique
        customer_kw = {"drop": drops_c, "swaps": swaps, "duplicate": dups,
                       "amplitude_fn": signature}
        agent_kw = {"drop": drops_a, "swaps": swaps, "duplicate": dups}
        call.start_legs(145, {"rec": TONE_A}, {"rec": TONE_B}, customer_kw, agent_kw)
        call.at(5.5)
        start = call.op("START")
        call.at(14.5)
        call.set_phase("rec")
        call.at(64.5)
        call.set_phase("gap")
        call.at(79.5)
        call.set_phase("rec")
        call.at(129.5)
        call.set_phase("tail")
        call.at(138.5)
        stop = call.op("STOP")
        call.join_legs()
        path = self.recording_path(call)
        meta = self.metadata(path)
        wav = self.read_wav(path)
        origin = start.after

        # expected_spans joins runs of tone broken by up to 3 slots (lost, or a swapped
        # slot that left after the phase changed and so carries silence: 64 is sent in
        # 65's place, 10 ms after the change at 64.5, and 63 is lost), so the tones
        # found are joined across the same holes. Which side of the change slot 64
        # falls on is a race in the sender (under the sanitizers it often falls after);
        # where each packet's audio lies is checked exactly below.
        hole = 3 * PTIME + 0.005
        self.assertSpans(bridge_spans(audio.tone_spans(wav.left, TONE_A), hole),
                         call.expected_spans(call.customer, TONE_A, origin), "A with impairments")
        self.assertSpans(bridge_spans(audio.tone_spans(wav.right, TONE_B), hole),
                         call.expected_spans(call.agent, TONE_B, origin), "B with impairments")

        # placement by timestamp: every received slot's exact samples at base + slot * 160
        decoded = {}
        for slot in call.customer.log.slots_with(TONE_A):
            samples = rtp.tone_packet(TONE_A, slot, signature(slot))
            decoded[slot] = rtp.decode(rtp.encode(samples, "PCMU"), "PCMU")
        reference = min(s for s in decoded if s + 1 in decoded and s not in dict(swaps))
        base = find_exact(wav.left, decoded[reference])
        self.assertIsNotNone(base, "slot %d's audio is not in the file" % reference)
        base -= reference * rtp.SAMPLES_PER_PACKET
        misplaced = [slot for slot, samples in sorted(decoded.items())
                     if wav.left[base + slot * 160: base + slot * 160 + 160] != samples]
        self.assertEqual(misplaced, [], "slots whose audio is not where their timestamp puts it "
                         "(swapped: %s)" % sorted({s for pair in swaps for s in pair}))
        for slot in sorted(drops_c):
            if call.slot_time(slot) - origin > 0.05:
                at = base + slot * 160
                self.assertNotEqual(wav.left[at:at + 160], decoded.get(slot - 1),
                                    "a lost slot holds its neighbour's audio exactly")

        counters = meta["Counters"]
        self.assertLessEqual(counters["Late"], 2 * (len(swaps) + len(dups)), counters)
        sent = sum(call.count(leg, after=start.after, before=stop.before)
                   for leg in (call.customer, call.agent))
        # (whether a duplicate counts as a packet is not specified: either way)
        self.assertTrue(sent - 8 <= counters["Packets"] <= sent + 2 * len(dups) + 8,
                        "Packets %s vs %d distinct packets sent while recording (+%d "
                        "duplicates)" % (counters, sent, 2 * len(dups)))
        final = self.server.get_contact(call.contact_id)["Recording"]
        self.assertEqual((final["Packets"], final["Lost"]), (counters["Packets"],
                                                             counters["Lost"]), final)
        # every sequence number never sent is lost, duplicates of others notwithstanding
        dropped = len(drops_c) + len(drops_a)
        self.assertEqual(counters["Lost"], dropped, "Lost vs %d packets never sent (and %d "
                         "duplicated): %s" % (dropped, 2 * len(dups), counters))


class PauseMidBurstTest(MediaCase):
    rtp_ports = rtp_range(100, 20)

    def test_pause_from_the_sender_hook(self):
        """PAUSE made from the customer sender's own thread at slot 60 while the agent
        keeps sending: the customer's slot 60 (timestamped before the pause, sent
        only after the ack) and everything after carry tone C; none of it may be in
        the file."""
        call = Call(self, "burst-1")
        marks = {}

        def pause_hook():
            marks["pause"] = call.op("PAUSE", then_phase="paused")

        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(150, customer, agent, customer_kw={"actions": {60: pause_hook}})
        call.at(3.5)
        start = call.op("START", then_phase="rec")
        call.at(99.5)
        call.set_phase("gap")
        call.at(102.5)
        resume = call.op("RESUME", then_phase="rec2")
        call.at(139.5)
        call.set_phase("tail")
        call.at(145.5)
        call.op("STOP")
        call.join_legs()
        pause = marks["pause"]
        self.assertNoLateSender(call, skip_after=(60,))
        self.assertGreater(call.customer.log.sent_at(60), pause.after)
        self.assertEqual([r[5] for r in call.customer.log.records if r[0] == 60], [TONE_C],
                         "test set-up: slot 60 should carry C, sent after the PAUSE ack")

        path = self.recording_path(call)
        meta = self.metadata(path)
        wav = self.read_wav(path)
        origin = start.after
        self.assertAbsent(wav.left, TONE_C, "customer audio sent after the PAUSE ack")
        self.assertAbsent(wav.right, TONE_C, "agent audio sent after the PAUSE ack")
        spans = audio.tone_spans(wav.left, TONE_A)
        self.assertEqual(len(spans), 2, "A before and after the pause: %s" % fmt_spans(spans))
        # recording ran up to the pause: A ends between the request and the ack
        self.assertGreaterEqual(spans[0][1], pause.before - origin - TOL, fmt_spans(spans))
        self.assertLessEqual(spans[0][1], pause.after - origin + TOL, fmt_spans(spans))
        self.assertAlmostEqual(spans[1][0], call.offset(call.customer.log.runs(TONE_A)[-1][0],
                                                        origin), delta=TOL)
        b_spans = audio.tone_spans(wav.right, TONE_B)
        self.assertEqual(len(b_spans), 2, fmt_spans(b_spans))
        self.assertGreaterEqual(b_spans[0][1], pause.before - origin - TOL, fmt_spans(b_spans))
        self.assertLessEqual(b_spans[0][1], pause.after - origin + TOL, fmt_spans(b_spans))
        p = meta["Pauses"][0]
        verify = self.verify_cli(path)
        self.assertPausedSilent(wav, p, verify=verify.stdout + verify.stderr)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)


class TracksTest(MediaCase):
    rtp_ports = rtp_range(120, 20)

    def test_to_agent_and_from_agent(self):
        to_agent = Call(self, "trk-to")
        from_agent = Call(self, "trk-from", initial_contact_id="trk-root")
        to_agent.start_legs(90, {"rec": TONE_A}, {"rec": TONE_B})
        from_agent.start_legs(90, {"rec": TONE_A}, {"rec": TONE_B}, t0=to_agent.t0)
        to_agent.at(5.5)
        start_to = to_agent.op("START", track="TO_AGENT", then_phase="rec")
        start_from = from_agent.op("START", track="FROM_AGENT", then_phase="rec")
        to_agent.at(75)
        to_agent.set_phase("tail")
        from_agent.set_phase("tail")
        to_agent.at(80.5)
        to_agent.op("STOP")
        from_agent.op("STOP")
        to_agent.join_legs()
        from_agent.join_legs()
        for call, track, start, kept, dropped in (
                (to_agent, "TO_AGENT", start_to, "left", "right"),
                (from_agent, "FROM_AGENT", start_from, "right", "left")):
            with self.subTest(track=track):
                path = self.recording_path(call)
                meta = self.metadata(path)
                self.check_metadata(meta, call, path, track, "silence", start_mark=start)
                wav = self.read_wav(path)
                channels = {"left": wav.left, "right": wav.right}
                self.assertSilent(channels[dropped], 0, wav.duration,
                                  "%s: the %s channel (track not recorded)" % (track, dropped))
                leg, tone = ((call.customer, TONE_A) if kept == "left" else (call.agent, TONE_B))
                self.assertSpans(audio.tone_spans(channels[kept], tone),
                                 call.expected_spans(leg, tone, start.after),
                                 "%s: %d Hz on the %s" % (track, tone, kept))


class AgentNotJoinedTest(MediaCase):
    rtp_ports = rtp_range(140, 20)

    def test_waiting_for_agent(self):
        call = Call(self, "wait-1", agent_joined=False)
        customer = {"waiting": TONE_A, "joined": TONE_D}
        agent = {"joined": TONE_B}
        call.start_legs(120, customer, agent, agent_kw={"first": 50})
        call.at(5.5)
        call.op("START", then_phase="waiting")
        self.assertEqual(self.server.state(call.contact_id), "WAITING_FOR_AGENT")
        call.at(40)
        self.assertEqual(self.server.state(call.contact_id), "WAITING_FOR_AGENT",
                         "customer packets alone must not start the recording")
        call.at(49.5)
        call.set_phase("joined")
        call.at(55)
        state = self.server.state(call.contact_id)
        call.at(110)
        call.set_phase("tail")
        call.at(113.5)
        stop = call.op("STOP")
        call.join_legs()
        self.assertEqual(state, "RECORDING", "state after the agent's first packet")
        self.assertEqual(call.agent.log.records[0][0], 50)
        origin = call.agent.log.records[0][4]  # the agent's first packet
        path = self.recording_path(call)
        self.metadata(path)
        wav = self.read_wav(path)
        self.assertGreater(call.count(call.customer, TONE_A), 30, "test sent no waiting audio")
        self.assertAbsent(wav.left, TONE_A, "customer audio from before the agent's first packet")
        self.assertSpans(audio.tone_spans(wav.left, TONE_D),
                         call.expected_spans(call.customer, TONE_D, origin), "D (after join)")
        self.assertSpans(audio.tone_spans(wav.right, TONE_B),
                         call.expected_spans(call.agent, TONE_B, origin), "B (agent)")
        self.assertAlmostEqual(wav.duration, stop.after - origin, delta=0.04,
                               msg="recording starts at the agent's first packet")


class CrashTest(MediaCase):
    rtp_ports = rtp_range(160, 20)

    def test_kill9_mid_call(self):
        call = Call(self, "crash-1")
        customer = {"rec": TONE_A, "rec2": TONE_A, "paused": TONE_C}
        agent = {"rec": TONE_B, "rec2": TONE_B, "paused": TONE_C}
        call.start_legs(155, customer, agent)
        call.at(5.5)
        start = call.op("START", then_phase="rec")
        call.at(59.5)
        call.set_phase("gap")
        call.at(62.5)
        pause = call.op("PAUSE", then_phase="paused")
        call.at(84.5)
        call.set_phase("gap")
        call.at(87.5)
        resume = call.op("RESUME", then_phase="rec2")
        path = self.recording_path(call)
        call.join_legs()
        killed = time.perf_counter()
        self.assertTrue(call.offset(154, start.after) > 2.9, "sent ~3 s of recording")
        self.server.kill9()
        self.server.start()
        meta = self.metadata(path, complete=False)
        self.assertEqual(audio.header_problems(path), [],
                         "the WAV was not repaired after kill -9")
        wav = self.read_wav(path)
        origin = start.after
        self.assertGreaterEqual(wav.duration, 1.5, "kept less than 1.5 s of %.2f s"
                                % (killed - origin))
        self.assertLessEqual(wav.duration, killed - origin + 0.05)
        expected = [(s, min(e, wav.duration))
                    for s, e in call.expected_spans(call.customer, TONE_A, origin)
                    if s < wav.duration - 0.1]
        found = audio.tone_spans(wav.left, TONE_A)
        # the last span may be cut anywhere by the crash: compare its start only
        self.assertSpans(found[:-1], expected[:-1], "A before the kill")
        self.assertAlmostEqual(found[-1][0], expected[-1][0], delta=TOL)
        self.assertAbsent(wav.left, TONE_C, "paused audio (left), after repair")
        self.assertAbsent(wav.right, TONE_C, "paused audio (right), after repair")
        self.assertEqual(meta["Complete"], False)
        self.assertAlmostEqual(meta["DurationSeconds"], wav.duration, delta=0.021)
        with open(path, "rb") as f:
            self.assertEqual(meta.get("Sha256", "").lower(), hashlib.sha256(f.read()).hexdigest(),
                             "Sha256 of the repaired WAV")
        self.assertEqual(len(meta["Pauses"]), 1, "the pause before the crash: %s" % meta["Pauses"])
        p = meta["Pauses"][0]
        self.assertAlmostEqual(p["FileOffsetStart"], pause.after - origin, delta=TOL, msg=p)
        self.assertAlmostEqual(p["FileOffsetEnd"], resume.after - origin, delta=TOL, msg=p)
        result = self.verify_cli(path)
        self.assertEqual(result.returncode, 0, "verify after repair:\n" + result.stdout +
                         result.stderr)


if __name__ == "__main__":
    unittest.main()
