// Amazon Connect's key layout for call recordings (SCALE-OUT.md: as seen in
// real contact records' Recording.Location).
#include <gtest/gtest.h>

#include <chrono>

#include "upload/ObjectKeys.hpp"

namespace callrec::upload {
namespace {

using namespace std::chrono;

std::int64_t Ms(sys_days day, hours h, minutes m, seconds s, milliseconds ms = {}) {
  return duration_cast<milliseconds>((day + h + m + s + ms).time_since_epoch()).count();
}

TEST(ObjectKeys, ConnectLayoutUtcToTheMinuteWithALiteralColon) {
  const auto start =
      Ms(sys_days(year(2026) / 12 / 7), hours(7), minutes(5), seconds(59), milliseconds(999));
  EXPECT_EQ(
      ConnectRecordingKey("connect/my-instance", "5f3a1c2e-0000-4000-8000-000000000001", start),
      "connect/my-instance/CallRecordings/2026/12/07/"
      "5f3a1c2e-0000-4000-8000-000000000001_20261207T07:05_UTC.wav");
  EXPECT_EQ(ConnectRecordingKey("", "c", start),
            "CallRecordings/2026/12/07/c_20261207T07:05_UTC.wav");
}

TEST(ObjectKeys, TheDayIsTheStartsInUtc) {
  const auto last_minute = Ms(sys_days(year(2026) / 12 / 31), hours(23), minutes(59), seconds(30));
  EXPECT_EQ(ConnectRecordingKey("p", "c", last_minute),
            "p/CallRecordings/2026/12/31/c_20261231T23:59_UTC.wav");
  EXPECT_EQ(ConnectRecordingKey("p", "c", last_minute + 30'000),
            "p/CallRecordings/2027/01/01/c_20270101T00:00_UTC.wav");
}

TEST(ObjectKeys, MetadataBesideTheWav) {
  EXPECT_EQ(MetadataKeyFor("p/CallRecordings/2026/12/07/c_20261207T07:05_UTC.wav"),
            "p/CallRecordings/2026/12/07/c_20261207T07:05_UTC.json");
}

}  // namespace
}  // namespace callrec::upload
