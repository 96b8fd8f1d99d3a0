#include "flow/HtmlSanitiser.hpp"

#include <gtest/gtest.h>

namespace callrec::flow {
namespace {

TEST(HtmlSanitiser, KeepsTheRecordingBadges) {
  EXPECT_EQ(SanitiseHtml("<p style='display: inline-block;color:red'>NOT RECORDING ⬤</p>"),
            "<p style=\"display:inline-block;color:red\">NOT RECORDING ⬤</p>");
}

}  // namespace
}  // namespace callrec::flow
