#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/DtmfDetector.hpp"
#include "media/DtmfPolicy.hpp"
#include "media/G711.hpp"
#include "media/RtpPacket.hpp"

namespace callrec::media {

// Which leg a packet came from: the customer (left, TO_AGENT) or the agent
// (right, FROM_AGENT).
enum class Side { kCustomer = 0, kAgent = 1 };

// A pause as the recording saw it: on the contact's timeline (samples since the
// recording started) and in the file (frames; equal to the timeline when paused
// time is kept as silence, a single point when it is cut out).
struct PauseInterval {
  std::int64_t start_wall_ms = 0;
  std::int64_t end_wall_ms = -1;  // -1 while still paused
  std::int64_t start_sample = 0;
  std::int64_t end_sample = -1;
  // Why the recording paused itself ("dtmf": --dtmf-policy pause); empty for
  // a pause an operation decided (its principal is in the audit trail).
  std::string reason;
};

struct SessionCounters {
  std::uint64_t packets = 0;         // RTP packets accepted into the recording
  std::uint64_t gated = 0;           // dropped because the recording was not running
  std::uint64_t late = 0;            // arrived after their place was written
  std::uint64_t lost = 0;            // sequence numbers never received
  std::uint64_t invalid = 0;         // not RTP, or a payload type that is not the codec
  std::uint64_t events = 0;          // RFC 4733 telephone-events seen while recording
  std::uint64_t duplicates = 0;      // sequence numbers received twice
  std::uint64_t frames_written = 0;  // frames handed to storage
  std::uint64_t foreign = 0;         // from a sender the leg does not record (RtpSourceGuard)
  std::uint64_t dtmf_digits = 0;     // in-band DTMF digits found (and masked, under mask)
  std::uint64_t dtmf_unmasked = 0;   // samples of a digit already handed to storage: a leak
};

// Audio replaced by silence because it held a DTMF digit (timeline samples
// since the recording started; one leg).
struct MaskedSpan {
  Side side = Side::kCustomer;
  std::int64_t start_sample = 0;
  std::int64_t end_sample = 0;
};

// One contact's recording in memory, between the socket and the writer. Packets
// are placed by RTP timestamp on a timeline shared by both sides, so the
// channels stay aligned; a short reorder window (kReorderFrames) is held back
// before frames are handed out. The gate decides at arrival: a packet that
// arrives while the recording is not running is never decoded nor copied, and
// neither is one read after a resume that arrived before it.
class RecordingSession {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::int64_t kRate = 8000;
  static constexpr std::int64_t kReorderFrames = 8 * 100;  // 100 ms held back
  // Frames held in memory: 1 s, grown (up to 4 s) only while a leg places
  // audio further ahead of the last frame handed out (a media thread stalled).
  static constexpr std::int64_t kInitialFrames = 8000;
  static constexpr std::int64_t kCapacityFrames = 8000 * 4;

  struct Options {
    Codec codec = Codec::kPcmu;
    bool record_customer = true;
    bool record_agent = true;
    bool skip_paused = false;  // pause behaviour: cut out instead of silence
    // RFC 4733 telephone-event payload type of each leg [customer, agent]:
    // what the offer named (SIPREC), 101 where none did.
    std::array<std::uint8_t, 2> telephone_event_pt = {101, 101};
    // --dtmf-policy: under mask and pause, in-band DTMF found on a leg
    // (DtmfDetector) is replaced by silence from its first sample, while it is
    // still in the reorder window, before anything of it is written; under
    // pause the first digit also closes the gate from that sample on (both
    // legs), and until the recording is resumed the paused audio is examined
    // for further digits in memory (never kept) so the policy knows when they
    // stop.
    DtmfPolicy dtmf = DtmfPolicy::kRecord;
  };

  RecordingSession(Options options, Clock::time_point started, std::int64_t started_wall_ms);

  enum class PacketResult { kRecorded, kGated, kLate, kEvent, kDuplicate, kInvalid };
  // Packet path: never blocks on I/O, never throws.
  PacketResult OnPacket(Side side, const RtpPacket& packet, Clock::time_point arrival);
  // Datagrams dropped before the timeline because of their sender.
  void CountForeign(std::uint64_t count);

  // Control path.
  // `reason` is kept with the pause (PauseInterval::reason). The pause starts
  // at `when`, or past the last audio already on the timeline if a leg placed
  // it later (its first packet arrived late, so its timestamps run ahead of our
  // clock): what arrived before the pause stays, and the pause's span holds
  // none of it.
  void Pause(Clock::time_point when, std::int64_t wall_ms, const std::string& reason = {});
  void Resume(Clock::time_point when, std::int64_t wall_ms);
  bool running() const { return running_.load(std::memory_order_acquire); }
  // DTMF digits found so far on either leg, while recording or during a
  // pause the policy began (read on the packet path: no lock).
  std::uint64_t digits_heard() const { return digits_heard_.load(std::memory_order_relaxed); }

  // Interleaved stereo frames that can no longer change (older than the reorder
  // window), in file order: paused frames are cut out when skipping.
  std::vector<std::int16_t> TakeReady(Clock::time_point now);
  // Everything up to `until` (the stop), ignoring the reorder window.
  std::vector<std::int16_t> TakeUntil(Clock::time_point until);

  // The timeline position (samples since the recording started) at `t`.
  std::int64_t PositionAt(Clock::time_point t) const;
  std::vector<PauseInterval> pauses() const;
  std::vector<MaskedSpan> masked() const;
  SessionCounters counters() const;
  bool skip_paused() const { return options_.skip_paused; }
  std::int64_t started_wall_ms() const { return started_wall_ms_; }

 private:
  struct SideState {
    bool anchored = false;
    std::uint32_t ssrc = 0;
    std::uint32_t anchor_ts = 0;
    std::int64_t anchor_pos = 0;
    // Sequence accounting for loss.
    bool seq_started = false;
    std::uint16_t max_seq = 0;
    std::uint64_t cycles = 0;
    std::uint64_t base_seq = 0;
    std::uint64_t received = 0;
    std::uint64_t lost_before = 0;         // from earlier SSRCs
    std::array<std::int64_t, 512> seen{};  // extended sequence numbers, for duplicates
    // RFC 4733: the timestamp of the last event seen (all packets of one
    // event carry its start), so each new event counts once.
    bool event_seen = false;
    std::uint32_t event_ts = 0;
  };
  // A new RFC 4733 event on the leg (not a repeat of the current one's packets).
  static bool NewEvent(SideState& side, std::uint32_t timestamp);

  // Feeds the leg's DTMF detector and silences what it found (mutex_ held).
  void MaskDtmf(Side side, std::span<const std::uint8_t> payload, std::int64_t pos);
  // --dtmf-policy pause: the gate closes at `from` (a digit's first sample),
  // what both legs hold from there is silenced (mutex_ held).
  void PauseForDigit(std::int64_t from);
  // Feeds paused audio to the leg's detector during a policy pause: counted,
  // never kept (mutex_ held).
  void ListenWhilePaused(Side side, const RtpPacket& packet, Clock::time_point arrival);
  std::vector<std::int16_t> TakeUpTo(std::int64_t upto);
  // Grows the ring (up to kCapacityFrames) so that it holds up to `end` (mutex_ held).
  void MakeRoom(std::int64_t end);
  bool InPause(std::int64_t sample) const;
  std::uint64_t LostLocked() const;
  static std::uint64_t CurrentLost(const SideState& side);
  // Accounts for one sequence number; false for a duplicate.
  static bool CountSequence(SideState& side, std::uint16_t sequence);

  const Options options_;
  const Clock::time_point started_;
  const std::int64_t started_wall_ms_;
  std::atomic<bool> running_{true};
  // When the gate last opened (the start, or the last resume), in Clock ticks:
  // a packet that arrived before it is gated, however late it is read.
  std::atomic<Clock::rep> resumed_at_;
  std::atomic<std::uint64_t> digits_heard_{0};

  mutable std::mutex mutex_;
  std::vector<std::int16_t> ring_;  // capacity_ stereo frames
  std::int64_t capacity_ = kInitialFrames;
  std::int64_t flushed_ = 0;     // timeline position of the first frame not yet handed out
  std::int64_t placed_end_ = 0;  // timeline position just past the last audio placed
  SideState sides_[2];
  DtmfDetector dtmf_[2];
  std::vector<MaskedSpan> masked_;
  std::vector<PauseInterval> pauses_;
  bool policy_paused_ = false;  // the last pause is the DTMF policy's, still open
  SessionCounters counters_;
};

}  // namespace callrec::media
