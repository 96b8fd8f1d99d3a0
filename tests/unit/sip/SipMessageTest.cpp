#include "sip/SipMessage.hpp"

#include <gtest/gtest.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>

#include <string>

namespace callrec::sip {
namespace {

// A request parsed by sofia-sip's own parser, as nua hands it to us.
class ParsedRequest {
 public:
  explicit ParsedRequest(const std::string& text)
      : msg_(msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size()))) {}
  ~ParsedRequest() { msg_destroy(msg_); }
  ParsedRequest(const ParsedRequest&) = delete;
  ParsedRequest& operator=(const ParsedRequest&) = delete;
  const sip_t* sip() const { return msg_ ? sip_object(msg_) : nullptr; }

 private:
  msg_t* msg_;
};

std::string Invite(const std::string& extra_headers, const std::string& body = "v=0\r\n") {
  return "INVITE sip:srs@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
         "From: <sip:src@127.0.0.1>;tag=1\r\n"
         "To: <sip:srs@127.0.0.1>\r\n"
         "Call-ID: c1\r\n"
         "CSeq: 1 INVITE\r\n" +
         extra_headers +
         "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST(HeaderFieldCount, CountsEveryFieldButNotTheRequestLineOrBody) {
  ParsedRequest request(Invite(""));
  ASSERT_NE(request.sip(), nullptr);
  EXPECT_EQ(HeaderFieldCount(request.sip()), 7u);  // Via From To Call-ID CSeq C-Type C-Length
}

TEST(HeaderFieldCount, UnknownRepeatedAndUnparsableFieldsCount) {
  std::string extra;
  for (int i = 0; i < 50; ++i) extra += "X-Filler: " + std::to_string(i) + "\r\n";
  extra += "Max-Forwards: not-a-number\r\n";
  ParsedRequest request(Invite(extra));
  ASSERT_NE(request.sip(), nullptr);
  EXPECT_EQ(HeaderFieldCount(request.sip()), 7u + 51u);
}

TEST(HeaderFieldCount, ValuesOfACommaSeparatedViaCountEach) {
  ParsedRequest request(Invite("Via: SIP/2.0/UDP a.example;branch=z9hG4bK2, SIP/2.0/UDP b\r\n"));
  ASSERT_NE(request.sip(), nullptr);
  EXPECT_EQ(HeaderFieldCount(request.sip()), 9u);
}

TEST(HeaderFieldCount, NothingToCount) {
  EXPECT_EQ(HeaderFieldCount(nullptr), 0u);
}

}  // namespace
}  // namespace callrec::sip
