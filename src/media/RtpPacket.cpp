#include "media/RtpPacket.hpp"

#include <cstddef>

namespace callrec::media {
namespace {

constexpr std::size_t kFixedHeaderBytes = 12;
constexpr std::size_t kExtensionHeaderBytes = 4;
constexpr std::uint8_t kRtpVersion = 2;
constexpr std::uint8_t kFirstRtcpType = 200;  // SR
constexpr std::uint8_t kLastRtcpType = 204;   // APP

std::uint16_t ReadBe16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

std::uint32_t ReadBe32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
         (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

bool IsRtcpPacketType(std::uint8_t second_byte) {
  return second_byte >= kFirstRtcpType && second_byte <= kLastRtcpType;
}

}  // namespace

bool IsRtcp(std::span<const std::uint8_t> datagram) {
  return datagram.size() >= 2 && (datagram[0] >> 6) == kRtpVersion && IsRtcpPacketType(datagram[1]);
}

std::optional<RtpPacket> ParseRtp(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < kFixedHeaderBytes) return std::nullopt;
  const std::uint8_t first = datagram[0];
  if ((first >> 6) != kRtpVersion) return std::nullopt;
  if (IsRtcpPacketType(datagram[1])) return std::nullopt;

  const bool has_padding = (first & 0x20) != 0;
  const bool has_extension = (first & 0x10) != 0;
  const std::size_t csrc_count = first & 0x0F;

  std::size_t header_bytes = kFixedHeaderBytes + 4 * csrc_count;
  if (header_bytes > datagram.size()) return std::nullopt;
  if (has_extension) {
    if (header_bytes + kExtensionHeaderBytes > datagram.size()) return std::nullopt;
    const std::size_t extension_words = ReadBe16(datagram, header_bytes + 2);
    header_bytes += kExtensionHeaderBytes + 4 * extension_words;
    if (header_bytes > datagram.size()) return std::nullopt;
  }

  std::size_t payload_end = datagram.size();
  if (has_padding) {
    // The last byte counts the padding, itself included, so it cannot be 0.
    const std::size_t padding = datagram.back();
    if (padding == 0 || padding > payload_end - header_bytes) return std::nullopt;
    payload_end -= padding;
  }

  return RtpPacket{
      .payload_type = static_cast<std::uint8_t>(datagram[1] & 0x7F),
      .marker = (datagram[1] & 0x80) != 0,
      .sequence = ReadBe16(datagram, 2),
      .timestamp = ReadBe32(datagram, 4),
      .ssrc = ReadBe32(datagram, 8),
      .payload = datagram.subspan(header_bytes, payload_end - header_bytes),
  };
}

}  // namespace callrec::media
