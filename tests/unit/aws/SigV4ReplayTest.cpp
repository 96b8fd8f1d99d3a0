// SigV4Verifier with a ReplayGuard: a signature seen before is marked
// `replayed` (the Connect API then lets it change nothing), stale ones are
// refused, and a full guard throttles.
#include <gtest/gtest.h>

#include "aws/ReplayGuard.hpp"
#include "aws/SigV4.hpp"

namespace callrec::aws {
namespace {

using namespace std::chrono;

class ReplayedRequest : public ::testing::Test {
 protected:
  const system_clock::time_point now_ = sys_days(year(2026) / 11 / 24) + hours(8);
  const std::string body_ = R"({"InstanceId":"local","ContactId":"c1","InitialContactId":"c1"})";
  ReplayGuard guard_{1000};
  SigV4Verifier verifier_{{{"AKIDTEST", "SECRET"}}, "connect", minutes(5), &guard_};

  SignableRequest Signed(system_clock::time_point at, std::string secret = "SECRET",
                         std::string path = "/contact/resume-recording") const {
    SignableRequest request{"POST",
                            std::move(path),
                            "",
                            {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json"}},
                            ""};
    SigV4Signer signer({"AKIDTEST", std::move(secret), ""}, "us-east-1", "connect");
    signer.Sign(request, body_, at);
    return request;
  }
};

TEST_F(ReplayedRequest, SameSignatureIsMarkedReplayedUntilItExpires) {
  const SignableRequest resume = Signed(now_);
  auto first = verifier_.Verify(resume, body_, now_);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replayed);
  // Within 5 s of its date a repeat is an SDK's same-second repeat, not a replay.
  for (auto later : {seconds(0), seconds(1), seconds(4)}) {
    auto again = verifier_.Verify(resume, body_, now_ + later);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->replayed);
  }
  for (auto later : {seconds(5), seconds(60), seconds(299)}) {
    auto again = verifier_.Verify(resume, body_, now_ + later);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->replayed);
    EXPECT_EQ(again->access_key_id, "AKIDTEST");
  }
  // Past the skew it is stale, as any old signature.
  auto stale = verifier_.Verify(resume, body_, now_ + seconds(301));
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("expired"), std::string::npos);
}

TEST_F(ReplayedRequest, SameRequestSignedInAnotherSecondIsFresh) {
  auto fresh = [&](const SignableRequest& request, system_clock::time_point at) {
    auto verified = verifier_.Verify(request, body_, at);
    EXPECT_TRUE(verified.ok());
    return verified.ok() && !verified->replayed;
  };
  EXPECT_TRUE(fresh(Signed(now_), now_));
  EXPECT_TRUE(fresh(Signed(now_ + seconds(1)), now_ + seconds(1)));
  // Same second, same request: the same signature, taken as a repeat while fresh ...
  EXPECT_TRUE(fresh(Signed(now_ + milliseconds(1500)), now_ + seconds(2)));
  // ... and as a replay from 5 s after its date on.
  EXPECT_FALSE(fresh(Signed(now_ + milliseconds(1500)), now_ + seconds(6)));
  // Another operation in the same second is another signature.
  EXPECT_TRUE(fresh(Signed(now_, "SECRET", "/contact/suspend-recording"), now_));
}

TEST_F(ReplayedRequest, RefusedRequestsAreNotRemembered) {
  // A wrong signature or a stale one is refused without taking a slot ...
  EXPECT_FALSE(verifier_.Verify(Signed(now_, "WRONG"), body_, now_).ok());
  EXPECT_FALSE(verifier_.Verify(Signed(now_ - minutes(6)), body_, now_).ok());
  EXPECT_FALSE(verifier_.Verify(Signed(now_), body_ + " ", now_).ok());
  EXPECT_EQ(guard_.size(), 0u);
  // ... so the genuine request is still fresh.
  auto verified = verifier_.Verify(Signed(now_), body_, now_);
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->replayed);
  EXPECT_EQ(guard_.size(), 1u);
}

TEST_F(ReplayedRequest, FullGuardThrottlesNewSignatures) {
  int throttled = 0;
  const SigV4Signer signer({"AKIDTEST", "SECRET", ""}, "us-east-1", "connect");
  for (int i = 0; i < 3000; ++i) {
    SignableRequest request{"POST",
                            "/contact/resume-recording",
                            "",
                            {{"Host", "h"}, {"amz-sdk-invocation-id", std::to_string(i)}},
                            ""};
    signer.Sign(request, body_, now_ - seconds(i % 300));
    auto verified = verifier_.Verify(request, body_, now_);
    if (!verified.ok()) {
      EXPECT_EQ(verified.error().status, 429);
      EXPECT_EQ(verified.error().type, "ThrottlingException");
      ++throttled;
    }
  }
  EXPECT_GT(throttled, 1500);
  EXPECT_LE(guard_.size(), 1024u);
}

TEST(SigV4WithoutGuard, SameSignatureIsNeverMarkedReplayed) {
  const auto now = sys_days(year(2026) / 11 / 24) + hours(8);
  SigV4Verifier verifier({{"AKIDTEST", "SECRET"}}, "connect");
  SignableRequest request{"POST", "/contact/resume-recording", "", {{"Host", "h"}}, ""};
  SigV4Signer({"AKIDTEST", "SECRET", ""}, "us-east-1", "connect").Sign(request, "{}", now);
  for (int i = 0; i < 2; ++i) {
    auto verified = verifier.Verify(request, "{}", now);
    ASSERT_TRUE(verified.ok());
    EXPECT_FALSE(verified->replayed);
  }
}

}  // namespace
}  // namespace callrec::aws
