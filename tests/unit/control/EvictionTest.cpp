// Ended contacts leave memory once their end is durable and are read back from
// the store, answering exactly as before; --max-contacts counts the others.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "ContactServiceFixture.hpp"
#include "control/AfterRestart.hpp"

namespace callrec::control {
namespace {

using core::Operation;
using core::RecordingState;

std::vector<std::string> Ids(std::vector<core::Contact> contacts) {
  std::vector<std::string> ids;
  for (const auto& c : contacts) ids.push_back(c.contact_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_F(ContactServiceTest, AnEndedContactLeavesMemoryOnceItsEndIsDurable) {
  Create("live");
  Create("done");
  EXPECT_FALSE(Apply("done", Operation::kStart));
  EXPECT_EQ(service_->ResidentCount(), 2u);
  auto ended = End("done");
  ASSERT_TRUE(ended.ok());
  // Answered after the commit, by which time it is out of memory.
  EXPECT_EQ(service_->ResidentCount(), 1u);
  EXPECT_EQ(service_->LiveCount(), 1u);
  const auto found = service_->Find("done").value();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->state(), RecordingState::kEnded);
  EXPECT_EQ(found->recording.final_state, RecordingState::kRecording);
  EXPECT_EQ(found->version, ended->version);
  EXPECT_EQ(found->updated_ms, ended->updated_ms);
  EXPECT_EQ(service_->AuditTrail("done").value().back().operation, "END");
  EXPECT_EQ(Ids(service_->List({}).value().contacts), (std::vector<std::string>{"done", "live"}));
  EXPECT_EQ(
      Ids(service_->List({std::nullopt, RecordingState::kEnded, false, "", 0}).value().contacts),
      (std::vector<std::string>{"done"}));
  EXPECT_EQ(
      Ids(service_->List({std::string("alice"), std::nullopt, false, "", 0}).value().contacts),
      (std::vector<std::string>{"done", "live"}));
  EXPECT_TRUE(service_->List({std::string("bob"), RecordingState::kEnded, false, "", 0})
                  .value()
                  .contacts.empty());
  EXPECT_EQ(Ids(service_->List({std::nullopt, std::nullopt, true, "", 0}).value().contacts),
            (std::vector<std::string>{"live"}));
  auto counts = service_->CountByState();
  EXPECT_EQ(counts[RecordingState::kEnded], 1u);
  EXPECT_EQ(counts[RecordingState::kNotStarted], 1u);
}

TEST_F(ContactServiceTest, OperationsOnAnEvictedContactAnswerAndAuditAsBefore) {
  Create("c1");
  EXPECT_FALSE(Apply("c1", Operation::kStart));
  ASSERT_TRUE(End("c1").ok());
  ASSERT_EQ(service_->ResidentCount(), 0u);

  auto refused = Apply("c1", Operation::kPause);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, ControlError::Kind::kInvalidRequest);
  EXPECT_NE(refused->message.find("the contact has ended"), std::string::npos);
  auto mismatched = Apply("c1", Operation::kStop, core::Track::kAll, "other");
  ASSERT_TRUE(mismatched);
  EXPECT_EQ(mismatched->kind, ControlError::Kind::kInvalidParameter);
  auto again = End("c1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), RecordingState::kEnded);
  EXPECT_EQ(service_->ResidentCount(), 0u);  // held for its write, then evicted again

  const auto trail = service_->AuditTrail("c1").value();
  ASSERT_EQ(trail.size(), 6u);
  EXPECT_EQ(trail[3].result, "InvalidRequestException");
  EXPECT_EQ(trail[4].result, "InvalidParameterException");
  EXPECT_EQ(trail[5].operation, "END");
  EXPECT_EQ(trail[5].result, "UNCHANGED");
  EXPECT_EQ(trail[5].detail, "ENDED recording=RECORDING");

  // A retried create with the same identity gets the ended contact; another identity conflicts.
  auto retried = TryCreate("c1");
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->state(), RecordingState::kEnded);
  auto other = TryCreate("c1", true, "bob");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ControlError::Kind::kConflict);

  // Unknown contacts and instances are still not found.
  auto missing = Apply("nope", Operation::kStart);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->kind, ControlError::Kind::kNotFound);
  OperationRequest wrong{"other", "c1", "c1", Operation::kStart, core::Track::kAll, "p"};
  std::promise<std::optional<ControlError>> done;
  service_->Apply(wrong, [&](auto error) { done.set_value(error); });
  auto wrong_instance = done.get_future().get();
  ASSERT_TRUE(wrong_instance);
  EXPECT_EQ(wrong_instance->kind, ControlError::Kind::kNotFound);
  EXPECT_EQ(service_->ResidentCount(), 0u);
}

TEST_F(ContactServiceTest, AnEvictedContactCanStillBeRenamedDurably) {
  Create("c1", /*agent_joined=*/false);
  ASSERT_TRUE(End("c1").ok());
  std::promise<std::optional<ControlError>> joined;
  service_->AgentJoined(
      "c1", "sip", [&](auto error) { joined.set_value(error); }, "agent-9");
  EXPECT_FALSE(joined.get_future().get());
  EXPECT_EQ(service_->ResidentCount(), 0u);
  EXPECT_EQ(service_->Find("c1").value()->agent_id, "agent-9");
  EXPECT_TRUE(service_->Find("c1").value()->recording.agent_joined);
  // Nothing to change: answered without a write, and not kept in memory.
  std::promise<std::optional<ControlError>> unchanged;
  service_->AgentJoined("c1", "sip", [&](auto error) { unchanged.set_value(error); });
  EXPECT_FALSE(unchanged.get_future().get());
  EXPECT_EQ(service_->ResidentCount(), 0u);
  Close();
  Open();
  EXPECT_EQ(service_->Find("c1").value()->agent_id, "agent-9");
}

TEST_F(ContactServiceTest, ARestartLoadsOnlyLiveContactsAndCountsTheEnded) {
  Create("a");
  Create("b");
  Create("c");
  ASSERT_TRUE(End("a").ok());
  ASSERT_TRUE(End("b").ok());
  Close();
  Open();
  EXPECT_EQ(service_->ResidentCount(), 1u);
  EXPECT_EQ(service_->LiveCount(), 1u);
  EXPECT_EQ(service_->CountByState()[RecordingState::kEnded], 2u);
  EXPECT_EQ(StateOf("a"), RecordingState::kEnded);
  EXPECT_EQ(service_->List({}).value().contacts.size(), 3u);
  // Admitted for an operation and evicted again: the count does not drift.
  EXPECT_TRUE(Apply("a", Operation::kStart));
  EXPECT_EQ(service_->CountByState()[RecordingState::kEnded], 2u);
  EXPECT_TRUE(SettleAfterRestart(*service_, [] {}).ended.empty());
}

TEST_F(ContactServiceTest, MaxContactsRefusesNewContactsUntilOneEnds) {
  Close();
  Open(/*max_live_contacts=*/2);
  Create("a");
  Create("b");
  auto refused = TryCreate("c");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ControlError::Kind::kLimitReached);
  EXPECT_NE(refused.error().message.find("--max-contacts"), std::string::npos);
  EXPECT_NE(refused.error().message.find("2"), std::string::npos);
  EXPECT_EQ(service_->RefusedAtLimit(), 1u);
  EXPECT_FALSE(service_->Find("c").value());
  EXPECT_TRUE(service_->AuditTrail("c").value().empty());
  // A retried create of a contact that exists is not a new contact.
  EXPECT_TRUE(TryCreate("a").ok());
  ASSERT_TRUE(End("a").ok());
  EXPECT_EQ(service_->LiveCount(), 1u);
  EXPECT_TRUE(TryCreate("c").ok());
  EXPECT_FALSE(TryCreate("d").ok());
  EXPECT_EQ(service_->RefusedAtLimit(), 2u);
  // The limit holds across a restart: live contacts are loaded and counted.
  Close();
  Open(2);
  EXPECT_EQ(service_->LiveCount(), 2u);
  EXPECT_FALSE(TryCreate("d").ok());
}

TEST_F(ContactServiceTest, AFailedEndKeepsTheContactLiveAndInMemory) {
  Close();
  Open(/*max_live_contacts=*/1);
  Create("a");
  store_->Close();  // every later write fails
  auto failed = End("a");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ControlError::Kind::kInternal);
  EXPECT_EQ(StateOf("a"), RecordingState::kNotStarted);
  EXPECT_EQ(service_->ResidentCount(), 1u);
  EXPECT_EQ(service_->LiveCount(), 1u);
}

// Many contacts created, operated on, ended and asked about from several
// threads at once: every answer is consistent and memory ends with none.
TEST_F(ContactServiceTest, ConcurrentEndsAndReadsLeaveNothingResident) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    while (reading) {
      const auto listed = service_->List({std::nullopt, RecordingState::kEnded, false, "", 0});
      for (const auto& contact : listed.value().contacts) {
        if (contact.state() != RecordingState::kEnded) failures++;
      }
      if (auto c = service_->Find("t0-0").value(); c && c->contact_id != "t0-0") failures++;
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!TryCreate(id).ok()) failures++;
        if (Apply(id, Operation::kStart)) failures++;
        if (!End(id).ok()) failures++;
        if (!Apply(id, Operation::kPause)) failures++;  // refused: it has ended
        if (!End(id).ok()) failures++;
        if (!service_->Find(id).value() ||
            service_->Find(id).value()->state() != RecordingState::kEnded) {
          failures++;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  reading = false;
  reader.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(service_->ResidentCount(), 0u);
  EXPECT_EQ(service_->LiveCount(), 0u);
  EXPECT_EQ(service_->CountByState()[RecordingState::kEnded],
            static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(service_->List({}).value().contacts.size(),
            static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(service_->AuditTrail("t3-7").value().size(), 5u);
}

}  // namespace
}  // namespace callrec::control
