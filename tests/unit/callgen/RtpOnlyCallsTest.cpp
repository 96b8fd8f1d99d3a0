#include "callgen/RtpOnlyCalls.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace callrec::callgen {
namespace {

core::Result<std::vector<RtpOnlyCall>, std::string> Parse(const std::string& text) {
  std::istringstream in(text);
  return ParseRtpOnlyCalls(in);
}

TEST(RtpOnlyCalls, ReadsOneCallALineSkippingCommentsAndBlankLines) {
  const auto calls = Parse(
      "# NAME CUSTOMER AGENT\n"
      "\n"
      "call-1 127.0.0.1:30000 127.0.0.1:30002\n"
      "   \t\n"
      "  call-2\t[::1]:40000   [::1]:40002  \n"
      "#call-3 127.0.0.1:1 127.0.0.1:2\n"
      "call-3 10.0.0.1:65535 10.0.0.2:1");
  ASSERT_TRUE(calls.ok()) << calls.error();
  ASSERT_EQ(calls->size(), 3u);
  EXPECT_EQ((*calls)[0].name, "call-1");
  EXPECT_EQ((*calls)[0].customer.ip(), "127.0.0.1");
  EXPECT_EQ((*calls)[0].customer.port(), 30000);
  EXPECT_EQ((*calls)[0].agent.port(), 30002);
  EXPECT_EQ((*calls)[1].name, "call-2");
  EXPECT_EQ((*calls)[1].customer.storage.ss_family, AF_INET6);
  EXPECT_EQ((*calls)[1].customer.ip(), "::1");
  EXPECT_EQ((*calls)[1].agent.port(), 40002);
  EXPECT_EQ((*calls)[2].customer.port(), 65535);
  EXPECT_EQ((*calls)[2].agent.ip(), "10.0.0.2");
}

TEST(RtpOnlyCalls, RefusesABadLineNamingItsNumber) {
  const struct {
    std::string text;
    std::string reason;
  } cases[] = {
      {"a 127.0.0.1:1\n", "line 1: expected NAME CUSTOMER_DEST AGENT_DEST, found 2 fields"},
      {"# c\na 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3\n", "line 2: expected NAME"},
      {"a 127.0.0.1 127.0.0.1:2\n", "line 1: customer destination '127.0.0.1'"},
      {"a 127.0.0.1:2 127.0.0.1:0\n", "line 1: agent destination '127.0.0.1:0'"},
      {"a 127.0.0.1:2 127.0.0.1:65536\n", "line 1: agent destination"},
      {"a host.example:5 127.0.0.1:2\n", "line 1: customer destination 'host.example:5'"},
      {"a ::1:5 127.0.0.1:2\n", "line 1: customer destination '::1:5'"},
      {"a [::1:5 127.0.0.1:2\n", "line 1: customer destination"},
      {"a 127.0.0.1:x 127.0.0.1:2\n", "line 1: customer destination"},
      {"\n\na 127.0.0.1:1 127.0.0.1:2\na 127.0.0.1:3 127.0.0.1:4\n",
       "line 4: call name 'a' repeated"},
      {"", "no calls listed"},
      {"# only a comment\n\n", "no calls listed"},
  };
  for (const auto& c : cases) {
    const auto calls = Parse(c.text);
    ASSERT_FALSE(calls.ok()) << c.text;
    EXPECT_NE(calls.error().find(c.reason), std::string::npos)
        << c.text << " gave: " << calls.error();
  }
}

TEST(RtpOnlyCalls, ReadsAFileAndNamesItInErrors) {
  EXPECT_NE(ReadRtpOnlyCalls("/nonexistent/calls.txt").error().find("cannot read"),
            std::string::npos);
}

}  // namespace
}  // namespace callrec::callgen
