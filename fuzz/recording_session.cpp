// A leg's packets into one contact's media::RecordingSession, as media::Recorder
// feeds them: each datagram through ParseRtp, then OnPacket at its arrival time,
// with pauses and resumes between them and TakeReady every step (the 20 ms
// tick), TakeUntil at the end.
//
// Input: one options byte (bit 0 PCMA, bit 1 skip paused time, bits 2-3 which
// sides are recorded), then up to kMaxSteps steps of
//   op (bits 0-1: 0 customer packet, 1 agent packet, 2 pause, 3 resume)
//   arrival delay: 0-249 ms, or 250-255 for a gap of 1-6 s (long gaps are
//     rare; an input ends after kMaxTimeline of audio in any case)
//   for a packet: its length (one byte) and the datagram
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>

#include "FuzzCheck.hpp"
#include "media/RecordingSession.hpp"

using namespace callrec;
using media::RecordingSession;

namespace {

constexpr int kMaxSteps = 400;
// The session costs about 2.5 ms per second of audio under the sanitisers; past
// 30 s (more than seven times its 4 s buffer) an input stops, so that the
// fuzzer does not favour ever longer timelines over new paths.
constexpr auto kMaxTimeline = std::chrono::seconds(30);

// What the harness knows of one side, to check the session's duplicate
// accounting independently: the sequence numbers accepted since the source
// (SSRC) last changed or the recording last resumed.
struct SideModel {
  bool anchored = false;
  std::uint32_t ssrc = 0;
  std::set<std::uint16_t> sequences;
};

void CheckFrames(const std::vector<std::int16_t>& frames) {
  CALLREC_FUZZ_CHECK(frames.size() % 2 == 0);  // interleaved stereo
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  RecordingSession::Options options;
  options.codec = (data[0] & 1) ? media::Codec::kPcma : media::Codec::kPcmu;
  options.skip_paused = (data[0] & 2) != 0;
  options.record_customer = (data[0] & 4) == 0;
  options.record_agent = (data[0] & 8) == 0;
  // --dtmf-policy: mask (the default), record, pause (which may pause the session itself).
  const int policy = (data[0] >> 4) & 3;
  options.dtmf = policy == 1   ? media::DtmfPolicy::kRecord
                 : policy == 2 ? media::DtmfPolicy::kPause
                               : media::DtmfPolicy::kMask;
  const auto t0 = RecordingSession::Clock::time_point(std::chrono::hours(1));
  RecordingSession session(options, t0, 1'700'000'000'000);
  auto now = t0;
  std::int64_t wall_ms = 1'700'000'000'000;
  SideModel model[2];
  std::uint64_t frames_taken = 0;

  std::size_t at = 1;
  for (int step = 0; step < kMaxSteps && at + 2 <= size && now - t0 < kMaxTimeline; ++step) {
    const int op = data[at] & 3;
    const std::chrono::microseconds delay =
        data[at + 1] < 250 ? std::chrono::milliseconds(data[at + 1])
                           : std::chrono::milliseconds(1000 * (data[at + 1] - 249));
    at += 2;
    now += delay;
    wall_ms += std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
    if (op == 2) {
      session.Pause(now, wall_ms);
      CALLREC_FUZZ_CHECK(!session.running());
    } else if (op == 3) {
      if (!session.running()) {
        for (SideModel& side : model) side.sequences.clear();
      }
      session.Resume(now, wall_ms);
      CALLREC_FUZZ_CHECK(session.running());
    } else {
      if (at >= size) break;
      const std::size_t length = std::min<std::size_t>(data[at], size - at - 1);
      const std::span<const std::uint8_t> datagram(data + at + 1, length);
      at += 1 + length;
      const auto packet = media::ParseRtp(datagram);
      if (!packet) continue;
      const auto side = op == 0 ? media::Side::kCustomer : media::Side::kAgent;
      const bool running = session.running();
      const auto result = session.OnPacket(side, *packet, now);
      using Result = RecordingSession::PacketResult;
      if (!running) {
        CALLREC_FUZZ_CHECK(result == Result::kGated);
      } else {
        CALLREC_FUZZ_CHECK(result != Result::kGated);
      }
      if (result != Result::kGated && result != Result::kInvalid) {
        SideModel& m = model[op];
        if (!m.anchored || m.ssrc != packet->ssrc) m.sequences.clear();
        m.anchored = true;
        m.ssrc = packet->ssrc;
        // A duplicate is a sequence number this source has already sent.
        if (result == Result::kDuplicate) {
          CALLREC_FUZZ_CHECK(m.sequences.count(packet->sequence) == 1);
        }
        m.sequences.insert(packet->sequence);
      }
    }
    const auto ready = session.TakeReady(now);
    CheckFrames(ready);
    frames_taken += ready.size() / 2;
  }
  const auto rest = session.TakeUntil(now);
  CheckFrames(rest);
  frames_taken += rest.size() / 2;

  const media::SessionCounters counters = session.counters();
  CALLREC_FUZZ_CHECK(counters.frames_written == frames_taken);
  // Keeping paused time as silence, the file is as long as the timeline.
  if (!options.skip_paused) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - t0).count();
    CALLREC_FUZZ_CHECK(static_cast<std::int64_t>(frames_taken) ==
                       elapsed * RecordingSession::kRate / 1'000'000);
  }
  for (const media::PauseInterval& pause : session.pauses()) {
    CALLREC_FUZZ_CHECK(pause.end_sample < 0 || pause.end_sample >= pause.start_sample);
  }
  for (const media::MaskedSpan& span : session.masked()) {
    CALLREC_FUZZ_CHECK(span.end_sample > span.start_sample);
  }
  if (options.dtmf == media::DtmfPolicy::kRecord) CALLREC_FUZZ_CHECK(counters.dtmf_digits == 0);
  if (options.dtmf != media::DtmfPolicy::kPause) {
    for (const media::PauseInterval& pause : session.pauses())
      CALLREC_FUZZ_CHECK(pause.reason.empty());
  }
  return 0;
}
