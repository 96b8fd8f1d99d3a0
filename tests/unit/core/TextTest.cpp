#include <gtest/gtest.h>

#include <clocale>

#include "core/Text.hpp"

namespace callrec::core {
namespace {

TEST(TextTest, CaseMappingIsAsciiOnly) {
  EXPECT_EQ(AsciiLower("Content-Type: X"), "content-type: x");
  EXPECT_EQ(AsciiUpper("paused 7"), "PAUSED 7");
  // Bytes outside ASCII (UTF-8 here) are left as they are.
  EXPECT_EQ(AsciiLower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
  EXPECT_EQ(AsciiUpper("\xC3\xA9t\xC3\xA9"), "\xC3\xA9T\xC3\xA9");
  EXPECT_EQ(AsciiLower(""), "");
}

TEST(TextTest, TrimTakesTheBlanksAtBothEnds) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(Trim("\r\n"), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
  EXPECT_EQ(Trim(" \tx\r ", " \t"), "x\r");
  EXPECT_EQ(Trim("\fa\f", " \f"), "a");
}

TEST(TextTest, MarkupEscapesTheFiveCharacters) {
  EXPECT_EQ(EscapeMarkup("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(EscapeMarkup("plain \xC3\xA9"), "plain \xC3\xA9");
}

}  // namespace
}  // namespace callrec::core
