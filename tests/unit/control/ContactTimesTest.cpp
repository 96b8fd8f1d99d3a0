#include "control/ContactTimes.hpp"

#include <gtest/gtest.h>

namespace callrec::control {
namespace {

using core::RecordingState;

core::Contact At(RecordingState state, std::int64_t version, std::int64_t updated_ms) {
  core::Contact contact;
  contact.contact_id = "c1";
  contact.recording.state = state;
  contact.version = version;
  contact.created_ms = 1000;
  contact.updated_ms = updated_ms;
  return contact;
}

TEST(ContactTimesTest, StateSinceAndRecordedTime) {
  ContactTimes times;
  times.Observe(At(RecordingState::kNotStarted, 1, 1000));
  EXPECT_EQ(times.Of(At(RecordingState::kNotStarted, 1, 1000)).state_since_ms, 1000);
  times.Observe(At(RecordingState::kRecording, 2, 3000));
  times.Observe(At(RecordingState::kPaused, 3, 8000));  // recorded 5 s
  auto paused = times.Of(At(RecordingState::kPaused, 3, 8000));
  EXPECT_EQ(paused.state_since_ms, 8000);
  EXPECT_EQ(paused.recorded_ms, 5000);
  // The agent renamed while paused: same state, the pause still began at 8 s.
  times.Observe(At(RecordingState::kPaused, 4, 9000));
  EXPECT_EQ(times.Of(At(RecordingState::kPaused, 4, 9000)).state_since_ms, 8000);
  times.Observe(At(RecordingState::kRecording, 5, 12000));
  times.Observe(At(RecordingState::kStopped, 6, 14000));  // 2 s more
  EXPECT_EQ(times.Of(At(RecordingState::kStopped, 6, 14000)).recorded_ms, 7000);
  // Out of order: an older version seen late changes nothing.
  times.Observe(At(RecordingState::kRecording, 5, 12000));
  EXPECT_EQ(times.Of(At(RecordingState::kStopped, 6, 14000)).state_since_ms, 14000);
  times.Observe(At(RecordingState::kEnded, 7, 15000));
  EXPECT_EQ(times.size(), 0u);
}

TEST(ContactTimesTest, UnknownContactIsInItsStateSinceItsLastUpdate) {
  ContactTimes times;
  const auto t = times.Of(At(RecordingState::kWaitingForAgent, 3, 4242));
  EXPECT_EQ(t.state_since_ms, 4242);
  EXPECT_EQ(t.recorded_ms, 0);
  EXPECT_FALSE(t.overdue);
}

TEST(ContactTimesTest, EachPauseOverdueOnce) {
  ContactTimes times;
  times.Observe(At(RecordingState::kRecording, 1, 0));
  times.Observe(At(RecordingState::kPaused, 2, 1000));
  EXPECT_TRUE(times.TakeOverdue(30'999, 30'000).empty());
  auto due = times.TakeOverdue(31'000, 30'000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].contact_id, "c1");
  EXPECT_EQ(due[0].paused_since_ms, 1000);
  EXPECT_TRUE(times.Of(At(RecordingState::kPaused, 2, 1000)).overdue);
  EXPECT_TRUE(times.TakeOverdue(60'000, 30'000).empty());
  // Resumed, paused again: a new pause, reported anew.
  times.Observe(At(RecordingState::kRecording, 3, 61'000));
  EXPECT_FALSE(times.Of(At(RecordingState::kRecording, 3, 61'000)).overdue);
  times.Observe(At(RecordingState::kPaused, 4, 62'000));
  EXPECT_TRUE(times.TakeOverdue(91'999, 30'000).empty());
  EXPECT_EQ(times.TakeOverdue(92'000, 30'000).size(), 1u);
}

}  // namespace
}  // namespace callrec::control
