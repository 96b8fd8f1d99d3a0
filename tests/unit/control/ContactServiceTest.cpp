#include "control/ContactService.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>

#include "ContactServiceFixture.hpp"
#include "control/AfterRestart.hpp"

namespace callrec::control {
namespace {

using core::Operation;
using core::RecordingState;

TEST_F(ContactServiceTest, LifeCycleIsAuditedWithPrincipalAndResult) {
  Create("c1");
  EXPECT_FALSE(Apply("c1", Operation::kStart, core::Track::kToAgent));
  now_ms_ += 10;
  EXPECT_FALSE(Apply("c1", Operation::kPause));
  EXPECT_FALSE(Apply("c1", Operation::kPause));  // idempotent
  auto refused = Apply("c1", Operation::kStart);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, ControlError::Kind::kInvalidRequest);
  EXPECT_NE(refused->message.find("PAUSED"), std::string::npos);
  EXPECT_FALSE(Apply("c1", Operation::kResume));
  EXPECT_FALSE(Apply("c1", Operation::kStop));
  EXPECT_EQ(StateOf("c1"), RecordingState::kStopped);
  EXPECT_EQ(service_->Find("c1").value()->recording.track, core::Track::kToAgent);

  const auto trail = service_->AuditTrail("c1").value();
  ASSERT_EQ(trail.size(), 7u);
  EXPECT_EQ(trail[0].operation, "CREATE");
  EXPECT_EQ(trail[1].operation, "START");
  EXPECT_EQ(trail[1].principal, "AKIDTEST");
  EXPECT_EQ(trail[1].result, "OK");
  EXPECT_EQ(trail[2].at_ms, now_ms_);
  EXPECT_EQ(trail[3].result, "UNCHANGED");
  EXPECT_EQ(trail[4].result, "InvalidRequestException");
  EXPECT_EQ(trail[6].detail, "STOPPED");
}

TEST_F(ContactServiceTest, UnknownContactOrInstanceIsNotFound) {
  Create("c1");
  auto missing = Apply("nope", Operation::kStart);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->kind, ControlError::Kind::kNotFound);
  OperationRequest other{"other-instance", "c1", "c1", Operation::kStart, core::Track::kAll, "p"};
  std::promise<std::optional<ControlError>> done;
  service_->Apply(other, [&](auto error) { done.set_value(error); });
  auto wrong_instance = done.get_future().get();
  ASSERT_TRUE(wrong_instance);
  EXPECT_EQ(wrong_instance->kind, ControlError::Kind::kNotFound);
}

TEST_F(ContactServiceTest, MismatchedInitialContactIdIsInvalidParameterAndAudited) {
  Create("c1");
  auto error = Apply("c1", Operation::kStart, core::Track::kAll, "someone-else");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ControlError::Kind::kInvalidParameter);
  EXPECT_EQ(StateOf("c1"), RecordingState::kNotStarted);
  EXPECT_EQ(service_->AuditTrail("c1").value().back().result, "InvalidParameterException");
}

TEST_F(ContactServiceTest, StartBeforeTheAgentJoinsWaits) {
  Create("c1", /*agent_joined=*/false);
  EXPECT_FALSE(Apply("c1", Operation::kStart));
  EXPECT_EQ(StateOf("c1"), RecordingState::kWaitingForAgent);
  std::promise<std::optional<ControlError>> done;
  service_->AgentJoined("c1", "sip", [&](auto error) { done.set_value(error); });
  EXPECT_FALSE(done.get_future().get());
  EXPECT_EQ(StateOf("c1"), RecordingState::kRecording);
}

TEST_F(ContactServiceTest, EndKeepsTheRecordingStateAndRefusesLaterOperations) {
  Create("c1");
  EXPECT_FALSE(Apply("c1", Operation::kStart));
  EXPECT_FALSE(Apply("c1", Operation::kPause));
  std::promise<core::Result<core::Contact, ControlError>> done;
  service_->End("c1", "admin", [&](auto result) { done.set_value(std::move(result)); });
  auto ended = done.get_future().get();
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->state(), RecordingState::kEnded);
  EXPECT_EQ(ended->recording.final_state, RecordingState::kPaused);
  EXPECT_TRUE(Apply("c1", Operation::kResume));
}

TEST_F(ContactServiceTest, AcknowledgedStateSurvivesReopening) {
  Create("c1");
  Create("c2");
  EXPECT_FALSE(Apply("c1", Operation::kStart));
  EXPECT_FALSE(Apply("c1", Operation::kPause));
  Close();
  Open();
  EXPECT_EQ(StateOf("c1"), RecordingState::kPaused);
  EXPECT_EQ(StateOf("c2"), RecordingState::kNotStarted);
  EXPECT_EQ(service_->AuditTrail("c1").value().size(), 3u);
}

TEST_F(ContactServiceTest, ListFiltersByAgentAndState) {
  Create("c1");
  Create("c2");
  EXPECT_FALSE(Apply("c2", Operation::kStart));
  EXPECT_EQ(service_->List({}).value().contacts.size(), 2u);
  EXPECT_EQ(service_->List({std::string("alice"), RecordingState::kRecording, false, "", 0})
                .value()
                .contacts.size(),
            1u);
  EXPECT_EQ(
      service_->List({std::string("bob"), std::nullopt, false, "", 0}).value().contacts.size(), 0u);
  EXPECT_EQ(service_->CountByState()[RecordingState::kNotStarted], 1u);
}

TEST_F(ContactServiceTest, CreateIsIdempotentForTheSameIdentityAndConflictsOtherwise) {
  Create("c1");
  Create("c1");  // same identity: answered with the existing contact
  CreateRequest different{"local", "c1", "", "bob", "PCMU", true, "admin"};
  std::promise<core::Result<core::Contact, ControlError>> done;
  service_->Create(different, [&](auto result) { done.set_value(std::move(result)); });
  auto result = done.get_future().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ControlError::Kind::kConflict);
}

TEST_F(ContactServiceTest, AFailedWriteIsNotAcknowledgedAndUndoesItsChange) {
  Create("c1");
  store_->Close();  // every later write fails
  auto error = Apply("c1", Operation::kStart);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ControlError::Kind::kInternal);
  EXPECT_EQ(StateOf("c1"), RecordingState::kNotStarted);
}

// After a restart no contact claims a recording that cannot receive a packet:
// begun recordings and SIPREC contacts end (durably, with the reason), contacts
// still waiting to record stay and are handed back for new ports.
TEST_F(ContactServiceTest, ARestartEndsWhatItCannotCarryOn) {
  Create("rec");
  Apply("rec", Operation::kStart);
  Create("paused");
  Apply("paused", Operation::kStart);
  Apply("paused", Operation::kPause);
  Create("new");
  Create("wait", /*agent_joined=*/false);
  Apply("wait", Operation::kStart);
  Create("stopped");
  Apply("stopped", Operation::kStart);
  Apply("stopped", Operation::kStop);
  {
    CreateRequest request{"local", "sip", "", "alice", "PCMU", true, "recording-client"};
    std::promise<void> done;
    service_->Create(request, [&](auto) { done.set_value(); });
    done.get_future().get();
  }
  Close();
  Open();
  const RestartOutcome outcome = SettleAfterRestart(*service_, [] { std::this_thread::yield(); });
  std::vector<std::string> ended = outcome.ended;
  std::sort(ended.begin(), ended.end());
  EXPECT_EQ(ended, (std::vector<std::string>{"paused", "rec", "sip"}));
  EXPECT_TRUE(outcome.failed.empty());
  std::vector<std::string> awaiting;
  for (const auto& c : outcome.awaiting_media) awaiting.push_back(c.contact_id);
  std::sort(awaiting.begin(), awaiting.end());
  EXPECT_EQ(awaiting, (std::vector<std::string>{"new", "wait"}));
  EXPECT_EQ(StateOf("rec"), RecordingState::kEnded);
  EXPECT_EQ(service_->Find("paused").value()->recording.final_state, RecordingState::kPaused);
  EXPECT_EQ(StateOf("new"), RecordingState::kNotStarted);
  EXPECT_EQ(StateOf("wait"), RecordingState::kWaitingForAgent);
  EXPECT_EQ(StateOf("stopped"), RecordingState::kStopped);
  const auto trail = service_->AuditTrail("paused").value();
  EXPECT_EQ(trail.back().operation, "END");
  EXPECT_EQ(trail.back().principal, "server");
  EXPECT_EQ(trail.back().detail, "ENDED recording=PAUSED (server restart)");
  // Durable: a second restart finds them ended and ends nothing more.
  Close();
  Open();
  EXPECT_EQ(StateOf("rec"), RecordingState::kEnded);
  EXPECT_TRUE(SettleAfterRestart(*service_, [] {}).ended.empty());
}

// A request whose signature was already used (OperationRequest::replayed) is
// served only when it changes nothing: idempotent repeats still succeed, a
// captured RESUME replayed during a pause is refused and audited.
TEST_F(ContactServiceTest, ReplayedRequestMayNotChangeTheRecording) {
  Create("c1");
  auto replayed = [&](Operation operation) {
    OperationRequest request{"local", "c1", "c1", operation, core::Track::kAll, "AKIDTEST", true};
    std::promise<std::optional<ControlError>> done;
    service_->Apply(request, [&](auto error) { done.set_value(std::move(error)); });
    return done.get_future().get();
  };
  EXPECT_FALSE(Apply("c1", Operation::kStart));
  EXPECT_FALSE(replayed(Operation::kStart));  // a repeat: UNCHANGED
  EXPECT_FALSE(Apply("c1", Operation::kPause));
  auto refused = replayed(Operation::kResume);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, ControlError::Kind::kAccessDenied);
  EXPECT_NE(refused->message.find("already used"), std::string::npos);
  EXPECT_EQ(StateOf("c1"), RecordingState::kPaused);
  EXPECT_EQ(service_->AuditTrail("c1").value().back().result, "AccessDeniedException");
  // An impossible transition is refused as usual, replayed or not.
  ASSERT_TRUE(replayed(Operation::kStart));
  EXPECT_EQ(replayed(Operation::kStart)->kind, ControlError::Kind::kInvalidRequest);
  EXPECT_FALSE(Apply("c1", Operation::kResume));
  EXPECT_EQ(StateOf("c1"), RecordingState::kRecording);
}

}  // namespace
}  // namespace callrec::control
