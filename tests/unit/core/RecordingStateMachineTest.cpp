#include "core/RecordingStateMachine.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <tuple>

namespace callrec::core {
namespace {

using enum RecordingState;
using enum Operation;

RecordingStatus At(RecordingState state, bool agent_joined = true) {
  RecordingStatus status;
  status.state = state;
  status.agent_joined = agent_joined;
  if (state != kNotStarted) status.track = Track::kAll;
  return status;
}

// Every state x operation: the state reached (nullopt = refused) and whether it changed.
struct Case {
  RecordingState from;
  bool agent_joined;
  Operation operation;
  std::optional<RecordingState> to;
  bool changed;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << ToString(c.operation) << " in " << ToString(c.from)
      << (c.agent_joined ? " (agent joined)" : " (agent not joined)") << " -> "
      << (c.to ? ToString(*c.to) : std::string_view("refused"));
}

// Test names such as NOT_STARTED_joined_START.
std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return std::string(ToString(info.param.from)) + (info.param.agent_joined ? "_joined_" : "_") +
         std::string(ToString(info.param.operation));
}

class EveryStateAndOperation : public ::testing::TestWithParam<Case> {};

TEST_P(EveryStateAndOperation, ReachesTheSpecifiedState) {
  const Case& c = GetParam();
  auto outcome = RecordingStateMachine::Apply(At(c.from, c.agent_joined), c.operation);
  if (!c.to) {
    ASSERT_FALSE(outcome.ok()) << "expected a refusal";
    // The refusal names the state the recording is in.
    EXPECT_NE(outcome.error().message.find(ToString(c.from)), std::string::npos)
        << outcome.error().message;
    return;
  }
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome->status.state, *c.to);
  EXPECT_EQ(outcome->changed, c.changed);
}

INSTANTIATE_TEST_SUITE_P(Table, EveryStateAndOperation,
                         ::testing::Values(
                             // NOT_STARTED
                             Case{kNotStarted, true, kStart, kRecording, true},
                             Case{kNotStarted, false, kStart, kWaitingForAgent, true},
                             Case{kNotStarted, true, kPause, std::nullopt, false},
                             Case{kNotStarted, true, kResume, std::nullopt, false},
                             Case{kNotStarted, true, kStop, std::nullopt, false},
                             // WAITING_FOR_AGENT
                             Case{kWaitingForAgent, false, kStart, kWaitingForAgent, false},
                             Case{kWaitingForAgent, false, kPause, kPaused, true},
                             Case{kWaitingForAgent, false, kResume, kWaitingForAgent, false},
                             Case{kWaitingForAgent, false, kStop, kStopped, true},
                             // RECORDING
                             Case{kRecording, true, kStart, kRecording, false},
                             Case{kRecording, true, kPause, kPaused, true},
                             Case{kRecording, true, kResume, kRecording, false},
                             Case{kRecording, true, kStop, kStopped, true},
                             // PAUSED
                             Case{kPaused, true, kStart, std::nullopt, false},
                             Case{kPaused, true, kPause, kPaused, false},
                             Case{kPaused, true, kResume, kRecording, true},
                             Case{kPaused, false, kResume, kWaitingForAgent, true},
                             Case{kPaused, true, kStop, kStopped, true},
                             // STOPPED is final
                             Case{kStopped, true, kStart, std::nullopt, false},
                             Case{kStopped, true, kPause, std::nullopt, false},
                             Case{kStopped, true, kResume, std::nullopt, false},
                             Case{kStopped, true, kStop, kStopped, false},
                             // ENDED refuses everything
                             Case{kEnded, true, kStart, std::nullopt, false},
                             Case{kEnded, true, kPause, std::nullopt, false},
                             Case{kEnded, true, kResume, std::nullopt, false},
                             Case{kEnded, true, kStop, std::nullopt, false}),
                         CaseName);

TEST(RecordingStateMachine, StartRecordsTheRequestedTrackAndARepeatKeepsIt) {
  auto started = RecordingStateMachine::Apply(At(kNotStarted), kStart, Track::kFromAgent);
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->status.track, Track::kFromAgent);
  auto repeated = RecordingStateMachine::Apply(started->status, kStart, Track::kToAgent);
  ASSERT_TRUE(repeated.ok());
  EXPECT_FALSE(repeated->changed);
  EXPECT_EQ(repeated->status.track, Track::kFromAgent);
}

TEST(RecordingStateMachine, StartAfterStopIsRefusedLikeAmazonConnect) {
  auto stopped = RecordingStateMachine::Apply(At(kRecording), kStop);
  ASSERT_TRUE(stopped.ok());
  auto restart = RecordingStateMachine::Apply(stopped->status, kStart);
  ASSERT_FALSE(restart.ok());
  EXPECT_NE(restart.error().message.find("STOPPED"), std::string::npos);
}

TEST(RecordingStateMachine, AgentJoiningStartsAWaitingRecording) {
  auto joined = RecordingStateMachine::AgentJoined(At(kWaitingForAgent, false));
  EXPECT_TRUE(joined.changed);
  EXPECT_EQ(joined.status.state, kRecording);
  EXPECT_TRUE(joined.status.agent_joined);
  // Joining again changes nothing.
  EXPECT_FALSE(RecordingStateMachine::AgentJoined(joined.status).changed);
}

TEST(RecordingStateMachine, AgentJoiningWhilePausedKeepsThePause) {
  auto joined = RecordingStateMachine::AgentJoined(At(kPaused, false));
  EXPECT_EQ(joined.status.state, kPaused);
  auto resumed = RecordingStateMachine::Apply(joined.status, kResume);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->status.state, kRecording);
}

TEST(RecordingStateMachine, AgentJoiningBeforeStartDoesNotStartRecording) {
  auto joined = RecordingStateMachine::AgentJoined(At(kNotStarted, false));
  EXPECT_EQ(joined.status.state, kNotStarted);
  EXPECT_TRUE(joined.status.agent_joined);
}

TEST(RecordingStateMachine, EndingKeepsWhatTheRecordingWas) {
  for (RecordingState state : {kNotStarted, kWaitingForAgent, kRecording, kPaused, kStopped}) {
    auto ended = RecordingStateMachine::End(At(state));
    EXPECT_TRUE(ended.changed);
    EXPECT_EQ(ended.status.state, kEnded);
    EXPECT_EQ(ended.status.final_state, state) << ToString(state);
    auto again = RecordingStateMachine::End(ended.status);
    EXPECT_FALSE(again.changed);
    EXPECT_EQ(again.status.final_state, state);
  }
}

TEST(RecordingStateMachine, AllowsMatchesApply) {
  EXPECT_TRUE(RecordingStateMachine::Allows(At(kRecording), kPause));
  EXPECT_FALSE(RecordingStateMachine::Allows(At(kNotStarted), kPause));
}

TEST(RecordingState, NamesRoundTrip) {
  for (RecordingState state :
       {kNotStarted, kWaitingForAgent, kRecording, kPaused, kStopped, kEnded}) {
    EXPECT_EQ(ParseRecordingState(ToString(state)), state);
  }
  for (Operation operation : {kStart, kStop, kPause, kResume}) {
    EXPECT_EQ(ParseOperation(ToString(operation)), operation);
  }
  for (Track track : {Track::kToAgent, Track::kFromAgent, Track::kAll}) {
    EXPECT_EQ(ParseTrack(ToString(track)), track);
  }
  EXPECT_EQ(ParseTrack("NONE"), std::nullopt);
  EXPECT_EQ(ParseTrack("BOTH"), std::nullopt);
  EXPECT_EQ(ParseRecordingState("recording"), std::nullopt);
}

}  // namespace
}  // namespace callrec::core
