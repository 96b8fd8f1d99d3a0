#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace callrec::media {

// One RFC 4733 telephone-event (DTMF) report. `event` is the event code
// (0-9 digits, 10 '*', 11 '#', 12-15 A-D); `volume` is in -dBm0 (0-63);
// `duration` is in RTP timestamp units since the event began. The digit is
// sensitive: never log it.
struct TelephoneEvent {
  std::uint8_t event;
  bool end;
  std::uint8_t volume;
  std::uint16_t duration;
};

// Parses the first event of an RTP payload (at least 4 bytes; redundant
// events that may follow are ignored). The reserved bit is ignored.
std::optional<TelephoneEvent> ParseTelephoneEvent(std::span<const std::uint8_t> payload);

}  // namespace callrec::media
