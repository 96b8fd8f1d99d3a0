#include "media/G711.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace callrec::media {
namespace {

constexpr int kMuLawBias = 0x84;
constexpr int kMuLawClip = 8159;  // in 14-bit magnitude

constexpr std::int16_t MuLawToLinear(std::uint8_t code) {
  const int inverted = static_cast<std::uint8_t>(~code);
  const int magnitude = (((inverted & 0x0F) << 3) + kMuLawBias) << ((inverted & 0x70) >> 4);
  return static_cast<std::int16_t>((inverted & 0x80) ? kMuLawBias - magnitude
                                                     : magnitude - kMuLawBias);
}

constexpr std::int16_t ALawToLinear(std::uint8_t code) {
  const int value = code ^ 0x55;
  const int segment = (value & 0x70) >> 4;
  int magnitude = (value & 0x0F) << 4;
  if (segment == 0) {
    magnitude += 8;
  } else {
    magnitude = (magnitude + 0x108) << (segment - 1);
  }
  return static_cast<std::int16_t>((value & 0x80) ? magnitude : -magnitude);
}

// The segment whose end is at least `value`, 8 when beyond the last one.
constexpr int Segment(int value, const std::array<int, 8>& segment_ends) {
  int segment = 0;
  while (segment < 8 && value > segment_ends[segment]) ++segment;
  return segment;
}

constexpr std::array<int, 8> kMuLawSegmentEnds{0x3F,  0x7F,  0xFF,  0x1FF,
                                               0x3FF, 0x7FF, 0xFFF, 0x1FFF};
constexpr std::array<int, 8> kALawSegmentEnds{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

constexpr std::uint8_t LinearToMuLaw(std::int16_t sample) {
  int value = sample >> 2;  // 14-bit
  int mask = 0xFF;
  if (value < 0) {
    value = -value;
    mask = 0x7F;
  }
  value = std::min(value, kMuLawClip) + (kMuLawBias >> 2);
  const int segment = Segment(value, kMuLawSegmentEnds);
  if (segment >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  return static_cast<std::uint8_t>(((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask);
}

constexpr std::uint8_t LinearToALaw(std::int16_t sample) {
  int value = sample >> 3;  // 13-bit
  int mask = 0xD5;
  if (value < 0) {
    value = -value - 1;
    mask = 0x55;
  }
  const int segment = Segment(value, kALawSegmentEnds);
  if (segment >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int quantized = (value >> (segment < 2 ? 1 : segment)) & 0x0F;
  return static_cast<std::uint8_t>(((segment << 4) | quantized) ^ mask);
}

template <std::int16_t (*kDecode)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> MakeTable() {
  std::array<std::int16_t, 256> table{};
  for (std::size_t code = 0; code < table.size(); ++code) {
    table[code] = kDecode(static_cast<std::uint8_t>(code));
  }
  return table;
}

// Decoding runs once per sample on the packet path: a lookup, built at compile time.
constexpr std::array<std::int16_t, 256> kMuLawTable = MakeTable<MuLawToLinear>();
constexpr std::array<std::int16_t, 256> kALawTable = MakeTable<ALawToLinear>();

static_assert(kMuLawTable[0xFF] == 0 && kMuLawTable[0x7F] == 0);
static_assert(kMuLawTable[0x00] == -32124 && kMuLawTable[0x80] == 32124);
static_assert(kALawTable[0xD5] == 8 && kALawTable[0x55] == -8);
static_assert(kALawTable[0x2A] == -32256 && kALawTable[0xAA] == 32256);
static_assert(LinearToMuLaw(0) == 0xFF && LinearToALaw(0) == 0xD5);

void DecodeWith(const std::array<std::int16_t, 256>& table, std::span<const std::uint8_t> in,
                std::span<std::int16_t> out) {
  const std::size_t count = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < count; ++i) out[i] = table[in[i]];
}

bool EqualsIgnoringCase(std::string_view text, std::string_view upper) {
  return std::equal(text.begin(), text.end(), upper.begin(), upper.end(), [](char a, char b) {
    return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 'a' + 'A') : a) == b;
  });
}

}  // namespace

std::int16_t DecodeMuLaw(std::uint8_t code) {
  return kMuLawTable[code];
}
std::int16_t DecodeALaw(std::uint8_t code) {
  return kALawTable[code];
}
std::uint8_t EncodeMuLaw(std::int16_t sample) {
  return LinearToMuLaw(sample);
}
std::uint8_t EncodeALaw(std::int16_t sample) {
  return LinearToALaw(sample);
}

void Decode(Codec codec, std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  DecodeWith(codec == Codec::kPcmu ? kMuLawTable : kALawTable, in, out);
}

std::optional<Codec> CodecForPayloadType(std::uint8_t payload_type) {
  switch (payload_type) {
    case 0:
      return Codec::kPcmu;
    case 8:
      return Codec::kPcma;
    default:
      return std::nullopt;
  }
}

std::optional<Codec> ParseCodecName(std::string_view name) {
  if (EqualsIgnoringCase(name, "PCMU")) return Codec::kPcmu;
  if (EqualsIgnoringCase(name, "PCMA")) return Codec::kPcma;
  return std::nullopt;
}

}  // namespace callrec::media
