#include "media/RtpSourceGuard.hpp"

#include <gtest/gtest.h>

namespace callrec::media {
namespace {

using namespace std::chrono_literals;
using Endpoint = RtpSourceGuard::Endpoint;
using Verdict = RtpSourceGuard::Verdict;

Endpoint At(const char* host, unsigned short port) {
  return Endpoint(boost::asio::ip::make_address(host), port);
}

RtpPacket Packet(std::uint16_t sequence, std::uint32_t ssrc = 0x1111) {
  return RtpPacket{0, false, sequence, sequence * 160u, ssrc, {}};
}

// Drives one guard as the Recorder does: Admits, then Check.
struct Leg {
  explicit Leg(RtpSourceRule rule) : guard(rule) {}

  Verdict Send(const Endpoint& from, const RtpPacket& packet) {
    if (!guard.Admits(from, now)) return Verdict::kForeign;
    const std::uint8_t byte = static_cast<std::uint8_t>(packet.sequence);
    return guard.Check(from, packet, std::span(&byte, 1), now, dropped);
  }

  RtpSourceGuard guard;
  RtpSourceGuard::Clock::time_point now{};
  std::uint64_t dropped = 0;
};

RtpSourceRule Strict(const char* expected) {
  return {RtpSourcePolicy::kStrict, SenderAddressOf(expected)};
}
RtpSourceRule Learn() {
  return {RtpSourcePolicy::kLearn, std::nullopt};
}

TEST(RtpSourceGuardTest, StrictLatchesTheFirstPacketFromTheOfferedAddress) {
  Leg leg(Strict("127.0.0.1"));
  EXPECT_EQ(leg.Send(At("127.0.0.2", 5000), Packet(1)), Verdict::kForeign);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(1)), Verdict::kRecord);
  EXPECT_EQ(leg.guard.latched(), At("127.0.0.1", 6000));
  // Same host, another port: an injection, not the SBC's stream.
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6002), Packet(2, 0x2222)), Verdict::kForeign);
  EXPECT_EQ(leg.Send(At("127.0.0.2", 6000), Packet(2)), Verdict::kForeign);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(2)), Verdict::kRecord);
}

TEST(RtpSourceGuardTest, AnSsrcChangeFromTheLatchedSenderIsItsRestart) {
  Leg leg(Strict("127.0.0.1"));
  ASSERT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(1)), Verdict::kRecord);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(900, 0x9999)), Verdict::kRecord);
}

TEST(RtpSourceGuardTest, MappedAddressesCompareAsIpv4) {
  Leg leg(Strict("127.0.0.1"));
  EXPECT_EQ(leg.Send(At("::ffff:127.0.0.1", 6000), Packet(1)), Verdict::kRecord);
}

TEST(RtpSourceGuardTest, StrictWithoutAUsableAddressLearnsWithProbation) {
  EXPECT_FALSE(SenderAddressOf("0.0.0.0"));
  EXPECT_FALSE(SenderAddressOf("::"));
  EXPECT_FALSE(SenderAddressOf("sbc.example.com"));
  Leg leg({RtpSourcePolicy::kStrict, std::nullopt});
  EXPECT_EQ(leg.Send(At("10.0.0.1", 6000), Packet(1)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("10.0.0.1", 6000), Packet(2)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("10.0.0.1", 6000), Packet(3)), Verdict::kLatched);
}

TEST(RtpSourceGuardTest, LearnLatchesAfterProbationAndReleasesWhatItHeld) {
  Leg leg(Learn());
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(10)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(11)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(12)), Verdict::kLatched);
  const auto held = leg.guard.TakeHeld();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].bytes, std::vector<std::uint8_t>{10});
  EXPECT_EQ(held[1].bytes, std::vector<std::uint8_t>{11});
  EXPECT_FALSE(leg.guard.TakeSwitch()) << "the first latch is not a switch";
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(13)), Verdict::kRecord);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 7000), Packet(13)), Verdict::kForeign);
}

TEST(RtpSourceGuardTest, ProbationNeedsInSequencePacketsOfOneSsrc) {
  Leg leg(Learn());
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(10)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(10)), Verdict::kHold);   // a duplicate
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(900)), Verdict::kHold);  // too far: again
  EXPECT_EQ(leg.dropped, 1u);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(901, 0x2222)), Verdict::kHold);  // new SSRC
  EXPECT_EQ(leg.dropped, 2u);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(903, 0x2222)), Verdict::kHold);     // one lost
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(902, 0x2222)), Verdict::kLatched);  // late
  EXPECT_EQ(leg.guard.TakeHeld().size(), 2u);
}

TEST(RtpSourceGuardTest, SequenceNumbersWrapDuringProbation) {
  Leg leg(Learn());
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(65534)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(65535)), Verdict::kHold);
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(0)), Verdict::kLatched);
}

TEST(RtpSourceGuardTest, TheFirstSenderThroughProbationWinsTheOthersAreDropped) {
  Leg leg(Learn());
  const Endpoint real = At("127.0.0.1", 6000), junk = At("127.0.0.1", 6002);
  leg.Send(real, Packet(1));
  leg.Send(junk, Packet(500, 0x7777));
  leg.Send(real, Packet(2));
  leg.Send(junk, Packet(9, 0x7777));  // out of sequence: no progress
  ASSERT_EQ(leg.Send(real, Packet(3)), Verdict::kLatched);
  EXPECT_EQ(leg.guard.TakeHeld().size(), 2u);
  EXPECT_EQ(leg.dropped, 2u) << "the junk sender's held packets are foreign";
  EXPECT_EQ(leg.Send(junk, Packet(10, 0x7777)), Verdict::kForeign);
}

TEST(RtpSourceGuardTest, AFloodFromManyPortsCannotPushTheRealSenderOutOfProbation) {
  Leg leg(Learn());
  const Endpoint real = At("127.0.0.1", 6000);
  leg.Send(real, Packet(1));
  for (unsigned short port = 7000; port < 7100; ++port) {
    leg.Send(At("127.0.0.1", port), Packet(port));
  }
  leg.now += 20ms;
  EXPECT_EQ(leg.Send(real, Packet(2)), Verdict::kHold);
  leg.now += 20ms;
  EXPECT_EQ(leg.Send(real, Packet(3)), Verdict::kLatched);
}

TEST(RtpSourceGuardTest, AQuietSenderIsReplacedAfterSilenceAndProbation) {
  Leg leg(Strict("127.0.0.1"));
  const Endpoint first = At("127.0.0.1", 6000), second = At("127.0.0.1", 6100);
  ASSERT_EQ(leg.Send(first, Packet(1)), Verdict::kRecord);
  leg.now += RtpSourceGuard::kTakeoverSilence - 1ms;
  EXPECT_EQ(leg.Send(second, Packet(50, 0x5555)), Verdict::kForeign) << "not silent long enough";
  leg.now += 1ms;
  EXPECT_EQ(leg.Send(second, Packet(51, 0x5555)), Verdict::kHold);
  EXPECT_EQ(leg.Send(second, Packet(52, 0x5555)), Verdict::kHold);
  EXPECT_EQ(leg.Send(second, Packet(53, 0x5555)), Verdict::kLatched);
  EXPECT_EQ(leg.guard.TakeHeld().size(), 2u);
  const auto change = leg.guard.TakeSwitch();
  ASSERT_TRUE(change);
  EXPECT_EQ(change->from, first);
  EXPECT_EQ(change->to, second);
  EXPECT_FALSE(leg.guard.TakeSwitch());
  EXPECT_EQ(leg.Send(first, Packet(2)), Verdict::kForeign);
}

TEST(RtpSourceGuardTest, StrictTakeoverStillNeedsTheOfferedAddress) {
  Leg leg(Strict("127.0.0.1"));
  ASSERT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(1)), Verdict::kRecord);
  leg.now += 10s;
  for (std::uint16_t seq = 1; seq < 10; ++seq) {
    EXPECT_EQ(leg.Send(At("127.0.0.2", 6000), Packet(seq, 0x5555)), Verdict::kForeign);
  }
}

TEST(RtpSourceGuardTest, TheLatchedSenderComingBackEndsATakeover) {
  Leg leg(Learn());
  const Endpoint first = At("127.0.0.1", 6000), second = At("127.0.0.1", 6100);
  leg.Send(first, Packet(1));
  leg.Send(first, Packet(2));
  ASSERT_EQ(leg.Send(first, Packet(3)), Verdict::kLatched);
  leg.now += 2s;
  EXPECT_EQ(leg.Send(second, Packet(1, 0x5555)), Verdict::kHold);
  EXPECT_EQ(leg.Send(first, Packet(4)), Verdict::kRecord);
  EXPECT_EQ(leg.dropped, 1u);
  EXPECT_EQ(leg.Send(second, Packet(2, 0x5555)), Verdict::kForeign);
}

TEST(RtpSourceGuardTest, ARelatchTakesTheNextSenderOfTheNewOffer) {
  Leg leg(Strict("127.0.0.1"));
  ASSERT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(1)), Verdict::kRecord);
  EXPECT_EQ(leg.guard.Relatch(Strict("127.0.0.3")), 0u);
  EXPECT_FALSE(leg.guard.latched());
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(2)), Verdict::kForeign);
  EXPECT_EQ(leg.Send(At("127.0.0.3", 8000), Packet(3)), Verdict::kRecord);
  EXPECT_EQ(leg.guard.latched(), At("127.0.0.3", 8000));
}

TEST(RtpSourceGuardTest, AnyRecordsEverySender) {
  Leg leg({RtpSourcePolicy::kAny, std::nullopt});
  EXPECT_EQ(leg.Send(At("127.0.0.1", 6000), Packet(1)), Verdict::kRecord);
  EXPECT_EQ(leg.Send(At("127.0.0.9", 7000), Packet(77, 0x7)), Verdict::kRecord);
}

TEST(RtpSourceGuardTest, PolicyNames) {
  EXPECT_EQ(ToString(RtpSourcePolicy::kStrict), "strict");
  EXPECT_EQ(ToString(RtpSourcePolicy::kAny), "any");
  EXPECT_EQ(ToString(RtpSourcePolicy::kLearn), "learn");
}

}  // namespace
}  // namespace callrec::media
