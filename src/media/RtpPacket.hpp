#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace callrec::media {

// One RTP packet (RFC 3550) as a view into the datagram it was parsed from:
// `payload` points into that buffer, so the packet must not outlive it.
struct RtpPacket {
  std::uint8_t payload_type;
  bool marker;
  std::uint16_t sequence;
  std::uint32_t timestamp;
  std::uint32_t ssrc;
  std::span<const std::uint8_t> payload;  // CSRCs, extension and padding removed
};

// Parses an RTP datagram. Refuses (nullopt) anything that is not version 2,
// shorter than its own header, extension or padding, and RTCP multiplexed on
// the same port (RFC 5761: second byte 200-204). Never reads out of bounds,
// never throws. An empty payload is valid.
std::optional<RtpPacket> ParseRtp(std::span<const std::uint8_t> datagram);

// True for a version-2 datagram whose second byte is an RTCP SR, RR, SDES, BYE
// or APP packet type (200-204), the RFC 5761 demultiplexing rule.
bool IsRtcp(std::span<const std::uint8_t> datagram);

}  // namespace callrec::media
