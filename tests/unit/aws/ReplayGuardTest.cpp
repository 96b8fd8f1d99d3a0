#include "aws/ReplayGuard.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "aws/Crypto.hpp"

namespace callrec::aws {
namespace {

using namespace std::chrono;
using Verdict = ReplayGuard::Verdict;

const system_clock::time_point kNow = sys_days(year(2026) / 11 / 24) + hours(8);

// A signature as the verifier computes it: 64 hex digits.
std::string Signature(int n) {
  return Sha256Hex("request " + std::to_string(n));
}

TEST(ReplayGuard, SecondUseOfASignatureIsAReplay) {
  ReplayGuard guard(1000);
  const auto expires = kNow + minutes(5);
  EXPECT_EQ(guard.Consume(Signature(1), expires, kNow), Verdict::kFresh);
  EXPECT_EQ(guard.Consume(Signature(1), expires, kNow + seconds(1)), Verdict::kReplayed);
  EXPECT_EQ(guard.Consume(Signature(1), expires, kNow + minutes(4)), Verdict::kReplayed);
  EXPECT_EQ(guard.Consume(Signature(2), expires, kNow), Verdict::kFresh);
  EXPECT_EQ(guard.size(), 2u);
}

TEST(ReplayGuard, ExpiredSignaturesAreRefusedAndForgotten) {
  ReplayGuard guard(10000);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(guard.Consume(Signature(i), kNow + seconds(i), kNow), Verdict::kFresh);
  }
  EXPECT_EQ(guard.size(), 100u);
  // Past an expiry the signature is refused whatever the guard still holds.
  EXPECT_EQ(guard.Consume(Signature(3), kNow + seconds(3), kNow + seconds(4)), Verdict::kExpired);
  EXPECT_EQ(guard.Consume(Signature(500), kNow + seconds(3), kNow + seconds(4)), Verdict::kExpired);
  // Time passing frees memory: a call into each shard drops what expired there.
  const auto later = kNow + seconds(200);
  for (int i = 1000; i < 3000; ++i) guard.Consume(Signature(i), later + minutes(5), later);
  EXPECT_EQ(guard.size(), 2000u);
  // Those still valid are still replays.
  EXPECT_EQ(guard.Consume(Signature(1500), later + minutes(5), later), Verdict::kReplayed);
}

// A clock a little behind another thread's must not see a dropped slice as empty.
TEST(ReplayGuard, ASliceDroppedByALaterClockIsExpiredForAnEarlierOne) {
  ReplayGuard guard(1000);
  const auto expires = kNow + seconds(5);
  ASSERT_EQ(guard.Consume(Signature(1), expires, kNow), Verdict::kFresh);
  // Every shard sees a clock 20 s later.
  for (int i = 100; i < 1100; ++i)
    guard.Consume(Signature(i), kNow + minutes(10), kNow + seconds(20));
  EXPECT_EQ(guard.Consume(Signature(1), expires, kNow + seconds(4)), Verdict::kExpired);
}

TEST(ReplayGuard, WhenFullNewSignaturesAreRefusedButReplaysStillRecognised) {
  ReplayGuard guard(1000);  // 16 per shard
  const auto expires = kNow + minutes(5);
  int fresh = 0;
  int full = 0;
  for (int i = 0; i < 5000; ++i) {
    const Verdict verdict = guard.Consume(Signature(i), expires, kNow);
    fresh += verdict == Verdict::kFresh;
    full += verdict == Verdict::kFull;
  }
  EXPECT_EQ(fresh + full, 5000);
  EXPECT_LE(guard.size(), 1024u);  // the capacity, rounded up to whole shards
  EXPECT_GE(guard.size(), 1000u);
  EXPECT_EQ(static_cast<std::size_t>(fresh), guard.size());
  // A refused signature was not recorded; an accepted one is still a replay.
  int replays = 0;
  for (int i = 0; i < 5000; ++i) {
    replays += guard.Consume(Signature(i), expires, kNow) == Verdict::kReplayed;
  }
  EXPECT_EQ(replays, fresh);
  // Once they expire there is room again.
  const auto later = expires + seconds(20);
  EXPECT_EQ(guard.Consume(Signature(9999), later + minutes(5), later), Verdict::kFresh);
}

TEST(ReplayGuard, EachSignatureIsFreshForExactlyOneOfManyThreads) {
  ReplayGuard guard(1'000'000);
  constexpr int kSignatures = 20000;
  std::vector<std::string> signatures;
  for (int i = 0; i < kSignatures; ++i) signatures.push_back(Signature(i));
  std::atomic<int> fresh{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (const std::string& s : signatures) {
        const Verdict verdict = guard.Consume(s, kNow + minutes(5), kNow);
        (verdict == Verdict::kFresh ? fresh : replayed) += 1;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(fresh.load(), kSignatures);
  EXPECT_EQ(replayed.load(), 7 * kSignatures);
  EXPECT_EQ(guard.size(), static_cast<std::size_t>(kSignatures));
}

}  // namespace
}  // namespace callrec::aws
