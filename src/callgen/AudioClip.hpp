#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/Result.hpp"
#include "media/G711.hpp"

namespace callrec::callgen {

// The WAVE format tags callgen reads (RFC 2361): 16-bit linear PCM, A-law, µ-law.
enum class WavFormat : std::uint16_t { kPcm16 = 1, kALaw = 6, kMuLaw = 7 };

// A mono 8 kHz WAV file as it is stored: its format and its sample bytes
// (one byte per sample for G.711, two little-endian bytes for PCM).
struct WavAudio {
  WavFormat format;
  std::vector<std::uint8_t> data;

  std::size_t samples() const {
    return format == WavFormat::kPcm16 ? data.size() / 2 : data.size();
  }
};

// Parses a RIFF/WAVE image: walks the chunks (unknown ones are skipped) to
// "fmt " and "data". Refuses, with the reason, anything but mono 8 kHz
// µ-law, A-law or 16-bit PCM, and sizes that do not fit in the image.
core::Result<WavAudio, std::string> ParseWav(const std::vector<std::uint8_t>& image);
core::Result<WavAudio, std::string> ReadWav(const std::filesystem::path& path);

// What one stream sends: G.711 bytes in the codec of the session, at 8 kHz,
// looped by the sender. Never empty.
struct AudioClip {
  media::Codec codec;
  std::vector<std::uint8_t> payload;

  double seconds() const { return static_cast<double>(payload.size()) / 8000.0; }
};

// Transcodes a WAV to `codec` (G.711 in the other law goes through linear PCM).
// An empty WAV is refused.
core::Result<AudioClip, std::string> ClipFromWav(const WavAudio& wav, media::Codec codec);
core::Result<AudioClip, std::string> LoadClip(const std::filesystem::path& path,
                                              media::Codec codec);

// A steady sine at `frequency_hz`, amplitude about -10 dBFS, `seconds` long
// (at least one 20 ms packet): the default audio when no WAV is given.
AudioClip ToneClip(double frequency_hz, double seconds, media::Codec codec);

}  // namespace callrec::callgen
