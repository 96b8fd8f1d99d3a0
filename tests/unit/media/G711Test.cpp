#include "media/G711.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace callrec::media {
namespace {

TEST(G711, KnownMuLawValues) {
  EXPECT_EQ(DecodeMuLaw(0xFF), 0);
  EXPECT_EQ(DecodeMuLaw(0x7F), 0);
  EXPECT_EQ(DecodeMuLaw(0x00), -32124);
  EXPECT_EQ(DecodeMuLaw(0x80), 32124);
  EXPECT_EQ(DecodeMuLaw(0xFE), 8);
  EXPECT_EQ(DecodeMuLaw(0x7E), -8);
  EXPECT_EQ(EncodeMuLaw(0), 0xFF);
  EXPECT_EQ(EncodeMuLaw(32767), 0x80);
  EXPECT_EQ(EncodeMuLaw(-32768), 0x00);
}

TEST(G711, KnownALawValues) {
  EXPECT_EQ(DecodeALaw(0xD5), 8);
  EXPECT_EQ(DecodeALaw(0x55), -8);
  EXPECT_EQ(DecodeALaw(0x2A), -32256);
  EXPECT_EQ(DecodeALaw(0xAA), 32256);
  EXPECT_EQ(EncodeALaw(0), 0xD5);
  EXPECT_EQ(EncodeALaw(-1), 0x55);
  EXPECT_EQ(EncodeALaw(32767), 0xAA);
  EXPECT_EQ(EncodeALaw(-32768), 0x2A);
}

TEST(G711, MuLawRoundTripsEveryCode) {
  for (int code = 0; code < 256; ++code) {
    const auto byte = static_cast<std::uint8_t>(code);
    // Negative zero (0x7F) decodes to 0, which encodes as positive zero (0xFF).
    const std::uint8_t expected = byte == 0x7F ? 0xFF : byte;
    EXPECT_EQ(EncodeMuLaw(DecodeMuLaw(byte)), expected) << code;
  }
}

TEST(G711, ALawRoundTripsEveryCode) {
  for (int code = 0; code < 256; ++code) {
    const auto byte = static_cast<std::uint8_t>(code);
    EXPECT_EQ(EncodeALaw(DecodeALaw(byte)), byte) << code;
  }
}

TEST(G711, DecodingIsMonotonicInMagnitude) {
  // Within each sign, codes ordered by magnitude decode to strictly growing values.
  for (int code = 0x80; code < 0xFF; ++code) {
    EXPECT_GT(DecodeMuLaw(static_cast<std::uint8_t>(code)),
              DecodeMuLaw(static_cast<std::uint8_t>(code + 1)))
        << code;
  }
  for (int value = 0; value < 0x7F; ++value) {
    EXPECT_LT(DecodeALaw(static_cast<std::uint8_t>((value ^ 0x55) | 0x80)),
              DecodeALaw(static_cast<std::uint8_t>(((value + 1) ^ 0x55) | 0x80)))
        << value;
  }
}

double SineSnrDb(Codec codec) {
  constexpr int kRate = 8000;
  constexpr double kFrequency = 1000.0;
  constexpr double kAmplitude = 16000.0;
  std::vector<std::int16_t> original(kRate);
  std::vector<std::uint8_t> encoded(kRate);
  for (int i = 0; i < kRate; ++i) {
    original[i] = static_cast<std::int16_t>(
        std::lround(kAmplitude * std::sin(2 * std::numbers::pi * kFrequency * i / kRate + 0.3)));
    encoded[i] = codec == Codec::kPcmu ? EncodeMuLaw(original[i]) : EncodeALaw(original[i]);
  }
  std::vector<std::int16_t> decoded(kRate);
  Decode(codec, encoded, decoded);
  double signal = 0;
  double noise = 0;
  for (int i = 0; i < kRate; ++i) {
    signal += static_cast<double>(original[i]) * original[i];
    const double error = static_cast<double>(original[i]) - decoded[i];
    noise += error * error;
  }
  return 10 * std::log10(signal / noise);
}

TEST(G711, SineSurvivesMuLaw) {
  EXPECT_GT(SineSnrDb(Codec::kPcmu), 30.0);
}
TEST(G711, SineSurvivesALaw) {
  EXPECT_GT(SineSnrDb(Codec::kPcma), 30.0);
}

TEST(G711, DecodeSpanUsesTheCodecsTable) {
  const std::vector<std::uint8_t> in{0x00, 0x80, 0xFF, 0xD5, 0x2A};
  std::vector<std::int16_t> out(in.size() + 1, 1234);
  Decode(Codec::kPcmu, in, out);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], DecodeMuLaw(in[i])) << i;
  EXPECT_EQ(out.back(), 1234);  // beyond the input: untouched
  Decode(Codec::kPcma, in, out);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], DecodeALaw(in[i])) << i;
}

TEST(G711, DecodeStopsAtTheShorterSpan) {
  const std::vector<std::uint8_t> in{0x00, 0x80, 0xFF};
  std::vector<std::int16_t> out(2);
  Decode(Codec::kPcmu, in, out);
  EXPECT_EQ(out, (std::vector<std::int16_t>{-32124, 32124}));
}

TEST(G711, PayloadTypesAndNames) {
  EXPECT_EQ(CodecForPayloadType(0), Codec::kPcmu);
  EXPECT_EQ(CodecForPayloadType(8), Codec::kPcma);
  EXPECT_FALSE(CodecForPayloadType(9));
  EXPECT_FALSE(CodecForPayloadType(101));
  EXPECT_EQ(ParseCodecName("PCMU"), Codec::kPcmu);
  EXPECT_EQ(ParseCodecName("PCMA"), Codec::kPcma);
  EXPECT_EQ(ParseCodecName("pcma"), Codec::kPcma);
  EXPECT_FALSE(ParseCodecName("PCM"));
  EXPECT_FALSE(ParseCodecName("PCMUX"));
  EXPECT_FALSE(ParseCodecName("G722"));
  EXPECT_FALSE(ParseCodecName(""));
}

}  // namespace
}  // namespace callrec::media
