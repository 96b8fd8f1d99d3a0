#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace callrec::media {

// ITU-T G.711 companding, bit-exact with the reference (Sun) implementation.
enum class Codec { kPcmu, kPcma };

std::int16_t DecodeMuLaw(std::uint8_t code);
std::int16_t DecodeALaw(std::uint8_t code);
std::uint8_t EncodeMuLaw(std::int16_t sample);
std::uint8_t EncodeALaw(std::int16_t sample);

// Decodes min(in.size(), out.size()) samples; the rest of `out` is untouched.
void Decode(Codec codec, std::span<const std::uint8_t> in, std::span<std::int16_t> out);

// The static RTP payload types of RFC 3551: 0 is PCMU, 8 is PCMA.
std::optional<Codec> CodecForPayloadType(std::uint8_t payload_type);
// An SDP rtpmap encoding name, "PCMU" or "PCMA" (case-insensitive, as
// media subtype names are).
std::optional<Codec> ParseCodecName(std::string_view name);

}  // namespace callrec::media
