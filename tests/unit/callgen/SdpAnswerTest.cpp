#include "callgen/SdpAnswer.hpp"

#include <gtest/gtest.h>

namespace callrec::callgen {
namespace {

const char* kAnswer =
    "v=0\r\n"
    "o=srs 1 1 IN IP4 10.0.0.5\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.5\r\n"
    "t=0 0\r\n"
    "m=audio 42002 RTP/AVP 0\r\n"
    "c=IN IP4 10.0.0.9\r\n"
    "a=label:2\r\n"
    "a=recvonly\r\n"
    "m=audio 42000 RTP/AVP 0\r\n"
    "a=label:1\r\n"
    "a=recvonly\r\n";

TEST(SdpAnswer, MatchesByLabelWhateverTheOrder) {
  auto answer = ParseAnswerSdp(kAnswer);
  ASSERT_TRUE(answer.ok()) << answer.error();
  const auto one = FindAnswer(*answer, "1", 0);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->port, 42000);
  EXPECT_EQ(one->address, "10.0.0.5");  // the session's c=
  EXPECT_EQ(one->direction, MediaDirection::kRecvOnly);
  const auto two = FindAnswer(*answer, "2", 1);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->port, 42002);
  EXPECT_EQ(two->address, "10.0.0.9");  // the m-line's own c=
  EXPECT_FALSE(FindAnswer(*answer, "3", 2).has_value());
}

TEST(SdpAnswer, WithoutLabelsMatchesByPosition) {
  auto answer = ParseAnswerSdp(
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 0\r\nm=audio 0 RTP/AVP 0\r\n");
  ASSERT_TRUE(answer.ok()) << answer.error();
  EXPECT_EQ(FindAnswer(*answer, "1", 0)->port, 5000);
  EXPECT_EQ(FindAnswer(*answer, "2", 1)->port, 0);  // refused
  EXPECT_FALSE(FindAnswer(*answer, "3", 2).has_value());
}

TEST(SdpAnswer, InactiveAndGarbage) {
  auto inactive = ParseAnswerSdp(
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 0\r\na=inactive\r\n");
  ASSERT_TRUE(inactive.ok());
  EXPECT_EQ((*inactive)[0].direction, MediaDirection::kInactive);
  EXPECT_FALSE(ParseAnswerSdp("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n").ok());
  EXPECT_FALSE(ParseAnswerSdp("this is not SDP").ok());
  EXPECT_FALSE(ParseAnswerSdp("").ok());
}

TEST(SdpAnswer, SdpOfPlainAndMultipartBodies) {
  EXPECT_EQ(SdpOfBody("application/sdp", "v=0\r\n"), "v=0\r\n");
  EXPECT_EQ(SdpOfBody("Application/SDP; charset=x", "v=0\r\n"), "v=0\r\n");
  EXPECT_FALSE(SdpOfBody("text/plain", "v=0\r\n").has_value());
  // Quoted boundary, metadata first, LF line ends.
  const std::string body =
      "preamble\n--\"q\"\n"
      "--xyz\nContent-Type: application/rs-metadata+xml\n\n<recording/>\n"
      "--xyz\ncontent-type:application/sdp\n\nv=0\nm=audio 1 RTP/AVP 0\n"
      "--xyz--\n";
  const auto sdp = SdpOfBody("multipart/mixed; boundary=\"xyz\"", body);
  ASSERT_TRUE(sdp.has_value());
  EXPECT_EQ(*sdp, "v=0\nm=audio 1 RTP/AVP 0\r\n");
  EXPECT_FALSE(SdpOfBody("multipart/mixed", body).has_value());  // no boundary
  EXPECT_FALSE(SdpOfBody("multipart/mixed;boundary=other", body).has_value());
}

}  // namespace
}  // namespace callrec::callgen
