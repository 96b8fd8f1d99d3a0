#include "media/RecordingSession.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace callrec::media {
namespace {

// An empty duplicate-window slot: no extended sequence number (they run from
// -65535 up) can be this.
constexpr std::int64_t kNeverSeen = std::numeric_limits<std::int64_t>::min();

}  // namespace

RecordingSession::RecordingSession(Options options, Clock::time_point started,
                                   std::int64_t started_wall_ms)
    : options_(options),
      started_(started),
      started_wall_ms_(started_wall_ms),
      resumed_at_(started.time_since_epoch().count()),
      ring_(static_cast<std::size_t>(kInitialFrames) * 2, 0) {}

void RecordingSession::MakeRoom(std::int64_t end) {
  std::int64_t capacity = capacity_;
  while (capacity < kCapacityFrames && flushed_ + capacity < end) {
    capacity = std::min(capacity * 2, kCapacityFrames);
  }
  if (capacity == capacity_) return;
  // Each held frame moves to its slot in the larger ring.
  std::vector<std::int16_t> ring(static_cast<std::size_t>(capacity) * 2, 0);
  for (std::int64_t i = flushed_; i < flushed_ + capacity_; ++i) {
    const auto from = static_cast<std::size_t>(i % capacity_) * 2;
    const auto to = static_cast<std::size_t>(i % capacity) * 2;
    ring[to] = ring_[from];
    ring[to + 1] = ring_[from + 1];
  }
  ring_ = std::move(ring);
  capacity_ = capacity;
}

std::int64_t RecordingSession::PositionAt(Clock::time_point t) const {
  const auto since = std::chrono::duration_cast<std::chrono::microseconds>(t - started_).count();
  return since * kRate / 1'000'000;
}

void RecordingSession::CountForeign(std::uint64_t count) {
  std::lock_guard lock(mutex_);
  counters_.foreign += count;
}

RecordingSession::PacketResult RecordingSession::OnPacket(Side side, const RtpPacket& packet,
                                                          Clock::time_point arrival) {
  // The gate: checked first, before anything of the packet is read or kept. A
  // packet that arrived before the last resume (read late, the media thread
  // behind) came during the pause.
  if (!running_.load(std::memory_order_acquire) ||
      arrival.time_since_epoch().count() < resumed_at_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(mutex_);
    counters_.gated += 1;
    if (policy_paused_) ListenWhilePaused(side, packet, arrival);
    return PacketResult::kGated;
  }
  std::lock_guard lock(mutex_);
  // RFC 4733 events share the stream's SSRC and sequence numbers: they count
  // for loss, and are then recognised and written nowhere.
  const bool event =
      packet.payload_type == options_.telephone_event_pt[static_cast<std::size_t>(side)];
  if (!event) {
    const auto codec = CodecForPayloadType(packet.payload_type);
    if (!codec || *codec != options_.codec) {
      counters_.invalid += 1;
      return PacketResult::kInvalid;
    }
  }
  SideState& s = sides_[static_cast<int>(side)];
  const std::int64_t arrival_pos = PositionAt(arrival);
  if (!s.anchored || s.ssrc != packet.ssrc) {
    // A new source (first packet, or the sender restarted): place it by arrival.
    if (s.anchored) s.lost_before += CurrentLost(s);
    s.anchored = true;
    s.ssrc = packet.ssrc;
    s.anchor_ts = packet.timestamp;
    s.anchor_pos = arrival_pos;
    s.seq_started = false;
  }
  if (!CountSequence(s, packet.sequence)) {
    counters_.duplicates += 1;
    return PacketResult::kDuplicate;
  }
  if (event) {
    counters_.events += 1;
    // --dtmf-policy pause: a key pressed is a key pressed, in-band or not.
    if (options_.dtmf == DtmfPolicy::kPause && NewEvent(s, packet.timestamp) &&
        running_.load(std::memory_order_relaxed)) {
      digits_heard_.fetch_add(1, std::memory_order_relaxed);
      PauseForDigit(s.anchor_pos + static_cast<std::int32_t>(packet.timestamp - s.anchor_ts));
    }
    return PacketResult::kEvent;
  }
  std::int64_t pos =
      s.anchor_pos + static_cast<std::int32_t>(packet.timestamp - s.anchor_ts);  // wraps
  if (std::llabs(pos - arrival_pos) > kRate) {
    // A timestamp jump of more than a second: re-anchor instead of leaving a hole.
    s.anchor_ts = packet.timestamp;
    s.anchor_pos = arrival_pos;
    pos = arrival_pos;
  }

  const auto samples = static_cast<std::int64_t>(packet.payload.size());
  if (pos + samples <= flushed_) {
    counters_.late += 1;
    return PacketResult::kLate;
  }
  const std::int64_t first = std::max(pos, flushed_);
  MakeRoom(pos + samples);
  const std::int64_t last = std::min(pos + samples, flushed_ + capacity_);
  const bool recorded = side == Side::kCustomer ? options_.record_customer : options_.record_agent;
  if (recorded) {
    const auto channel = static_cast<std::size_t>(side);
    for (std::int64_t i = first; i < last; ++i) {
      const std::uint8_t code = packet.payload[static_cast<std::size_t>(i - pos)];
      const std::int16_t sample =
          options_.codec == Codec::kPcmu ? DecodeMuLaw(code) : DecodeALaw(code);
      ring_[static_cast<std::size_t>(i % capacity_) * 2 + channel] = sample;
    }
    placed_end_ = std::max(placed_end_, last);
    if (options_.dtmf != DtmfPolicy::kRecord) MaskDtmf(side, packet.payload, pos);
  }
  counters_.packets += 1;
  return PacketResult::kRecorded;
}

void RecordingSession::MaskDtmf(Side side, std::span<const std::uint8_t> payload,
                                std::int64_t pos) {
  std::array<std::int16_t, 480> samples;  // up to 60 ms packets are examined
  const std::size_t n = std::min(payload.size(), samples.size());
  for (std::size_t i = 0; i < n; ++i) {
    samples[i] = options_.codec == Codec::kPcmu ? DecodeMuLaw(payload[i]) : DecodeALaw(payload[i]);
  }
  DtmfDetector& detector = dtmf_[static_cast<int>(side)];
  const std::uint64_t before = detector.digits();
  const auto spans = detector.Feed(std::span<const std::int16_t>(samples.data(), n), pos);
  const std::uint64_t found = detector.digits() - before;
  counters_.dtmf_digits += found;
  if (found) digits_heard_.fetch_add(found, std::memory_order_relaxed);
  const auto channel = static_cast<std::size_t>(side);
  for (const DtmfDetector::Span& span : spans) {
    const std::int64_t start = std::max(span.start, std::int64_t{0});
    // What was already handed to storage cannot be taken back: counted, so
    // that the metadata (and callrec verify) say so.
    if (start < flushed_) {
      counters_.dtmf_unmasked += static_cast<std::uint64_t>(std::min(span.end, flushed_) - start);
    }
    const std::int64_t from = std::max(start, flushed_);
    const std::int64_t to = std::min(span.end, flushed_ + capacity_);
    for (std::int64_t i = from; i < to; ++i) {
      ring_[static_cast<std::size_t>(i % capacity_) * 2 + channel] = 0;
    }
    if (!masked_.empty() && masked_.back().side == side && masked_.back().end_sample >= start) {
      masked_.back().end_sample = std::max(masked_.back().end_sample, span.end);
    } else {
      masked_.push_back(MaskedSpan{side, start, span.end});
    }
    if (options_.dtmf == DtmfPolicy::kPause && running_.load(std::memory_order_relaxed)) {
      PauseForDigit(start);
    }
  }
}

void RecordingSession::PauseForDigit(std::int64_t from) {
  from = std::clamp(from, flushed_, flushed_ + capacity_);
  for (std::int64_t i = from; i < flushed_ + capacity_; ++i) {
    const std::size_t slot = static_cast<std::size_t>(i % capacity_) * 2;
    ring_[slot] = ring_[slot + 1] = 0;
  }
  running_.store(false, std::memory_order_release);
  pauses_.push_back(PauseInterval{started_wall_ms_ + from * 1000 / kRate, -1, from, -1, "dtmf"});
  policy_paused_ = true;
}

bool RecordingSession::NewEvent(SideState& side, std::uint32_t timestamp) {
  if (side.event_seen && side.event_ts == timestamp) return false;
  side.event_seen = true;
  side.event_ts = timestamp;
  return true;
}

void RecordingSession::ListenWhilePaused(Side side, const RtpPacket& packet,
                                         Clock::time_point arrival) {
  if (packet.payload_type == options_.telephone_event_pt[static_cast<std::size_t>(side)]) {
    if (NewEvent(sides_[static_cast<int>(side)], packet.timestamp)) {
      digits_heard_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  const auto codec = CodecForPayloadType(packet.payload_type);
  if (!codec || *codec != options_.codec) return;
  std::array<std::int16_t, 480> samples;
  const std::size_t n = std::min(packet.payload.size(), samples.size());
  for (std::size_t i = 0; i < n; ++i) {
    samples[i] = options_.codec == Codec::kPcmu ? DecodeMuLaw(packet.payload[i])
                                                : DecodeALaw(packet.payload[i]);
  }
  DtmfDetector& detector = dtmf_[static_cast<int>(side)];
  const std::uint64_t before = detector.digits();
  // Placed by arrival: the spans are not used, nothing of this is written.
  detector.Feed(std::span<const std::int16_t>(samples.data(), n), PositionAt(arrival));
  const std::uint64_t found = detector.digits() - before;
  counters_.dtmf_digits += found;
  if (found) digits_heard_.fetch_add(found, std::memory_order_relaxed);
}

void RecordingSession::Pause(Clock::time_point when, std::int64_t wall_ms,
                             const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (!running_.exchange(false, std::memory_order_acq_rel)) return;
  pauses_.push_back(
      PauseInterval{wall_ms, -1, std::max(PositionAt(when), placed_end_), -1, reason});
}

void RecordingSession::Resume(Clock::time_point when, std::int64_t wall_ms) {
  std::lock_guard lock(mutex_);
  if (running_.load(std::memory_order_acquire)) return;
  // Packets not sent to us while paused are not lost: sequence accounting restarts.
  for (SideState& side : sides_) {
    side.lost_before += CurrentLost(side);
    side.seq_started = false;
  }
  if (!pauses_.empty() && pauses_.back().end_sample < 0) {
    pauses_.back().end_sample = std::max(PositionAt(when), pauses_.back().start_sample);
    pauses_.back().end_wall_ms = wall_ms;
  }
  policy_paused_ = false;
  resumed_at_.store(when.time_since_epoch().count(), std::memory_order_relaxed);
  running_.store(true, std::memory_order_release);
}

bool RecordingSession::InPause(std::int64_t sample) const {
  for (const PauseInterval& p : pauses_) {
    if (sample >= p.start_sample && (p.end_sample < 0 || sample < p.end_sample)) return true;
  }
  return false;
}

std::vector<std::int16_t> RecordingSession::TakeUpTo(std::int64_t upto) {
  std::vector<std::int16_t> out;
  if (upto <= flushed_) return out;
  out.reserve(static_cast<std::size_t>(upto - flushed_) * 2);
  for (std::int64_t i = flushed_; i < upto; ++i) {
    const bool held = i < flushed_ + capacity_;
    const std::size_t slot = static_cast<std::size_t>(i % capacity_) * 2;
    const std::int16_t left = held ? ring_[slot] : 0;
    const std::int16_t right = held ? ring_[slot + 1] : 0;
    if (held) ring_[slot] = ring_[slot + 1] = 0;
    if (options_.skip_paused && InPause(i)) continue;
    out.push_back(left);
    out.push_back(right);
  }
  flushed_ = upto;
  counters_.frames_written += out.size() / 2;
  return out;
}

std::vector<std::int16_t> RecordingSession::TakeReady(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return TakeUpTo(PositionAt(now) - kReorderFrames);
}

std::vector<std::int16_t> RecordingSession::TakeUntil(Clock::time_point until) {
  std::lock_guard lock(mutex_);
  return TakeUpTo(PositionAt(until));
}

bool RecordingSession::CountSequence(SideState& s, std::uint16_t sequence) {
  // RFC 3550 A.1, simplified: the extended sequence number of this packet.
  std::int64_t extended;
  if (!s.seq_started) {
    s.seq_started = true;
    s.base_seq = sequence;
    s.max_seq = sequence;
    s.cycles = 0;
    s.received = 0;
    s.seen.fill(kNeverSeen);
    extended = sequence;
  } else {
    const auto delta = static_cast<std::uint16_t>(sequence - s.max_seq);
    if (delta != 0 && delta < 0x8000) {
      if (sequence < s.max_seq) s.cycles += 65536;
      s.max_seq = sequence;
      extended = static_cast<std::int64_t>(s.cycles) + sequence;
    } else {
      extended =
          static_cast<std::int64_t>(s.cycles) + sequence - (sequence > s.max_seq ? 65536 : 0);
    }
  }
  std::int64_t& slot = s.seen[static_cast<std::size_t>(extended) % s.seen.size()];
  if (slot == extended) return false;  // a duplicate
  slot = extended;
  s.received += 1;
  return true;
}

std::uint64_t RecordingSession::CurrentLost(const SideState& s) {
  if (!s.seq_started) return 0;
  const std::uint64_t expected = s.cycles + s.max_seq - s.base_seq + 1;
  return expected > s.received ? expected - s.received : 0;
}

std::uint64_t RecordingSession::LostLocked() const {
  std::uint64_t lost = 0;
  for (const SideState& s : sides_) lost += s.lost_before + CurrentLost(s);
  return lost;
}

std::vector<MaskedSpan> RecordingSession::masked() const {
  std::lock_guard lock(mutex_);
  return masked_;
}

std::vector<PauseInterval> RecordingSession::pauses() const {
  std::lock_guard lock(mutex_);
  return pauses_;
}

SessionCounters RecordingSession::counters() const {
  std::lock_guard lock(mutex_);
  SessionCounters out = counters_;
  out.lost = LostLocked();
  return out;
}

}  // namespace callrec::media
