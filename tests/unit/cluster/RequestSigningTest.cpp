#include "cluster/RequestSigning.hpp"

#include <gtest/gtest.h>

#include "aws/Crypto.hpp"

namespace callrec::cluster {
namespace {

constexpr std::int64_t kNow = 1'765'000'000'000;  // ms
constexpr std::string_view kBody = R"({"ContactId":"c-1","Operation":"SUSPEND"})";

class RequestSigningTest : public ::testing::Test {
 protected:
  RequestSigner signer_{"a shared secret of the nodes"};
  std::string Signed(std::int64_t at = kNow, std::string_view body = kBody) {
    return signer_.Sign({"POST", "/internal/v1/apply", "node-a", at, body});
  }
  std::optional<SignatureRefusal> Check(std::string_view signature, std::string_view time,
                                        std::string_view body = kBody,
                                        std::string_view node = "node-a",
                                        std::string_view path = "/internal/v1/apply") {
    return signer_.Check("POST", path, node, time, signature, body, kNow);
  }
};

TEST_F(RequestSigningTest, SignatureIsHmacSha256OfTheFields) {
  // Computed independently: HMAC-SHA256(secret,
  // "POST\n/internal/v1/apply\nnode-a\n<time>\n<body>").
  const std::string message =
      "POST\n/internal/v1/apply\nnode-a\n" + std::to_string(kNow) + "\n" + std::string(kBody);
  EXPECT_EQ(Signed(), aws::Hex(aws::HmacSha256("a shared secret of the nodes", message)));
  EXPECT_EQ(Signed().size(), 64u);
}

TEST_F(RequestSigningTest, AGoodSignatureWithinTheWindowPasses) {
  EXPECT_FALSE(Check(Signed(), std::to_string(kNow)).has_value());
  EXPECT_FALSE(Check(Signed(kNow - 29'000), std::to_string(kNow - 29'000)).has_value());
  EXPECT_FALSE(Check(Signed(kNow + 29'000), std::to_string(kNow + 29'000)).has_value());
}

TEST_F(RequestSigningTest, MissingHeadersAre401) {
  for (auto refusal : {Check("", std::to_string(kNow)), Check(Signed(), ""),
                       Check(Signed(), std::to_string(kNow), kBody, "")}) {
    ASSERT_TRUE(refusal.has_value());
    EXPECT_EQ(refusal->status, 401u);
  }
}

TEST_F(RequestSigningTest, ForgedOrAlteredRequestsAre403) {
  const std::string time = std::to_string(kNow);
  // Another secret.
  RequestSigner other("another secret entirely");
  auto forged = Check(other.Sign({"POST", "/internal/v1/apply", "node-a", kNow, kBody}), time);
  ASSERT_TRUE(forged.has_value());
  EXPECT_EQ(forged->status, 403u);
  // The body, the sender or the path changed after signing.
  EXPECT_EQ(Check(Signed(), time, R"({"ContactId":"c-1","Operation":"RESUME"})")->status, 403u);
  EXPECT_EQ(Check(Signed(), time, kBody, "node-b")->status, 403u);
  EXPECT_EQ(Check(Signed(), time, kBody, "node-a", "/internal/v1/other")->status, 403u);
  // A newline cannot make two requests sign alike.
  EXPECT_EQ(Check(Signed(), time, kBody, "node-a\n")->status, 403u);
  // Not hex, or truncated.
  EXPECT_EQ(Check("zz", time)->status, 403u);
  EXPECT_EQ(Check(Signed().substr(0, 63), time)->status, 403u);
}

TEST_F(RequestSigningTest, StaleOrFutureTimesAre403) {
  auto stale = Check(Signed(kNow - 31'000), std::to_string(kNow - 31'000));
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->status, 403u);
  EXPECT_NE(stale->reason.find("stale"), std::string::npos);
  EXPECT_EQ(Check(Signed(kNow + 31'000), std::to_string(kNow + 31'000))->status, 403u);
  // The time signed is the time checked: a fresh header on an old signature fails.
  EXPECT_EQ(Check(Signed(kNow - 100'000), std::to_string(kNow))->status, 403u);
  EXPECT_EQ(Check(Signed(), "12x")->status, 403u);
}

}  // namespace
}  // namespace callrec::cluster
