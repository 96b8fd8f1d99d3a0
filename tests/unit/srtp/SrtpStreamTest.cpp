#include "srtp/SrtpStream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace callrec::srtp {

// gtest prints a suite by its SDES name (found by ADL in the enum's namespace).
void PrintTo(Suite suite, std::ostream* os) {
  *os << SuiteName(suite);
}

namespace {

std::vector<std::uint8_t> RtpPacket(std::uint16_t sequence, std::uint32_t ssrc) {
  std::vector<std::uint8_t> packet = {0x80,
                                      0x00,
                                      static_cast<std::uint8_t>(sequence >> 8),
                                      static_cast<std::uint8_t>(sequence),
                                      0,
                                      0,
                                      0,
                                      160,
                                      static_cast<std::uint8_t>(ssrc >> 24),
                                      static_cast<std::uint8_t>(ssrc >> 16),
                                      static_cast<std::uint8_t>(ssrc >> 8),
                                      static_cast<std::uint8_t>(ssrc)};
  for (int i = 0; i < 160; ++i) packet.push_back(static_cast<std::uint8_t>(i));
  return packet;
}

std::vector<std::uint8_t> Protected(SrtpStream& sender, std::vector<std::uint8_t> rtp) {
  const std::size_t length = rtp.size();
  rtp.resize(length + kMaxTrailer);
  auto n = sender.Protect(rtp, length);
  EXPECT_TRUE(n);
  rtp.resize(n ? *n : 0);
  return rtp;
}

class SrtpStreamTest : public ::testing::TestWithParam<Suite> {};

TEST_P(SrtpStreamTest, WhatOneSideProtectsTheOtherRecovers) {
  const SdesCrypto key = NewKey(1, GetParam());
  auto sender = SrtpStream::Outbound(key);
  auto receiver = SrtpStream::Inbound(key);
  ASSERT_TRUE(sender) << sender.error();
  ASSERT_TRUE(receiver) << receiver.error();
  const std::size_t tag =
      (GetParam() == Suite::kAesCm128HmacSha1_80 || GetParam() == Suite::kAes256CmHmacSha1_80) ? 10
                                                                                               : 4;
  for (std::uint16_t seq = 65530; seq != 10; ++seq) {
    const auto rtp = RtpPacket(seq, 0x11223344);
    auto srtp = Protected(sender.value(), rtp);
    ASSERT_EQ(srtp.size(), rtp.size() + tag);
    // The payload is encrypted, the header is not.
    EXPECT_TRUE(std::equal(rtp.begin(), rtp.begin() + 12, srtp.begin()));
    EXPECT_FALSE(std::equal(rtp.begin() + 12, rtp.end(), srtp.begin() + 12));
    auto n = receiver.value().Unprotect(srtp);
    ASSERT_TRUE(n);
    srtp.resize(*n);
    EXPECT_EQ(srtp, rtp);
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, SrtpStreamTest,
                         ::testing::Values(Suite::kAesCm128HmacSha1_80, Suite::kAesCm128HmacSha1_32,
                                           Suite::kAes256CmHmacSha1_80,
                                           Suite::kAes256CmHmacSha1_32),
                         [](const ::testing::TestParamInfo<Suite>& info) {
                           return std::string(SuiteName(info.param));
                         });

TEST(SrtpStreamRefusalTest, AlteredWrongKeyReplayedAndShortPacketsAreRefused) {
  const SdesCrypto key = NewKey(1, Suite::kAesCm128HmacSha1_80);
  auto sender = SrtpStream::Outbound(key);
  auto receiver = SrtpStream::Inbound(key);
  auto stranger = SrtpStream::Inbound(NewKey(1, Suite::kAesCm128HmacSha1_80));
  ASSERT_TRUE(sender && receiver && stranger);

  auto altered = Protected(sender.value(), RtpPacket(1, 7));
  altered[20] ^= 1;
  auto result = receiver.value().Unprotect(altered);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), Refusal::kAuthentication);

  auto good = Protected(sender.value(), RtpPacket(2, 7));
  auto copy = good;
  auto wrong_key = stranger.value().Unprotect(copy);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error(), Refusal::kAuthentication);

  copy = good;
  ASSERT_TRUE(receiver.value().Unprotect(copy));
  copy = good;
  auto replay = receiver.value().Unprotect(copy);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error(), Refusal::kReplay);

  // Plain RTP where SRTP is expected: no tag to match.
  auto plain = RtpPacket(3, 7);
  auto downgraded = receiver.value().Unprotect(plain);
  ASSERT_FALSE(downgraded);
  EXPECT_EQ(downgraded.error(), Refusal::kAuthentication);

  std::array<std::uint8_t, 8> tiny{};
  auto short_packet = receiver.value().Unprotect(tiny);
  ASSERT_FALSE(short_packet);
  EXPECT_EQ(short_packet.error(), Refusal::kMalformed);
}

TEST(SrtpStreamRefusalTest, AnotherSsrcOnTheSameKeyIsDecrypted) {
  const SdesCrypto key = NewKey(1, Suite::kAesCm128HmacSha1_80);
  auto sender_a = SrtpStream::Outbound(key);
  auto sender_b = SrtpStream::Outbound(key);
  auto receiver = SrtpStream::Inbound(key);
  ASSERT_TRUE(sender_a && sender_b && receiver);
  auto a = Protected(sender_a.value(), RtpPacket(100, 1));
  auto b = Protected(sender_b.value(), RtpPacket(5000, 2));
  EXPECT_TRUE(receiver.value().Unprotect(a));
  EXPECT_TRUE(receiver.value().Unprotect(b));
}

TEST(SrtpStreamRefusalTest, AKeyOfTheWrongLengthIsRefused) {
  SdesCrypto key = NewKey(1, Suite::kAesCm128HmacSha1_80);
  key.key_salt.pop_back();
  auto stream = SrtpStream::Inbound(key);
  ASSERT_FALSE(stream);
  EXPECT_NE(stream.error().find("wrong length"), std::string::npos);
}

}  // namespace
}  // namespace callrec::srtp
