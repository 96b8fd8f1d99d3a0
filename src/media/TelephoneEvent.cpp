#include "media/TelephoneEvent.hpp"

namespace callrec::media {

std::optional<TelephoneEvent> ParseTelephoneEvent(std::span<const std::uint8_t> payload) {
  if (payload.size() < 4) return std::nullopt;
  return TelephoneEvent{
      .event = payload[0],
      .end = (payload[1] & 0x80) != 0,
      .volume = static_cast<std::uint8_t>(payload[1] & 0x3F),
      .duration = static_cast<std::uint16_t>((payload[2] << 8) | payload[3]),
  };
}

}  // namespace callrec::media
