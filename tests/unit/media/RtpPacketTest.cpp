#include "media/RtpPacket.hpp"

#include <gtest/gtest.h>

#include "Fixtures.hpp"

namespace callrec::media {
namespace {

using fixtures::Pattern;
using fixtures::ReadRtpFixture;

std::vector<std::uint8_t> PayloadOf(const RtpPacket& packet) {
  return {packet.payload.begin(), packet.payload.end()};
}

TEST(RtpPacket, PlainPcmu) {
  const auto bytes = ReadRtpFixture("pcmu.raw");
  ASSERT_EQ(bytes.size(), 172u);
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_type, 0);
  EXPECT_FALSE(packet->marker);
  EXPECT_EQ(packet->sequence, 4660);
  EXPECT_EQ(packet->timestamp, 160000u);
  EXPECT_EQ(packet->ssrc, 0x11223344u);
  EXPECT_EQ(packet->payload.data(), bytes.data() + 12);
  EXPECT_EQ(PayloadOf(*packet), Pattern(160, 0));
  EXPECT_FALSE(IsRtcp(bytes));
}

TEST(RtpPacket, PcmaWithMarkerAndMaximalFields) {
  const auto bytes = ReadRtpFixture("pcma.raw");
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_type, 8);
  EXPECT_TRUE(packet->marker);
  EXPECT_EQ(packet->sequence, 65535);
  EXPECT_EQ(packet->timestamp, 0xFFFFFF60u);
  EXPECT_EQ(packet->ssrc, 0xCAFEBABEu);
  EXPECT_EQ(PayloadOf(*packet), Pattern(160, 7));
}

TEST(RtpPacket, CsrcListIsSkipped) {
  const auto bytes = ReadRtpFixture("csrc.raw");
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_type, 0);
  EXPECT_EQ(packet->sequence, 100);
  EXPECT_EQ(packet->timestamp, 8000u);
  EXPECT_EQ(packet->ssrc, 0x01020304u);
  EXPECT_EQ(packet->payload.data(), bytes.data() + 12 + 2 * 4);
  EXPECT_EQ(PayloadOf(*packet), Pattern(160, 1));
}

TEST(RtpPacket, HeaderExtensionIsSkipped) {
  const auto bytes = ReadRtpFixture("extension.raw");
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_type, 8);
  EXPECT_EQ(packet->sequence, 200);
  EXPECT_EQ(packet->timestamp, 16000u);
  EXPECT_EQ(packet->ssrc, 0x05060708u);
  EXPECT_EQ(packet->payload.data(), bytes.data() + 12 + 4 + 2 * 4);
  EXPECT_EQ(PayloadOf(*packet), Pattern(160, 2));
}

TEST(RtpPacket, PaddingIsRemoved) {
  const auto bytes = ReadRtpFixture("padding.raw");
  ASSERT_EQ(bytes.size(), 12u + 160 + 3);
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->sequence, 300);
  EXPECT_EQ(packet->timestamp, 24000u);
  EXPECT_EQ(packet->ssrc, 0x090A0B0Cu);
  EXPECT_EQ(PayloadOf(*packet), Pattern(160, 3));
}

TEST(RtpPacket, TelephoneEventPacket) {
  const auto bytes = ReadRtpFixture("telephone_event.raw");
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_type, 101);
  EXPECT_TRUE(packet->marker);
  EXPECT_EQ(packet->sequence, 400);
  EXPECT_EQ(packet->timestamp, 32000u);
  EXPECT_EQ(packet->ssrc, 0x0D0E0F10u);
  EXPECT_EQ(packet->payload.size(), 4u);
}

TEST(RtpPacket, RtcpReceiverReportIsRefusedAndRecognised) {
  const auto bytes = ReadRtpFixture("rtcp_rr.raw");
  ASSERT_EQ(bytes.size(), 32u);
  EXPECT_FALSE(ParseRtp(bytes));
  EXPECT_TRUE(IsRtcp(bytes));
}

TEST(RtpPacket, EveryMultiplexedRtcpTypeIsRefused) {
  auto bytes = ReadRtpFixture("pcmu.raw");
  for (int type = 200; type <= 204; ++type) {
    bytes[1] = static_cast<std::uint8_t>(type);
    EXPECT_FALSE(ParseRtp(bytes)) << type;
    EXPECT_TRUE(IsRtcp(bytes)) << type;
  }
  // Payload type 71 and 77 with the marker are not SR..APP.
  for (int type : {199, 205}) {
    bytes[1] = static_cast<std::uint8_t>(type);
    EXPECT_TRUE(ParseRtp(bytes)) << type;
    EXPECT_FALSE(IsRtcp(bytes)) << type;
  }
}

TEST(RtpPacket, TruncatedHeaderIsRefused) {
  const auto bytes = ReadRtpFixture("truncated_header.raw");
  ASSERT_EQ(bytes.size(), 11u);
  EXPECT_FALSE(ParseRtp(bytes));
}

TEST(RtpPacket, Version1IsRefused) {
  const auto bytes = ReadRtpFixture("version1.raw");
  ASSERT_EQ(bytes[0] >> 6, 1);
  EXPECT_FALSE(ParseRtp(bytes));
  EXPECT_FALSE(IsRtcp(bytes));
}

TEST(RtpPacket, PaddingLargerThanThePacketIsRefused) {
  const auto bytes = ReadRtpFixture("padding_too_large.raw");
  ASSERT_EQ(bytes.back(), 200);
  EXPECT_FALSE(ParseRtp(bytes));
}

TEST(RtpPacket, ExtensionPastTheEndIsRefused) {
  const auto bytes = ReadRtpFixture("extension_past_end.raw");
  EXPECT_FALSE(ParseRtp(bytes));
}

TEST(RtpPacket, PaddingCountOfZeroIsRefused) {
  auto bytes = ReadRtpFixture("padding.raw");
  bytes.back() = 0;
  EXPECT_FALSE(ParseRtp(bytes));
}

TEST(RtpPacket, PaddingThatFillsThePayloadLeavesItEmpty) {
  auto bytes = ReadRtpFixture("padding.raw");
  bytes.back() = 163;  // all 160 + 3 bytes after the header
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload.empty());
  bytes.back() = 164;
  EXPECT_FALSE(ParseRtp(bytes));
}

TEST(RtpPacket, HeaderOnlyPacketHasEmptyPayload) {
  const auto bytes = ReadRtpFixture("pcmu.raw");
  const auto packet = ParseRtp(std::span(bytes).first(12));
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload.empty());
  EXPECT_EQ(packet->ssrc, 0x11223344u);
}

TEST(RtpPacket, CsrcCountPastTheEndIsRefused) {
  auto bytes = ReadRtpFixture("csrc.raw");
  // 2 CSRCs need 20 header bytes: every shorter prefix is refused.
  for (std::size_t size = 0; size < 20; ++size) {
    EXPECT_FALSE(ParseRtp(std::span(bytes).first(size))) << size;
  }
  EXPECT_TRUE(ParseRtp(std::span(bytes).first(20)));
}

TEST(RtpPacket, EveryPrefixOfEveryFixtureIsSafe) {
  // Run under ASan this proves the bounds; here it proves no prefix is misread
  // as a packet longer than itself.
  for (const char* name :
       {"pcmu.raw", "pcma.raw", "csrc.raw", "extension.raw", "padding.raw", "telephone_event.raw",
        "rtcp_rr.raw", "padding_too_large.raw", "extension_past_end.raw"}) {
    const auto bytes = ReadRtpFixture(name);
    ASSERT_FALSE(bytes.empty()) << name;
    for (std::size_t size = 0; size <= bytes.size(); ++size) {
      const auto prefix = std::span(bytes).first(size);
      if (const auto packet = ParseRtp(prefix)) {
        EXPECT_GE(packet->payload.data(), prefix.data()) << name << " " << size;
        EXPECT_LE(packet->payload.data() + packet->payload.size(), prefix.data() + prefix.size())
            << name << " " << size;
      }
    }
  }
}

}  // namespace
}  // namespace callrec::media
