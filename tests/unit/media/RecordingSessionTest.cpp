#include "media/RecordingSession.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace callrec::media {
namespace {

using Clock = RecordingSession::Clock;
using namespace std::chrono_literals;

// A 20 ms µ-law packet whose every sample decodes to `level` (0xFF = 0).
struct TestPacket {
  std::vector<std::uint8_t> payload;
  RtpPacket packet;
  TestPacket(std::uint16_t seq, std::uint32_t ts, std::uint8_t code, std::uint32_t ssrc = 7,
             std::uint8_t pt = 0)
      : payload(160, code), packet{pt, false, seq, ts, ssrc, {}} {
    packet.payload = payload;
  }
};

class RecordingSessionTest : public ::testing::Test {
 protected:
  const Clock::time_point t0_ = Clock::now();
  RecordingSession::Options options_;

  // Sends packets 20 ms apart, as a paced sender would; returns nothing.
  static void Feed(RecordingSession& session, Side side, Clock::time_point start, int from,
                   int count, std::uint8_t code, std::uint32_t ssrc = 7) {
    for (int i = from; i < from + count; ++i) {
      TestPacket p(static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(i * 160), code, ssrc);
      session.OnPacket(side, p.packet, start + i * 20ms);
    }
  }
  static std::int16_t Left(const std::vector<std::int16_t>& s, std::size_t frame) {
    return s[frame * 2];
  }
  static std::int16_t Right(const std::vector<std::int16_t>& s, std::size_t frame) {
    return s[frame * 2 + 1];
  }
};

TEST_F(RecordingSessionTest, PlacesEachSideOnItsChannelByTimestamp) {
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 10, 0x80);  // µ-law 0x80 = +32124
  Feed(session, Side::kAgent, t0_, 0, 10, 0x00);     // µ-law 0x00 = -32124
  const auto frames = session.TakeUntil(t0_ + 200ms);
  ASSERT_EQ(frames.size(), 1600u * 2);
  EXPECT_EQ(Left(frames, 0), 32124);
  EXPECT_EQ(Right(frames, 0), -32124);
  EXPECT_EQ(Left(frames, 1599), 32124);
  EXPECT_EQ(session.counters().packets, 20u);
  EXPECT_EQ(session.counters().lost, 0u);
}

TEST_F(RecordingSessionTest, ReorderedPacketsLandInPlaceAndLossIsSilence) {
  RecordingSession session(options_, t0_, 0);
  // Packets 0..9 with 3 and 4 swapped, 6 lost.
  for (int i : {0, 1, 2, 4, 3, 5, 7, 8, 9}) {
    TestPacket p(static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(i * 160), 0x80);
    session.OnPacket(Side::kCustomer, p.packet, t0_ + i * 20ms + 5ms);
  }
  const auto frames = session.TakeUntil(t0_ + 200ms);
  EXPECT_EQ(Left(frames, 3 * 160 + 5), 32124);
  EXPECT_EQ(Left(frames, 4 * 160 + 5), 32124);
  // The lost packet's 20 ms are silence (offset by the first packet's 5 ms arrival).
  EXPECT_EQ(Left(frames, 6 * 160 + 80), 0);
  EXPECT_EQ(session.counters().lost, 1u);
}

TEST_F(RecordingSessionTest, PacketsArrivingWhilePausedAreNeverRecorded) {
  RecordingSession session(options_, t0_, 1000);
  Feed(session, Side::kCustomer, t0_, 0, 10, 0x80);
  session.Pause(t0_ + 200ms, 1200);
  Feed(session, Side::kCustomer, t0_, 10, 10, 0x00);  // "card number": must not appear
  session.Resume(t0_ + 400ms, 1400);
  Feed(session, Side::kCustomer, t0_, 20, 10, 0x80);
  const auto frames = session.TakeUntil(t0_ + 600ms);
  ASSERT_EQ(frames.size(), 4800u * 2);
  for (std::size_t f = 0; f < 4800; ++f) ASSERT_NE(Left(frames, f), -32124) << f;
  for (std::size_t f = 1600; f < 3200; ++f) ASSERT_EQ(Left(frames, f), 0) << f;
  EXPECT_EQ(session.counters().gated, 10u);
  EXPECT_EQ(session.counters().lost, 0u);  // not sent to us while paused is not lost
  const auto pauses = session.pauses();
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0].start_sample, 1600);
  EXPECT_EQ(pauses[0].end_sample, 3200);
  EXPECT_EQ(pauses[0].start_wall_ms, 1200);
}

TEST_F(RecordingSessionTest, APacketReadAfterTheResumeThatArrivedBeforeItIsGated) {
  // The media thread was behind: packets that arrived during the pause are
  // read only after the resume. Their arrival decides, not when they are read.
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 10, 0x80);
  session.Pause(t0_ + 200ms, 0);
  session.Resume(t0_ + 400ms, 0);
  Feed(session, Side::kCustomer, t0_, 10, 10, 0x00);  // arrived 200-380 ms: paused
  Feed(session, Side::kCustomer, t0_, 20, 10, 0x80);  // arrived from 400 ms: recorded
  const auto frames = session.TakeUntil(t0_ + 600ms);
  ASSERT_EQ(frames.size(), 4800u * 2);
  for (std::size_t f = 0; f < 4800; ++f) ASSERT_NE(Left(frames, f), -32124) << f;
  EXPECT_EQ(Left(frames, 3200), 32124);
  EXPECT_EQ(session.counters().gated, 10u);
}

TEST_F(RecordingSessionTest, APacketThatArrivedBeforeTheStartIsNotPlaced) {
  RecordingSession session(options_, t0_, 0);
  TestPacket early(0, 0, 0x00);
  EXPECT_EQ(session.OnPacket(Side::kCustomer, early.packet, t0_ - 5ms),
            RecordingSession::PacketResult::kGated);
  EXPECT_EQ(session.counters().packets, 0u);
}

TEST_F(RecordingSessionTest, AStallLongerThanTheInitialRingKeepsEveryFrame) {
  // Nothing handed out for 3 s (the media thread stalled): the ring, 1 s at
  // first, grows so that every frame placed meanwhile is kept in place.
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 150, 0x80);
  Feed(session, Side::kAgent, t0_, 0, 150, 0x00);
  const auto frames = session.TakeUntil(t0_ + 3s);
  ASSERT_EQ(frames.size(), 24000u * 2);
  for (std::size_t f = 0; f < 24000; ++f) {
    ASSERT_EQ(Left(frames, f), 32124) << f;
    ASSERT_EQ(Right(frames, f), -32124) << f;
  }
  // Past the 4 s bound, audio is not kept (counted as written silence later).
  Feed(session, Side::kCustomer, t0_, 150, 250, 0x80);  // up to 8 s, nothing handed out
  const auto later = session.TakeUntil(t0_ + 8s);
  ASSERT_EQ(later.size(), 40000u * 2);
  EXPECT_EQ(Left(later, 31999), 32124);
  EXPECT_EQ(Left(later, 32000), 0);
}

TEST_F(RecordingSessionTest, APauseStartsPastAudioPlacedAheadOfTheClock) {
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 10, 0x80);
  // The agent's first packet came 30 ms late, the others on time: its audio
  // runs 30 ms ahead of our clock (placed by timestamp from that anchor).
  TestPacket first(0, 0, 0x00);
  session.OnPacket(Side::kAgent, first.packet, t0_ + 30ms);
  for (int i = 1; i < 10; ++i) {
    TestPacket p(static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(i * 160), 0x00);
    session.OnPacket(Side::kAgent, p.packet, t0_ + i * 20ms);
  }
  session.Pause(t0_ + 200ms, 0);
  session.Resume(t0_ + 400ms, 0);
  const auto frames = session.TakeUntil(t0_ + 400ms);
  const auto pauses = session.pauses();
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0].start_sample, 1840);  // 200 ms + 30 ms: the agent's audio stays
  EXPECT_EQ(Right(frames, 1839), -32124);
  for (std::int64_t f = pauses[0].start_sample; f < pauses[0].end_sample; ++f) {
    ASSERT_EQ(Right(frames, static_cast<std::size_t>(f)), 0) << f;
    ASSERT_EQ(Left(frames, static_cast<std::size_t>(f)), 0) << f;
  }
}

TEST_F(RecordingSessionTest, SkipCutsThePausedTimeOut) {
  options_.skip_paused = true;
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 10, 0x80);
  session.Pause(t0_ + 200ms, 0);
  session.Resume(t0_ + 500ms, 0);
  Feed(session, Side::kCustomer, t0_, 25, 10, 0x80);
  const auto frames = session.TakeUntil(t0_ + 700ms);
  EXPECT_EQ(frames.size(), (5600u - 2400u) * 2);  // 700 ms - 300 ms paused
  EXPECT_EQ(Left(frames, 1599), 32124);
  EXPECT_EQ(Left(frames, 1600), 32124);  // the resumed audio follows directly
}

TEST_F(RecordingSessionTest, UnrecordedTrackIsDigitalSilence) {
  options_.record_agent = false;
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 5, 0x80);
  Feed(session, Side::kAgent, t0_, 0, 5, 0x80);
  const auto frames = session.TakeUntil(t0_ + 100ms);
  for (std::size_t f = 0; f < 800; ++f) {
    ASSERT_EQ(Right(frames, f), 0);
    ASSERT_EQ(Left(frames, f), 32124);
  }
}

TEST_F(RecordingSessionTest, TelephoneEventsAndOtherCodecsAreNotWritten) {
  RecordingSession session(options_, t0_, 0);
  TestPacket event(1, 0, 0x80, 7, 101);
  EXPECT_EQ(session.OnPacket(Side::kCustomer, event.packet, t0_),
            RecordingSession::PacketResult::kEvent);
  TestPacket alaw(2, 0, 0x80, 7, 8);
  EXPECT_EQ(session.OnPacket(Side::kCustomer, alaw.packet, t0_),
            RecordingSession::PacketResult::kInvalid);
  const auto frames = session.TakeUntil(t0_ + 20ms);
  for (std::int16_t sample : frames) ASSERT_EQ(sample, 0);
}

TEST_F(RecordingSessionTest, LatePacketsAreCountedNotWrittenOutOfPlace) {
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 3, 0x80);  // packet 3 is delayed...
  Feed(session, Side::kCustomer, t0_, 4, 6, 0x80);
  const auto first = session.TakeReady(t0_ + 400ms);  // hands out up to 300 ms
  EXPECT_EQ(first.size(), 2400u * 2);
  TestPacket late(3, 3 * 160, 0x00);
  EXPECT_EQ(session.OnPacket(Side::kCustomer, late.packet, t0_ + 400ms),
            RecordingSession::PacketResult::kLate);
  EXPECT_EQ(session.counters().late, 1u);
  for (std::size_t f = 3 * 160; f < 4 * 160; ++f) ASSERT_EQ(Left(first, f), 0) << f;
}

TEST_F(RecordingSessionTest, DuplicatesAreCountedAndDoNotHideLoss) {
  RecordingSession session(options_, t0_, 0);
  for (int i : {0, 1, 1, 2, 4, 4, 5}) {  // 3 lost, 1 and 4 twice
    TestPacket p(static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(i * 160), 0x80);
    session.OnPacket(Side::kCustomer, p.packet, t0_ + i * 20ms);
  }
  EXPECT_EQ(session.counters().duplicates, 2u);
  EXPECT_EQ(session.counters().lost, 1u);
  EXPECT_EQ(session.counters().packets, 5u);
}

// Sequence 65535 arriving after 0..2 (sent just before the wrap, reordered) has
// the extended number -1, which once was the empty slot's marker: it was taken
// for a duplicate (found by fuzz/recording_session).
TEST_F(RecordingSessionTest, ThePacketBeforeTheWrapIsNotADuplicate) {
  RecordingSession session(options_, t0_, 0);
  for (int i : {0, 1, 2}) {
    TestPacket p(static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(160 + i * 160), 0x80);
    session.OnPacket(Side::kCustomer, p.packet, t0_ + i * 20ms);
  }
  TestPacket before(65535, 0, 0x80);
  EXPECT_NE(session.OnPacket(Side::kCustomer, before.packet, t0_ + 60ms),
            RecordingSession::PacketResult::kDuplicate);
  EXPECT_EQ(session.counters().duplicates, 0u);
}

TEST_F(RecordingSessionTest, TelephoneEventsCountForLossButAreNotWritten) {
  RecordingSession session(options_, t0_, 0);
  Feed(session, Side::kCustomer, t0_, 0, 3, 0x80);
  TestPacket event(3, 3 * 160, 0x00, 7, 101);
  EXPECT_EQ(session.OnPacket(Side::kCustomer, event.packet, t0_ + 60ms),
            RecordingSession::PacketResult::kEvent);
  Feed(session, Side::kCustomer, t0_, 4, 3, 0x80);
  EXPECT_EQ(session.counters().lost, 0u);
  const auto frames = session.TakeUntil(t0_ + 140ms);
  for (std::size_t f = 3 * 160; f < 4 * 160; ++f) ASSERT_EQ(Left(frames, f), 0) << f;
}

TEST_F(RecordingSessionTest, NewSsrcAndTimestampWrapKeepTheTimeline) {
  RecordingSession session(options_, t0_, 0);
  // Timestamps crossing 2^32.
  for (int i = 0; i < 5; ++i) {
    TestPacket p(static_cast<std::uint16_t>(65533 + i),
                 static_cast<std::uint32_t>(0xFFFFFE00u + static_cast<std::uint32_t>(i) * 160),
                 0x80);
    session.OnPacket(Side::kCustomer, p.packet, t0_ + i * 20ms);
  }
  // The sender restarts with a new SSRC and random timestamp at 200 ms.
  for (int i = 0; i < 5; ++i) {
    TestPacket p(static_cast<std::uint16_t>(100 + i), 999999u + static_cast<std::uint32_t>(i) * 160,
                 0x80, 99);
    session.OnPacket(Side::kCustomer, p.packet, t0_ + 200ms + i * 20ms);
  }
  const auto frames = session.TakeUntil(t0_ + 300ms);
  EXPECT_EQ(Left(frames, 4 * 160 + 10), 32124);  // before the wrap point and after it
  EXPECT_EQ(Left(frames, 900), 0);               // the gap between the two sources
  EXPECT_EQ(Left(frames, 1600 + 10), 32124);     // the new source at its arrival time
  EXPECT_EQ(session.counters().lost, 0u);
}

}  // namespace
}  // namespace callrec::media
