#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <span>

#include "callgen/AudioClip.hpp"

namespace callrec::callgen {

// G.711 at 8 kHz in 20 ms packets: 160 samples, 160 bytes of payload.
inline constexpr std::chrono::milliseconds kPacketInterval{20};
inline constexpr std::uint32_t kSamplesPerPacket = 160;
inline constexpr std::size_t kRtpHeaderSize = 12;
inline constexpr std::size_t kMaxRtpPacket = kRtpHeaderSize + kSamplesPerPacket;

using SteadyTime = std::chrono::steady_clock::time_point;

// The packet schedule of a session: slot k is due at origin + k * 20 ms. Every
// stream of a session shares the origin (the 200 OK), so the customer's and
// the agent's audio stay aligned to the sample.
SteadyTime SlotDue(SteadyTime origin, std::int64_t slot);
// The first slot due at or after `t` (0 when `t` is before the origin).
std::int64_t FirstSlotAtOrAfter(SteadyTime origin, SteadyTime t);

// RFC 3550: random SSRC, and random initial sequence number and timestamp.
struct RtpIdentity {
  std::uint32_t ssrc;
  std::uint16_t first_sequence;
  std::uint32_t first_timestamp;
  std::uint8_t payload_type;
};
RtpIdentity RandomRtpIdentity(std::uint8_t payload_type, std::mt19937& random);

// Builds the packets of one stream. The timestamp follows the slot (so a gap
// in sending, such as a pause, is a timestamp jump), the sequence number
// follows the packets actually built (RFC 3550: one per packet sent), and the
// marker bit is set on the first packet after a gap. The audio of slot k is
// the clip at sample (k * 160 + audio_offset) modulo its length, so the clip
// loops, and an offset lets a stream start the clip anywhere.
class RtpPacketizer {
 public:
  RtpPacketizer(RtpIdentity identity, std::shared_ptr<const AudioClip> clip,
                std::int64_t audio_offset_samples);

  // Writes the packet of `slot` into `out` and returns its size.
  std::size_t Build(std::int64_t slot, std::span<std::uint8_t, kMaxRtpPacket> out);

  // Where the clip is at slot 0 (in samples; may be negative).
  void set_audio_offset(std::int64_t samples) { audio_offset_ = samples; }

  const RtpIdentity& identity() const { return identity_; }
  std::uint16_t next_sequence() const { return next_sequence_; }

 private:
  RtpIdentity identity_;
  std::shared_ptr<const AudioClip> clip_;
  std::int64_t audio_offset_;
  std::uint16_t next_sequence_;
  std::int64_t last_slot_ = -2;
};

}  // namespace callrec::callgen
