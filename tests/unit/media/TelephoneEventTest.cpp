#include "media/TelephoneEvent.hpp"

#include <gtest/gtest.h>

#include "Fixtures.hpp"
#include "media/RtpPacket.hpp"

namespace callrec::media {
namespace {

TEST(TelephoneEvent, ParsesTheEventOfARealPacket) {
  const auto bytes = fixtures::ReadRtpFixture("telephone_event.raw");
  const auto packet = ParseRtp(bytes);
  ASSERT_TRUE(packet);
  const auto event = ParseTelephoneEvent(packet->payload);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->event, 5);
  EXPECT_TRUE(event->end);
  EXPECT_EQ(event->volume, 10);
  EXPECT_EQ(event->duration, 1280);
}

TEST(TelephoneEvent, ReservedBitIsIgnoredAndFieldsSpanTheirRange) {
  const std::vector<std::uint8_t> payload{11, 0x40 | 63, 0xFF, 0xFE};  // '#', R set, not end
  const auto event = ParseTelephoneEvent(payload);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->event, 11);
  EXPECT_FALSE(event->end);
  EXPECT_EQ(event->volume, 63);
  EXPECT_EQ(event->duration, 65534);
}

TEST(TelephoneEvent, FirstOfRedundantEventsIsParsed) {
  const std::vector<std::uint8_t> payload{1, 0x80, 0x03, 0x20, 2, 0x00, 0x01, 0x40};
  const auto event = ParseTelephoneEvent(payload);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->event, 1);
  EXPECT_EQ(event->duration, 800);
}

TEST(TelephoneEvent, ShortPayloadIsRefused) {
  const std::vector<std::uint8_t> payload{5, 0x8A, 0x05, 0x00};
  for (std::size_t size = 0; size < 4; ++size) {
    EXPECT_FALSE(ParseTelephoneEvent(std::span(payload).first(size))) << size;
  }
}

}  // namespace
}  // namespace callrec::media
