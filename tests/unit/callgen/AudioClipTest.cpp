#include "callgen/AudioClip.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

namespace callrec::callgen {
namespace {

const std::string kAudio = std::string(CALLREC_FIXTURES_DIR) + "/audio/";

// The power of `frequency` in `samples` relative to the total (Goertzel).
double ToneShare(const std::vector<std::int16_t>& samples, double frequency) {
  const double coefficient = 2.0 * std::cos(2.0 * std::numbers::pi * frequency / 8000.0);
  double s1 = 0, s2 = 0, energy = 0;
  for (const std::int16_t x : samples) {
    const double s0 = x + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += static_cast<double>(x) * x;
  }
  const double power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return energy == 0 ? 0 : 2.0 * power / (energy * static_cast<double>(samples.size()));
}

std::vector<std::int16_t> Decoded(const AudioClip& clip) {
  std::vector<std::int16_t> out(clip.payload.size());
  media::Decode(clip.codec, clip.payload, out);
  return out;
}

void Put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void Put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

// A minimal RIFF/WAVE image: fmt then data.
std::vector<std::uint8_t> Wav(std::uint16_t format, std::uint16_t channels, std::uint32_t rate,
                              std::uint16_t bits, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> b{'R', 'I', 'F', 'F'};
  Put32(b, static_cast<std::uint32_t>(4 + 8 + 16 + 8 + data.size()));
  b.insert(b.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  Put32(b, 16);
  Put16(b, format);
  Put16(b, channels);
  Put32(b, rate);
  Put32(b, rate * channels * bits / 8);
  Put16(b, static_cast<std::uint16_t>(channels * bits / 8));
  Put16(b, bits);
  b.insert(b.end(), {'d', 'a', 't', 'a'});
  Put32(b, static_cast<std::uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

TEST(AudioClip, ReadsTheThreeWaveFormats) {
  const struct {
    const char* file;
    WavFormat format;
    std::size_t bytes;
  } cases[] = {{"tone1000_alaw.wav", WavFormat::kALaw, 800},
               {"tone1000_pcm16.wav", WavFormat::kPcm16, 1600},
               {"tone1000_ulaw_list.wav", WavFormat::kMuLaw, 800}};
  for (const auto& c : cases) {
    auto wav = ReadWav(kAudio + c.file);
    ASSERT_TRUE(wav.ok()) << c.file << ": " << wav.error();
    EXPECT_EQ(wav->format, c.format) << c.file;
    EXPECT_EQ(wav->data.size(), c.bytes) << c.file;
    EXPECT_EQ(wav->samples(), 800u) << c.file;
  }
}

TEST(AudioClip, EveryFormatBecomesTheSameToneInEitherCodec) {
  for (const char* file : {"tone1000_alaw.wav", "tone1000_pcm16.wav", "tone1000_ulaw_list.wav"}) {
    for (const auto codec : {media::Codec::kPcmu, media::Codec::kPcma}) {
      auto clip = LoadClip(kAudio + file, codec);
      ASSERT_TRUE(clip.ok()) << file << ": " << clip.error();
      EXPECT_EQ(clip->codec, codec);
      ASSERT_EQ(clip->payload.size(), 800u);
      const auto samples = Decoded(*clip);
      EXPECT_GT(ToneShare(samples, 1000.0), 0.9) << file;
      EXPECT_LT(ToneShare(samples, 600.0), 0.05) << file;
    }
  }
}

TEST(AudioClip, SameLawIsCopiedOtherLawIsTranscoded) {
  auto wav = ReadWav(kAudio + "tone1000_ulaw_list.wav");
  ASSERT_TRUE(wav.ok());
  auto same = ClipFromWav(*wav, media::Codec::kPcmu);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->payload, wav->data);
  auto other = ClipFromWav(*wav, media::Codec::kPcma);
  ASSERT_TRUE(other.ok());
  for (std::size_t i = 0; i < wav->data.size(); ++i) {
    ASSERT_EQ(other->payload[i], media::EncodeALaw(media::DecodeMuLaw(wav->data[i]))) << i;
  }
}

TEST(AudioClip, CustomerFixtureHasItsTonesAtTheDocumentedOffsets) {
  auto clip = LoadClip(kAudio + "customer_ulaw.wav", media::Codec::kPcmu);
  ASSERT_TRUE(clip.ok());
  EXPECT_DOUBLE_EQ(clip->seconds(), 5.0);
  const auto samples = Decoded(*clip);
  const auto window = [&](double from, double to) {
    return std::vector<std::int16_t>(samples.begin() + static_cast<long>(from * 8000),
                                     samples.begin() + static_cast<long>(to * 8000));
  };
  EXPECT_GT(ToneShare(window(0.6, 1.4), 600.0), 0.9);
  EXPECT_GT(ToneShare(window(3.1, 3.9), 1400.0), 0.9);
  for (const std::int16_t s : window(1.6, 2.9)) ASSERT_EQ(s, 0);
}

TEST(AudioClip, RefusesWhatItCannotSend) {
  const std::vector<std::uint8_t> some(160, 0xFF);
  EXPECT_NE(ParseWav(Wav(7, 2, 8000, 8, some)).error().find("mono"), std::string::npos);
  EXPECT_NE(ParseWav(Wav(7, 1, 16000, 8, some)).error().find("8000"), std::string::npos);
  EXPECT_NE(ParseWav(Wav(3, 1, 8000, 32, some)).error().find("format 3"), std::string::npos);
  EXPECT_NE(ParseWav(Wav(1, 1, 8000, 8, some)).error().find("16 bits"), std::string::npos);
  EXPECT_FALSE(ParseWav(std::vector<std::uint8_t>{'R', 'I', 'F', 'F'}).ok());
  EXPECT_FALSE(ParseWav(std::vector<std::uint8_t>(100, 0)).ok());
  auto empty = ParseWav(Wav(7, 1, 8000, 8, {}));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(ClipFromWav(*empty, media::Codec::kPcmu).ok());
  EXPECT_FALSE(ReadWav(kAudio + "no-such-file.wav").ok());
}

TEST(AudioClip, ADataChunkCutShortIsReadToTheEnd) {
  auto image = Wav(7, 1, 8000, 8, std::vector<std::uint8_t>(320, 0xFF));
  image.resize(image.size() - 100);
  auto wav = ParseWav(image);
  ASSERT_TRUE(wav.ok()) << wav.error();
  EXPECT_EQ(wav->data.size(), 220u);
}

TEST(AudioClip, ToneClipIsTheAskedFrequency) {
  const AudioClip tone = ToneClip(440.0, 1.0, media::Codec::kPcma);
  EXPECT_EQ(tone.payload.size(), 8000u);
  EXPECT_EQ(tone.codec, media::Codec::kPcma);
  EXPECT_GT(ToneShare(Decoded(tone), 440.0), 0.95);
  EXPECT_EQ(ToneClip(1000.0, 0.0, media::Codec::kPcmu).payload.size(), 160u);
}

}  // namespace
}  // namespace callrec::callgen
