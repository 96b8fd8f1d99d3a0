#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>

#include "callgen/AudioClip.hpp"
#include "callgen/DtmfPlan.hpp"

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
//
// With a DtmfSchedule (the customer's stream), slot k covers timeline samples
// k * 160 + audio_offset on: a key press there puts its tones in the audio
// (inband, both), and/or sends RFC 4733 telephone-event packets in the same
// SSRC and sequence space (rfc4733, both) - in rfc4733 mode instead of the
// audio packet of every slot the press overlaps. The event packets of a press
// share its timestamp (its first sample, which may be mid-packet); the first
// has the marker bit; one goes out per slot with the duration so far, and in
// the slot where the press ends its end packet (E bit, final duration) goes
// out three times (RFC 4733 section 2.5.1.4). A slot may thus hold several
// packets: Build is called with index 0, 1, ... until it returns 0.
class RtpPacketizer {
 public:
  RtpPacketizer(RtpIdentity identity, std::shared_ptr<const AudioClip> clip,
                std::int64_t audio_offset_samples);

  // Key presses on this stream; events only when `event_payload_type` is
  // given (the recorder's answer accepted telephone-event). Before the stream
  // is handed to the sender.
  void set_dtmf(std::shared_ptr<const DtmfSchedule> schedule,
                std::optional<std::uint8_t> event_payload_type);

  // Writes packet `index` of `slot` into `out` and returns its size; 0 when
  // the slot has no such packet. Packets of a slot are built in index order.
  std::size_t Build(std::int64_t slot, std::size_t index,
                    std::span<std::uint8_t, kMaxRtpPacket> out);
  // The slot's first packet.
  std::size_t Build(std::int64_t slot, std::span<std::uint8_t, kMaxRtpPacket> out) {
    return Build(slot, 0, out);
  }

  // Where the clip is at slot 0 (in samples; may be negative).
  void set_audio_offset(std::int64_t samples) { audio_offset_ = samples; }

  const RtpIdentity& identity() const { return identity_; }
  std::uint16_t next_sequence() const { return next_sequence_; }
  // Telephone-event packets built so far.
  std::uint64_t events_built() const { return events_built_; }

 private:
  // What slot `slot` carries.
  struct SlotContent {
    bool audio = true;
    const DtmfKeyPress* press = nullptr;  // the key press the slot overlaps
    int events = 0;                       // telephone-event packets
  };
  SlotContent ContentOf(std::int64_t slot) const;
  void WriteHeader(std::span<std::uint8_t, kMaxRtpPacket> out, bool marker,
                   std::uint8_t payload_type, std::uint32_t timestamp);
  void WriteAudio(std::int64_t slot, const DtmfKeyPress* press,
                  std::span<std::uint8_t, kMaxRtpPacket> out) const;

  RtpIdentity identity_;
  std::shared_ptr<const AudioClip> clip_;
  std::int64_t audio_offset_;
  std::uint16_t next_sequence_;
  std::int64_t last_slot_ = -2;
  std::shared_ptr<const DtmfSchedule> dtmf_;
  std::optional<std::uint8_t> event_payload_type_;
  std::optional<std::int64_t> last_event_start_;  // the press whose first event went out
  std::uint64_t events_built_ = 0;
};

}  // namespace callrec::callgen
