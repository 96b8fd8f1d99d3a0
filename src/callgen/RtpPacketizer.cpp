#include "callgen/RtpPacketizer.hpp"

#include <algorithm>
#include <iterator>

#include "callgen/DtmfSignal.hpp"

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

void RtpPacketizer::set_dtmf(std::shared_ptr<const DtmfSchedule> schedule,
                             std::optional<std::uint8_t> event_payload_type) {
  dtmf_ = std::move(schedule);
  event_payload_type_ = event_payload_type;
}

RtpPacketizer::SlotContent RtpPacketizer::ContentOf(std::int64_t slot) const {
  SlotContent content;
  if (!dtmf_ || dtmf_->presses.empty()) return content;
  const std::int64_t first = slot * kSamplesPerPacket + audio_offset_;
  const std::int64_t end = first + kSamplesPerPacket;
  // The last press starting before the slot ends; presses never overlap.
  const auto& presses = dtmf_->presses;
  auto it = std::upper_bound(presses.begin(), presses.end(), end,
                             [](std::int64_t t, const DtmfKeyPress& p) { return t <= p.start; });
  if (it == presses.begin() || std::prev(it)->end() <= first) return content;
  content.press = &*std::prev(it);
  if (SendsEvents(dtmf_->mode) && event_payload_type_) {
    content.events = content.press->end() <= end ? 3 : 1;
    content.audio = dtmf_->mode != DtmfMode::kRfc4733;
  }
  return content;
}

void RtpPacketizer::WriteHeader(std::span<std::uint8_t, kMaxRtpPacket> out, bool marker,
                                std::uint8_t payload_type, std::uint32_t timestamp) {
  const std::uint16_t sequence = next_sequence_++;
  out[0] = 0x80;  // version 2, no padding, no extension, no CSRC
  out[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | (payload_type & 0x7F));
  out[2] = static_cast<std::uint8_t>(sequence >> 8);
  out[3] = static_cast<std::uint8_t>(sequence);
  for (int i = 0; i < 4; ++i) {
    out[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    out[8 + i] = static_cast<std::uint8_t>(identity_.ssrc >> (24 - 8 * i));
  }
}

void RtpPacketizer::WriteAudio(std::int64_t slot, const DtmfKeyPress* press,
                               std::span<std::uint8_t, kMaxRtpPacket> out) const {
  const auto& audio = clip_->payload;
  const auto length = static_cast<std::int64_t>(audio.size());
  const std::int64_t first = slot * kSamplesPerPacket + audio_offset_;
  std::int64_t position = first % length;
  if (position < 0) position += length;
  std::size_t written = 0;
  while (written < kSamplesPerPacket) {
    const auto run = std::min<std::size_t>(kSamplesPerPacket - written,
                                           audio.size() - static_cast<std::size_t>(position));
    std::copy_n(audio.begin() + position, run, out.begin() + kRtpHeaderSize + written);
    written += run;
    position = 0;
  }
  if (press != nullptr && SendsTones(dtmf_->mode)) {
    MixKeyPress(*press, dtmf_->amplitude, clip_->codec, first,
                out.subspan(kRtpHeaderSize, kSamplesPerPacket));
  }
}

std::size_t RtpPacketizer::Build(std::int64_t slot, std::size_t index,
                                 std::span<std::uint8_t, kMaxRtpPacket> out) {
  const SlotContent content = ContentOf(slot);
  const std::size_t audio_packets = content.audio ? 1 : 0;
  if (index >= audio_packets + static_cast<std::size_t>(content.events)) return 0;
  bool marker = false;
  if (index == 0) {
    marker = slot != last_slot_ + 1;
    last_slot_ = slot;
  }
  if (index < audio_packets) {
    WriteHeader(out, marker, identity_.payload_type,
                identity_.first_timestamp + static_cast<std::uint32_t>(slot) * kSamplesPerPacket);
    WriteAudio(slot, content.press, out);
    return kMaxRtpPacket;
  }
  // A telephone-event packet: the timestamp is the press's first sample.
  const DtmfKeyPress& press = *content.press;
  if (last_event_start_ != press.start) {
    marker = true;
    last_event_start_ = press.start;
  }
  const bool end = content.events == 3;
  const std::int64_t slot_end = (slot + 1) * kSamplesPerPacket + audio_offset_;
  const std::int64_t duration = (end ? press.end() : std::min(slot_end, press.end())) - press.start;
  WriteHeader(out, marker, *event_payload_type_,
              identity_.first_timestamp + static_cast<std::uint32_t>(press.start - audio_offset_));
  WriteTelephoneEvent(press.event, end, dtmf_->volume,
                      static_cast<std::uint16_t>(std::clamp<std::int64_t>(duration, 0, 0xFFFF)),
                      out.subspan<kRtpHeaderSize, 4>());
  ++events_built_;
  return kRtpHeaderSize + 4;
}

}  // namespace callrec::callgen
