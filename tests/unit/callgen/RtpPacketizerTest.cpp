#include "callgen/RtpPacketizer.hpp"

#include <gtest/gtest.h>

#include "callgen/Lateness.hpp"
#include "media/RtpPacket.hpp"

namespace callrec::callgen {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const AudioClip> Ramp(std::size_t size) {
  AudioClip clip{media::Codec::kPcmu, {}};
  for (std::size_t i = 0; i < size; ++i) clip.payload.push_back(static_cast<std::uint8_t>(i));
  return std::make_shared<const AudioClip>(std::move(clip));
}

// A built packet; `packet` is parsed from the copy held here, so it stays valid.
struct Built {
  std::array<std::uint8_t, kMaxRtpPacket> bytes{};
  media::RtpPacket packet{};

  Built(const Built& other) : bytes(other.bytes) { Parse(); }
  explicit Built(RtpPacketizer& p, std::int64_t slot) {
    EXPECT_EQ(p.Build(slot, bytes), kMaxRtpPacket);
    Parse();
  }
  void Parse() {
    auto parsed = media::ParseRtp(bytes);
    EXPECT_TRUE(parsed.has_value());
    if (parsed) packet = *parsed;
  }
};

Built Build(RtpPacketizer& p, std::int64_t slot) {
  return Built(p, slot);
}

TEST(RtpPacketizer, HeaderFollowsRfc3550) {
  RtpPacketizer p(RtpIdentity{0xDEADBEEF, 65534, 0xFFFFFF00, 8}, Ramp(1000), 0);
  const auto first = Build(p, 0);
  EXPECT_EQ(first.packet.payload_type, 8);
  EXPECT_EQ(first.packet.ssrc, 0xDEADBEEFu);
  EXPECT_EQ(first.packet.sequence, 65534);
  EXPECT_EQ(first.packet.timestamp, 0xFFFFFF00u);
  EXPECT_TRUE(first.packet.marker);
  EXPECT_EQ(first.packet.payload.size(), 160u);
  const auto second = Build(p, 1);
  EXPECT_EQ(second.packet.sequence, 65535);
  EXPECT_EQ(second.packet.timestamp, 0xFFFFFF00u + 160);  // 32-bit wrap
  EXPECT_FALSE(second.packet.marker);
  const auto third = Build(p, 2);
  EXPECT_EQ(third.packet.sequence, 0);     // 16-bit wrap
  EXPECT_EQ(third.packet.timestamp, 64u);  // 0xFFFFFF00 + 320, modulo 2^32
}

TEST(RtpPacketizer, AGapJumpsTheTimestampNotTheSequenceAndSetsTheMarker) {
  RtpPacketizer p(RtpIdentity{1, 100, 1000, 0}, Ramp(8000), 0);
  Build(p, 0);
  Build(p, 1);
  const auto after_pause = Build(p, 51);  // one second not sent
  EXPECT_EQ(after_pause.packet.sequence, 102);
  EXPECT_EQ(after_pause.packet.timestamp, 1000u + 51 * 160);
  EXPECT_TRUE(after_pause.packet.marker);
  EXPECT_FALSE(Build(p, 52).packet.marker);
}

TEST(RtpPacketizer, PayloadIsTheClipAtTheSlotLoopingAcrossItsEnd) {
  RtpPacketizer p(RtpIdentity{1, 0, 0, 0}, Ramp(250), 0);
  const auto first = Build(p, 0);
  for (std::size_t i = 0; i < 160; ++i) ASSERT_EQ(first.packet.payload[i], i);
  const auto second = Build(p, 1);  // samples 160..319 of a 250-sample clip
  for (std::size_t i = 0; i < 160; ++i) ASSERT_EQ(second.packet.payload[i], (160 + i) % 250) << i;
}

TEST(RtpPacketizer, AudioOffsetStartsTheClipAnywhere) {
  // A stream that starts at slot 50 with the clip at its beginning.
  RtpPacketizer p(RtpIdentity{1, 0, 0, 0}, Ramp(250), 0);
  p.set_audio_offset(-50 * 160);
  const auto b = Build(p, 50);
  for (std::size_t i = 0; i < 160; ++i) ASSERT_EQ(b.packet.payload[i], i);
  p.set_audio_offset(10);
  EXPECT_EQ(Build(p, 0).packet.payload[0], 10);
}

TEST(RtpSchedule, SlotsAreTwentyMillisecondsFromTheOrigin) {
  const SteadyTime origin{std::chrono::seconds(100)};
  EXPECT_EQ(SlotDue(origin, 0), origin);
  EXPECT_EQ(SlotDue(origin, 1), origin + 20ms);
  EXPECT_EQ(SlotDue(origin, 3000), origin + 60s);
  EXPECT_EQ(FirstSlotAtOrAfter(origin, origin - 1s), 0);
  EXPECT_EQ(FirstSlotAtOrAfter(origin, origin), 0);
  EXPECT_EQ(FirstSlotAtOrAfter(origin, origin + 1ns), 1);
  EXPECT_EQ(FirstSlotAtOrAfter(origin, origin + 20ms), 1);
  EXPECT_EQ(FirstSlotAtOrAfter(origin, origin + 20ms + 1ns), 2);
  EXPECT_EQ(FirstSlotAtOrAfter(origin, origin + 1s), 50);
}

TEST(RtpIdentity, RandomIdentitiesDiffer) {
  std::mt19937 random(7);
  const auto a = RandomRtpIdentity(0, random);
  const auto b = RandomRtpIdentity(0, random);
  EXPECT_NE(a.ssrc, b.ssrc);
  EXPECT_NE(a.first_timestamp, b.first_timestamp);
  EXPECT_EQ(a.payload_type, 0);
}

TEST(Lateness, QuantilesAndMaximum) {
  Lateness l;
  EXPECT_EQ(l.QuantileMs(0.99), 0.0);
  for (int i = 0; i < 98; ++i) l.Record(10us);
  l.Record(3ms);
  l.Record(250ms);  // beyond the histogram: the maximum answers
  EXPECT_EQ(l.count(), 100u);
  EXPECT_DOUBLE_EQ(l.max_ms(), 250.0);
  EXPECT_DOUBLE_EQ(l.QuantileMs(0.5), 0.05);
  EXPECT_DOUBLE_EQ(l.QuantileMs(0.99), 3.05);
  EXPECT_DOUBLE_EQ(l.QuantileMs(1.0), 250.0);
  Lateness other;
  other.Record(-5ms);  // early counts as on time
  other.Merge(l);
  EXPECT_EQ(other.count(), 101u);
  EXPECT_DOUBLE_EQ(other.max_ms(), 250.0);
}

}  // namespace
}  // namespace callrec::callgen
