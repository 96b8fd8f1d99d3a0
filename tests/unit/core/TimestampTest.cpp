#include "core/Timestamp.hpp"

#include <gtest/gtest.h>

namespace callrec::core {
namespace {

TEST(TimestampTest, ParsesWhatItFormats) {
  for (std::int64_t ms :
       {0LL, 1'764'000'000'123LL, 951'782'400'000LL /* 2000-02-29 */, 4'102'444'799'999LL}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(ms)), ms) << FormatTimestamp(ms);
  }
  EXPECT_EQ(ParseTimestamp("2026-11-24T08:00:00Z"), 1'795'507'200'000LL);
}

TEST(TimestampTest, RefusesAnythingElse) {
  for (const char* bad : {"", "2026-11-24", "2026-11-24T08:00:00", "2026-11-24T08:00:00+01:00",
                          "2026-02-30T08:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T08:00:00.1Z",
                          "2026-11-24T08:00:00.abcZ", "2026-11-24T08:00:00.123Zx", "null"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
}

}  // namespace
}  // namespace callrec::core
