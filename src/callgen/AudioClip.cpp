#include "callgen/AudioClip.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <numbers>

namespace callrec::callgen {
namespace {

std::uint32_t Le32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

std::uint16_t Le16(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}

bool TagIs(const std::vector<std::uint8_t>& b, std::size_t at, const char* tag) {
  return std::equal(tag, tag + 4, b.begin() + static_cast<std::ptrdiff_t>(at));
}

}  // namespace

core::Result<WavAudio, std::string> ParseWav(const std::vector<std::uint8_t>& image) {
  if (image.size() < 12 || !TagIs(image, 0, "RIFF") || !TagIs(image, 8, "WAVE")) {
    return std::string("not a RIFF/WAVE file");
  }
  bool have_format = false;
  std::uint16_t format = 0;
  std::size_t at = 12;
  while (at + 8 <= image.size()) {
    const std::uint32_t size = Le32(image, at + 4);
    const std::size_t body = at + 8;
    if (size > image.size() - body) {
      // A data chunk cut short (a recording still being written) is read up
      // to the end; any other chunk must fit.
      if (!TagIs(image, at, "data")) return std::string("chunk larger than the file");
    }
    if (TagIs(image, at, "fmt ")) {
      if (size < 16) return std::string("fmt chunk too short");
      format = Le16(image, body);
      const std::uint16_t channels = Le16(image, body + 2);
      const std::uint32_t rate = Le32(image, body + 4);
      const std::uint16_t bits = Le16(image, body + 14);
      if (format != 1 && format != 6 && format != 7) {
        return "WAVE format " + std::to_string(format) +
               " is not supported (1 = PCM, 6 = A-law, 7 = µ-law)";
      }
      if (channels != 1) return "expected mono, got " + std::to_string(channels) + " channels";
      if (rate != 8000) return "expected 8000 Hz, got " + std::to_string(rate);
      const std::uint16_t want_bits = format == 1 ? 16 : 8;
      if (bits != want_bits) {
        return "expected " + std::to_string(want_bits) + " bits per sample, got " +
               std::to_string(bits);
      }
      have_format = true;
    } else if (TagIs(image, at, "data")) {
      if (!have_format) return std::string("data chunk before fmt chunk");
      const std::size_t length = std::min<std::size_t>(size, image.size() - body);
      WavAudio audio{static_cast<WavFormat>(format), {}};
      const std::size_t usable = format == 1 ? length & ~std::size_t{1} : length;
      audio.data.assign(image.begin() + static_cast<std::ptrdiff_t>(body),
                        image.begin() + static_cast<std::ptrdiff_t>(body + usable));
      return audio;
    }
    at = body + size + (size & 1);  // chunks are padded to an even size
  }
  return std::string(have_format ? "no data chunk" : "no fmt chunk");
}

core::Result<WavAudio, std::string> ReadWav(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path.string();
  std::vector<std::uint8_t> image((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  auto audio = ParseWav(image);
  if (!audio) return path.string() + ": " + audio.error();
  return audio;
}

core::Result<AudioClip, std::string> ClipFromWav(const WavAudio& wav, media::Codec codec) {
  if (wav.samples() == 0) return std::string("the WAV holds no samples");
  AudioClip clip{codec, {}};
  const bool same_law = (wav.format == WavFormat::kMuLaw && codec == media::Codec::kPcmu) ||
                        (wav.format == WavFormat::kALaw && codec == media::Codec::kPcma);
  if (same_law) {
    clip.payload = wav.data;
    return clip;
  }
  clip.payload.reserve(wav.samples());
  for (std::size_t i = 0; i < wav.samples(); ++i) {
    std::int16_t linear = 0;
    switch (wav.format) {
      case WavFormat::kPcm16:
        linear = static_cast<std::int16_t>(wav.data[2 * i] | wav.data[2 * i + 1] << 8);
        break;
      case WavFormat::kMuLaw:
        linear = media::DecodeMuLaw(wav.data[i]);
        break;
      case WavFormat::kALaw:
        linear = media::DecodeALaw(wav.data[i]);
        break;
    }
    clip.payload.push_back(codec == media::Codec::kPcmu ? media::EncodeMuLaw(linear)
                                                        : media::EncodeALaw(linear));
  }
  return clip;
}

core::Result<AudioClip, std::string> LoadClip(const std::filesystem::path& path,
                                              media::Codec codec) {
  auto wav = ReadWav(path);
  if (!wav) return wav.error();
  auto clip = ClipFromWav(*wav, codec);
  if (!clip) return path.string() + ": " + clip.error();
  return clip;
}

AudioClip ToneClip(double frequency_hz, double seconds, media::Codec codec) {
  const auto samples = std::max<std::size_t>(160, static_cast<std::size_t>(seconds * 8000.0));
  AudioClip clip{codec, {}};
  clip.payload.reserve(samples);
  constexpr double kAmplitude = 10362.0;  // -10 dBFS
  for (std::size_t i = 0; i < samples; ++i) {
    const double phase = 2.0 * std::numbers::pi * frequency_hz * static_cast<double>(i) / 8000.0;
    const auto linear = static_cast<std::int16_t>(std::lround(kAmplitude * std::sin(phase)));
    clip.payload.push_back(codec == media::Codec::kPcmu ? media::EncodeMuLaw(linear)
                                                        : media::EncodeALaw(linear));
  }
  return clip;
}

}  // namespace callrec::callgen
