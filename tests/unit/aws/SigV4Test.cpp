#include "aws/SigV4.hpp"

#include <gtest/gtest.h>

#include "aws/Crypto.hpp"

namespace callrec::aws {
namespace {

using namespace std::chrono;

// The worked example of AWS's "Create a signed AWS API request" documentation
// (IAM ListUsers, 2015-08-30T12:36:00Z, the documentation's example key).
constexpr std::string_view kDocSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

SignableRequest DocumentedRequest() {
  return SignableRequest{"GET",
                         "/",
                         "Action=ListUsers&Version=2010-05-08",
                         {{"Host", "iam.amazonaws.com"},
                          {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                          {"X-Amz-Date", "20150830T123600Z"}},
                         Sha256Hex("")};
}

const std::vector<std::string> kDocSigned{"content-type", "host", "x-amz-date"};

TEST(SigV4, DocumentedCanonicalRequest) {
  const std::string canonical = CanonicalRequest(DocumentedRequest(), kDocSigned);
  EXPECT_EQ(canonical,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(canonical),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
}

// Header names match whatever their case; repeated headers are joined with commas in
// the order sent, each value trimmed and its inner whitespace folded.
TEST(SigV4, CanonicalHeadersIgnoreNameCaseAndJoinRepeats) {
  const SignableRequest request{"POST",
                                "/contact/suspend-recording",
                                "",
                                {{"HOST", "example.com"},
                                 {"X-Amz-Meta-Tag", "  a   b  "},
                                 {"Content-Type", "application/json"},
                                 {"x-amz-meta-TAG", "\tc\r\n"},
                                 {"X-Amz-Meta-Tagged", "not this one"},
                                 {"X-AMZ-DATE", "20150830T123600Z"}},
                                Sha256Hex("{}")};
  EXPECT_EQ(CanonicalRequest(request, {"host", "x-amz-date", "x-amz-meta-tag", "x-absent"}),
            "POST\n/contact/suspend-recording\n\n"
            "host:example.com\nx-amz-date:20150830T123600Z\nx-amz-meta-tag:a b,c\nx-absent:\n\n"
            "host;x-amz-date;x-amz-meta-tag;x-absent\n" +
                Sha256Hex("{}"));
}

TEST(SigV4, DocumentedSigningKeyAndSignature) {
  const Digest key = SigningKey(kDocSecret, "20150830", "us-east-1", "iam");
  EXPECT_EQ(Hex(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  const std::string to_sign =
      StringToSign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request",
                   CanonicalRequest(DocumentedRequest(), kDocSigned));
  EXPECT_EQ(Hex(HmacSha256(AsView(key), to_sign)),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4, DocumentedRequestVerifies) {
  SignableRequest request = DocumentedRequest();
  request.headers.emplace_back(
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, "
      "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  SigV4Verifier verifier({{"AKIDEXAMPLE", std::string(kDocSecret)}}, "iam");
  const auto at = sys_days(year(2015) / 8 / 30) + hours(12) + minutes(36);
  auto verified = verifier.Verify(request, "", at);
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(verified->access_key_id, "AKIDEXAMPLE");
}

class SignedRequest : public ::testing::Test {
 protected:
  const system_clock::time_point now_ = sys_days(year(2026) / 11 / 24) + hours(8);
  const std::string body_ = R"({"InstanceId":"local","ContactId":"c1","InitialContactId":"c1"})";
  SigV4Verifier verifier_{{{"AKIDTEST", "SECRET"}}, "connect"};

  SignableRequest Signed(std::string secret = "SECRET", std::string service = "connect",
                         system_clock::time_point at = {}) const {
    SignableRequest request{"POST",
                            "/contact/suspend-recording",
                            "",
                            {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json"}},
                            ""};
    SigV4Signer signer({"AKIDTEST", std::move(secret), ""}, "us-east-1", std::move(service));
    signer.Sign(request, body_, at == system_clock::time_point{} ? now_ : at);
    return request;
  }
};

TEST_F(SignedRequest, OwnSignatureVerifies) {
  auto verified = verifier_.Verify(Signed(), body_, now_);
  ASSERT_TRUE(verified.ok()) << verified.error().message;
}

TEST_F(SignedRequest, WrongSecretIsInvalidSignature) {
  auto verified = verifier_.Verify(Signed("OTHER"), body_, now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().type, "InvalidSignatureException");
  EXPECT_EQ(verified.error().status, 403);
}

TEST_F(SignedRequest, AlteredBodyIsRefused) {
  auto verified = verifier_.Verify(Signed(), body_ + " ", now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().type, "InvalidSignatureException");
}

TEST_F(SignedRequest, UnknownKeyIsUnrecognizedClient) {
  SigV4Verifier other({{"SOMEONE", "SECRET"}}, "connect");
  auto verified = other.Verify(Signed(), body_, now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().type, "UnrecognizedClientException");
}

TEST_F(SignedRequest, SkewOfFiveMinutesIsAcceptedAndMoreIsRefused) {
  EXPECT_TRUE(verifier_.Verify(Signed(), body_, now_ + minutes(5)).ok());
  EXPECT_TRUE(verifier_.Verify(Signed(), body_, now_ - minutes(5)).ok());
  auto late = verifier_.Verify(Signed(), body_, now_ + minutes(5) + seconds(1));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().type, "InvalidSignatureException");
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  EXPECT_FALSE(verifier_.Verify(Signed(), body_, now_ - minutes(6)).ok());
}

TEST_F(SignedRequest, OtherServiceScopeIsRefused) {
  auto verified = verifier_.Verify(Signed("SECRET", "s3"), body_, now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().type, "InvalidSignatureException");
}

TEST_F(SignedRequest, MissingOrMalformedAuthorization) {
  SignableRequest request = Signed();
  std::erase_if(request.headers, [](const auto& h) { return h.first == "Authorization"; });
  auto missing = verifier_.Verify(request, body_, now_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().type, "MissingAuthenticationTokenException");

  request.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST");
  auto incomplete = verifier_.Verify(request, body_, now_);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.error().type, "IncompleteSignatureException");
  EXPECT_EQ(incomplete.error().status, 403);
}

TEST_F(SignedRequest, DateOutsideTheClocksRangeIsMalformed) {
  for (const std::string date : {"10120304", "00000101", "99991231"}) {
    SignableRequest request = Signed();
    for (auto& [name, value] : request.headers) {
      if (name == "X-Amz-Date") value = date + "T120000Z";
      if (name == "Authorization") value.replace(value.find("/2026") + 1, 8, date);
    }
    auto verified = verifier_.Verify(request, body_, now_);
    ASSERT_FALSE(verified.ok()) << date;
    EXPECT_EQ(verified.error().type, "IncompleteSignatureException") << date;
    EXPECT_NE(verified.error().message.find("YYYYMMDDTHHMMSSZ"), std::string::npos) << date;
  }
}

TEST_F(SignedRequest, UnsignedHostOrDateIsRefused) {
  SignableRequest request = Signed();
  for (auto& [name, value] : request.headers) {
    if (name == "Authorization") {
      const auto start = value.find("SignedHeaders=") + 14;
      const auto end = value.find(',', start);
      value.replace(start, end - start, "content-type;x-amz-date");
    }
  }
  EXPECT_FALSE(verifier_.Verify(request, body_, now_).ok());
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
}

TEST(Crypto, RandomTokenUsesTheAlphabet) {
  const std::string token = RandomToken(64, "ab");
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("ab"), std::string::npos);
  EXPECT_NE(RandomToken(32, "0123456789abcdef"), RandomToken(32, "0123456789abcdef"));
}

TEST(FormatAmzDate, BasicIso8601) {
  EXPECT_EQ(FormatAmzDate(sys_days(year(2015) / 8 / 30) + hours(12) + minutes(36)),
            "20150830T123600Z");
}

}  // namespace
}  // namespace callrec::aws
