// A live contact that another node owns (in the shared store, not in this
// service's memory) is never applied here: the operation goes to its owner
// through control::RemoteOwner, whose answer is the caller's; an owner that
// does not answer is an audited kUnavailable.

#include <future>

#include "ContactServiceFixture.hpp"

namespace callrec::control {
namespace {

class FakeOwner final : public RemoteOwner {
 public:
  void Forward(const OperationRequest& request, std::function<void(RemoteAnswer)> reply) override {
    seen.push_back(request);
    reply(answer);
  }
  void ForwardEnd(const EndRequest& request, std::function<void(RemoteAnswer)> reply) override {
    ends.push_back(request);
    if (before_answer) before_answer();
    reply(answer);
  }
  RemoteAnswer answer;
  std::vector<OperationRequest> seen;
  std::vector<EndRequest> ends;
  std::function<void()> before_answer;  // what the owner does before it answers
};

class RemoteOwnerTest : public ContactServiceTest {
 protected:
  // What another node writes to the shared store: a RECORDING contact this
  // service never created.
  void WriteForeignLiveContact(const std::string& id) {
    core::Contact contact;
    contact.instance_id = "local";
    contact.contact_id = contact.initial_contact_id = id;
    contact.agent_id = "bob";
    contact.codec = "PCMU";
    contact.recording.state = core::RecordingState::kRecording;
    contact.recording.agent_joined = true;
    contact.created_ms = contact.updated_ms = now_ms_;
    contact.version = 2;
    store::ContactWrite write;
    write.contact = contact;
    std::promise<bool> done;
    ASSERT_TRUE(
        store_->Write(std::move(write), [&](bool ok, const std::string&) { done.set_value(ok); }));
    ASSERT_TRUE(done.get_future().get());
  }
  std::vector<core::AuditEntry> Trail(const std::string& id) {
    return service_->AuditTrail(id).value();
  }
};

TEST_F(RemoteOwnerTest, WithoutForwardingTheOperationIsRefusedNotApplied) {
  WriteForeignLiveContact("b-1");
  auto error = Apply("b-1", core::Operation::kPause);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, ControlError::Kind::kUnavailable);
  EXPECT_NE(error->message.find("live on another node"), std::string::npos) << error->message;
  EXPECT_EQ(StateOf("b-1"), core::RecordingState::kRecording);
  EXPECT_EQ(service_->ResidentCount(), 0u);  // not held: its owner holds it
  EXPECT_EQ(service_->LiveCount(), 0u);
}

TEST_F(RemoteOwnerTest, TheOwnersAnswerIsTheCallers) {
  FakeOwner owner;
  owner.answer.answered = true;
  service_->SetRemoteOwner(&owner);
  WriteForeignLiveContact("b-2");
  EXPECT_FALSE(Apply("b-2", core::Operation::kPause).has_value());
  ASSERT_EQ(owner.seen.size(), 1u);
  EXPECT_EQ(owner.seen[0].contact_id, "b-2");
  EXPECT_EQ(owner.seen[0].operation, core::Operation::kPause);
  EXPECT_EQ(owner.seen[0].principal, "AKIDTEST");
  // Applied by the owner, not here: nothing written, nothing held.
  EXPECT_EQ(StateOf("b-2"), core::RecordingState::kRecording);
  EXPECT_TRUE(Trail("b-2").empty());
  EXPECT_EQ(service_->ResidentCount(), 0u);

  owner.answer.error = ControlError{ControlError::Kind::kInvalidRequest, "refused by the owner"};
  auto error = Apply("b-2", core::Operation::kResume);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, ControlError::Kind::kInvalidRequest);
  EXPECT_EQ(error->message, "refused by the owner");
}

TEST_F(RemoteOwnerTest, AnOwnerThatDoesNotAnswerIsAuditedUnavailable) {
  FakeOwner owner;
  owner.answer.answered = false;
  owner.answer.failure = "Owner node node-b did not answer (timeout 3000 ms)";
  service_->SetRemoteOwner(&owner);
  WriteForeignLiveContact("b-3");
  auto error = Apply("b-3", core::Operation::kStop);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, ControlError::Kind::kUnavailable);
  EXPECT_EQ(error->message, owner.answer.failure);
  auto trail = Trail("b-3");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].operation, "STOP");
  EXPECT_EQ(trail[0].principal, "AKIDTEST");
  EXPECT_EQ(trail[0].result, "OwnerUnavailable");
  EXPECT_EQ(trail[0].detail, owner.answer.failure);
  EXPECT_EQ(StateOf("b-3"), core::RecordingState::kRecording);
}

TEST_F(RemoteOwnerTest, AForwardedOperationIsNeverForwardedAgain) {
  FakeOwner owner;
  service_->SetRemoteOwner(&owner);
  WriteForeignLiveContact("b-4");
  OperationRequest request{"local",           "b-4",     "b-4", core::Operation::kPause,
                           core::Track::kAll, "AKIDTEST"};
  request.forwarded_from = "node-a";
  std::promise<std::optional<ControlError>> done;
  service_->Apply(request, [&](auto error) { done.set_value(std::move(error)); });
  auto error = done.get_future().get();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, ControlError::Kind::kUnavailable);
  EXPECT_TRUE(owner.seen.empty());
}

TEST_F(RemoteOwnerTest, ForwardedOperationsOnOwnContactsAreApplied) {
  Create("a-1");
  ASSERT_FALSE(Apply("a-1", core::Operation::kStart).has_value());
  OperationRequest request{"local",           "a-1",     "a-1", core::Operation::kPause,
                           core::Track::kAll, "AKIDTEST"};
  request.forwarded_from = "node-b";
  std::promise<std::optional<ControlError>> done;
  service_->Apply(request, [&](auto error) { done.set_value(std::move(error)); });
  EXPECT_FALSE(done.get_future().get().has_value());
  EXPECT_EQ(StateOf("a-1"), core::RecordingState::kPaused);
  EXPECT_EQ(Trail("a-1").back().detail, "PAUSED forwarded-by=node-b");
}

TEST_F(RemoteOwnerTest, ANoteOnAnotherNodesContactDoesNotHoldIt) {
  WriteForeignLiveContact("b-5");
  std::promise<std::optional<ControlError>> done;
  service_->Note("b-5", "RECORDING_READ", "agent-7", "metadata",
                 [&](auto error) { done.set_value(std::move(error)); });
  EXPECT_FALSE(done.get_future().get().has_value());
  EXPECT_EQ(Trail("b-5").size(), 1u);
  EXPECT_EQ(service_->ResidentCount(), 0u);
  EXPECT_EQ(StateOf("b-5"), core::RecordingState::kRecording);
}

TEST_F(RemoteOwnerTest, WithoutForwardingEndRefusesAnotherNodesLiveContact) {
  WriteForeignLiveContact("b-7");
  auto ended = End("b-7");
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().kind, ControlError::Kind::kUnavailable);
  EXPECT_EQ(StateOf("b-7"), core::RecordingState::kRecording);
  EXPECT_TRUE(Trail("b-7").empty());
  EXPECT_EQ(service_->ResidentCount(), 0u);
}

// The owner ends it (here: writes the ENDED contact to the shared store, as
// its own service would) and the caller gets the contact as stored then.
TEST_F(RemoteOwnerTest, EndIsAppliedByTheOwnerAndAnsweredWithTheStoredContact) {
  FakeOwner owner;
  owner.answer.answered = true;
  service_->SetRemoteOwner(&owner);
  WriteForeignLiveContact("b-8");
  owner.before_answer = [this] {
    core::Contact contact = service_->Find("b-8").value().value();
    contact.recording = core::RecordingStateMachine::End(contact.recording).status;
    contact.version += 1;
    store::ContactWrite write;
    write.contact = contact;
    std::promise<bool> done;
    ASSERT_TRUE(
        store_->Write(std::move(write), [&](bool ok, const std::string&) { done.set_value(ok); }));
    ASSERT_TRUE(done.get_future().get());
  };
  auto ended = End("b-8");
  ASSERT_TRUE(ended.ok()) << ended.error().message;
  EXPECT_EQ(ended.value().state(), core::RecordingState::kEnded);
  ASSERT_EQ(owner.ends.size(), 1u);
  EXPECT_EQ(owner.ends[0].contact_id, "b-8");
  EXPECT_TRUE(owner.ends[0].forwarded_from.empty());
  EXPECT_TRUE(Trail("b-8").empty());  // the owner's trail line, not ours
  EXPECT_EQ(service_->LiveCount(), 0u);

  // The owner's refusal is the caller's.
  WriteForeignLiveContact("b-9");
  owner.before_answer = nullptr;
  owner.answer.error = ControlError{ControlError::Kind::kInternal, "owner's store failed"};
  ended = End("b-9");
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().message, "owner's store failed");
  EXPECT_EQ(StateOf("b-9"), core::RecordingState::kRecording);
}

TEST_F(RemoteOwnerTest, AnEndTheOwnerDoesNotAnswerIsAuditedUnavailable) {
  FakeOwner owner;
  owner.answer.failure = "Owner node node-b did not answer (timeout 3000 ms)";
  service_->SetRemoteOwner(&owner);
  WriteForeignLiveContact("b-10");
  auto ended = End("b-10");
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().kind, ControlError::Kind::kUnavailable);
  auto trail = Trail("b-10");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].operation, "END");
  EXPECT_EQ(trail[0].result, "OwnerUnavailable");
  EXPECT_EQ(StateOf("b-10"), core::RecordingState::kRecording);
}

TEST_F(RemoteOwnerTest, AForwardedEndIsNeverForwardedAgain) {
  FakeOwner owner;
  service_->SetRemoteOwner(&owner);
  WriteForeignLiveContact("b-11");
  std::promise<core::Result<core::Contact, ControlError>> done;
  service_->End(
      "b-11", "admin", [&](auto result) { done.set_value(std::move(result)); }, "", "node-a");
  auto ended = done.get_future().get();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().kind, ControlError::Kind::kUnavailable);
  EXPECT_TRUE(owner.ends.empty());
}

TEST_F(RemoteOwnerTest, AForwardedEndOfAnOwnContactSaysWhoForwardedIt) {
  Create("a-3");
  ASSERT_FALSE(Apply("a-3", core::Operation::kStart).has_value());
  std::promise<core::Result<core::Contact, ControlError>> done;
  service_->End(
      "a-3", "admin", [&](auto result) { done.set_value(std::move(result)); }, "", "node-b");
  ASSERT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(StateOf("a-3"), core::RecordingState::kEnded);
  EXPECT_EQ(Trail("a-3").back().detail, "ENDED recording=RECORDING forwarded-by=node-b");
}

TEST_F(RemoteOwnerTest, EndLostTakesALostNodesContact) {
  WriteForeignLiveContact("b-6");
  std::promise<core::Result<core::Contact, ControlError>> done;
  service_->EndLost("b-6", "node-b", [&](auto result) { done.set_value(std::move(result)); });
  auto ended = done.get_future().get();
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(StateOf("b-6"), core::RecordingState::kEnded);
  auto trail = Trail("b-6");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].principal, "cluster");
  EXPECT_EQ(trail[0].detail, "ENDED recording=RECORDING (node lost: node-b)");
  EXPECT_EQ(service_->LiveCount(), 0u);
}

// This node was frozen past its lease; a survivor ended its contact in the
// store. Memory takes the ENDED contact without writing anything.
TEST_F(RemoteOwnerTest, AdoptEndedTakesTheStoresEndWithoutAWrite) {
  Create("a-2");
  ASSERT_FALSE(Apply("a-2", core::Operation::kStart).has_value());
  std::vector<core::Contact> observed;
  service_->AddObserver([&](const core::Contact& contact, const std::optional<core::AuditEntry>&) {
    observed.push_back(contact);
  });
  core::Contact ended = service_->Find("a-2").value().value();
  const core::RecordingStatus before = ended.recording;
  ended.recording = core::RecordingStateMachine::End(before).status;
  ended.version += 1;
  const std::size_t lines = Trail("a-2").size();
  EXPECT_TRUE(service_->AdoptEnded(ended));
  EXPECT_EQ(service_->LiveCount(), 0u);
  EXPECT_EQ(service_->ResidentCount(), 0u);  // nothing in flight: evicted at once
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0].state(), core::RecordingState::kEnded);
  EXPECT_EQ(Trail("a-2").size(), lines);  // no line of its own
  // Not held live (any more): nothing to adopt.
  EXPECT_FALSE(service_->AdoptEnded(ended));
  core::Contact live = ended;
  live.recording = before;
  EXPECT_FALSE(service_->AdoptEnded(live));
}

}  // namespace
}  // namespace callrec::control
