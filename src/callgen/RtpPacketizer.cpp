#include "callgen/RtpPacketizer.hpp"

#include <algorithm>

namespace callrec::callgen {

SteadyTime SlotDue(SteadyTime origin, std::int64_t slot) {
  return origin + slot * std::chrono::duration_cast<SteadyTime::duration>(kPacketInterval);
}

std::int64_t FirstSlotAtOrAfter(SteadyTime origin, SteadyTime t) {
  if (t <= origin) return 0;
  const auto interval = std::chrono::duration_cast<SteadyTime::duration>(kPacketInterval);
  const auto elapsed = t - origin;
  return (elapsed + interval - SteadyTime::duration{1}) / interval;
}

RtpIdentity RandomRtpIdentity(std::uint8_t payload_type, std::mt19937& random) {
  std::uniform_int_distribution<std::uint32_t> any32;
  return RtpIdentity{any32(random), static_cast<std::uint16_t>(any32(random)), any32(random),
                     payload_type};
}

RtpPacketizer::RtpPacketizer(RtpIdentity identity, std::shared_ptr<const AudioClip> clip,
                             std::int64_t audio_offset_samples)
    : identity_(identity),
      clip_(std::move(clip)),
      audio_offset_(audio_offset_samples),
      next_sequence_(identity.first_sequence) {}

std::size_t RtpPacketizer::Build(std::int64_t slot, std::span<std::uint8_t, kMaxRtpPacket> out) {
  const bool marker = slot != last_slot_ + 1;
  last_slot_ = slot;
  const std::uint16_t sequence = next_sequence_++;
  const std::uint32_t timestamp =
      identity_.first_timestamp + static_cast<std::uint32_t>(slot) * kSamplesPerPacket;
  out[0] = 0x80;  // version 2, no padding, no extension, no CSRC
  out[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | (identity_.payload_type & 0x7F));
  out[2] = static_cast<std::uint8_t>(sequence >> 8);
  out[3] = static_cast<std::uint8_t>(sequence);
  for (int i = 0; i < 4; ++i) {
    out[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    out[8 + i] = static_cast<std::uint8_t>(identity_.ssrc >> (24 - 8 * i));
  }
  const auto& audio = clip_->payload;
  const auto length = static_cast<std::int64_t>(audio.size());
  std::int64_t position = (slot * kSamplesPerPacket + audio_offset_) % length;
  if (position < 0) position += length;
  std::size_t written = 0;
  while (written < kSamplesPerPacket) {
    const auto run = std::min<std::size_t>(kSamplesPerPacket - written,
                                           audio.size() - static_cast<std::size_t>(position));
    std::copy_n(audio.begin() + position, run, out.begin() + kRtpHeaderSize + written);
    written += run;
    position = 0;
  }
  return kMaxRtpPacket;
}

}  // namespace callrec::callgen
