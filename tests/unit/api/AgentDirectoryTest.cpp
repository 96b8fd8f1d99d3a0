#include "api/AgentDirectory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

namespace callrec::api {
namespace {

namespace fs = std::filesystem;

class AgentDirectoryTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("callrec-agents-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

// A save that fails (here: the directory is gone, as a disk that refuses the
// write would do) issues nothing and changes nothing: the earlier token still
// works, and the error names the file and the cause.
TEST_F(AgentDirectoryTest, FailedSaveLeavesTheTokensAsTheyWere) {
  AgentDirectory agents(dir_ / "agents.json");
  auto first = agents.Issue("agent-1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(agents.AgentFor(first.value()), "agent-1");

  fs::remove_all(dir_);
  auto refused = agents.Issue("agent-1");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("agents.json.tmp"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("No such file or directory"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(agents.AgentFor(first.value()), "agent-1") << "the earlier token was revoked";
  auto other = agents.Issue("agent-2");
  EXPECT_FALSE(other.ok()) << "a token issued that is not on disk";

  // Space (here: the directory) back: the same request succeeds, no restart.
  fs::create_directories(dir_);
  auto second = agents.Issue("agent-1");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(agents.AgentFor(second.value()), "agent-1");
  EXPECT_EQ(agents.AgentFor(first.value()), std::nullopt) << "the replaced token still works";
  EXPECT_FALSE(fs::exists(dir_ / "agents.json.tmp"));

  // What is on disk is what is in memory.
  AgentDirectory reloaded(dir_ / "agents.json");
  EXPECT_EQ(reloaded.AgentFor(second.value()), "agent-1");
  EXPECT_EQ(reloaded.AgentFor(first.value()), std::nullopt);
}

TEST_F(AgentDirectoryTest, UnwritablePathIsAnErrorNotAnException) {
  // A file where the directory should be: ENOTDIR on every write.
  const fs::path blocker = dir_ / "not-a-directory";
  {
    std::FILE* f = std::fopen(blocker.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  AgentDirectory agents(blocker / "agents.json");
  agents.Configure("agent-9", "configured-token");
  auto issued = agents.Issue("agent-9");
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("Not a directory"), std::string::npos)
      << issued.error().message;
  EXPECT_EQ(agents.AgentFor("configured-token"), "agent-9");
}

// A supervisor's role is issued with the token, kept on disk, and dropped
// when the agent is issued a plain agent token again.
TEST_F(AgentDirectoryTest, SupervisorRoleIsKeptWithTheToken) {
  using Role = AgentDirectory::Role;
  AgentDirectory agents(dir_ / "agents.json");
  auto sue = agents.Issue("sue", Role::kSupervisor);
  auto al = agents.Issue("al");
  ASSERT_TRUE(sue.ok() && al.ok());
  EXPECT_EQ(agents.Identify(sue.value())->role, Role::kSupervisor);
  EXPECT_EQ(agents.Identify(al.value())->role, Role::kAgent);
  EXPECT_EQ(agents.Identify("nonsense"), std::nullopt);
  AgentDirectory reloaded(dir_ / "agents.json");
  EXPECT_EQ(reloaded.Identify(sue.value())->agent_id, "sue");
  EXPECT_EQ(reloaded.Identify(sue.value())->role, Role::kSupervisor);
  // A configured token of the same agent is an agent's.
  reloaded.Configure("sue", "configured-token");
  EXPECT_EQ(reloaded.Identify("configured-token")->role, Role::kAgent);
  auto demoted = reloaded.Issue("sue");
  ASSERT_TRUE(demoted.ok());
  EXPECT_EQ(reloaded.Identify(demoted.value())->role, Role::kAgent);
  EXPECT_EQ(AgentDirectory(dir_ / "agents.json").Identify(demoted.value())->role, Role::kAgent);
}

// The shared store of servers on one PostgreSQL, in memory: digests by agent.
class FakeAgentStore : public store::AgentStore {
 public:
  store::ReadResult<std::optional<store::AgentRecord>> FindAgent(std::string_view digest) override {
    ++finds;
    if (failing) return store::ReadError{"down"};
    for (const auto& [agent, record] : records) {
      if (record.digest == digest) return std::optional<store::AgentRecord>(record);
    }
    return std::optional<store::AgentRecord>();
  }
  std::string SaveAgent(const store::AgentRecord& record) override {
    if (failing) return "down";
    records[record.agent_id] = record;
    return "";
  }
  std::map<std::string, store::AgentRecord> records;
  bool failing = false;
  int finds = 0;
};

// Two servers sharing one store: a token issued on one signs in on the other;
// replaced on one, it stops working on the other once that one asks again
// (kRecheck), and at once on the one that replaced it.
TEST_F(AgentDirectoryTest, SharedStoreSignsInOnEveryServer) {
  FakeAgentStore shared;
  auto now = std::chrono::steady_clock::time_point{};
  auto clock = [&now] { return now; };
  AgentDirectory a(dir_ / "a.json", &shared, clock);
  AgentDirectory b(dir_ / "b.json", &shared, clock);
  auto issued = a.Issue("alice", AgentDirectory::Role::kSupervisor);
  ASSERT_TRUE(issued.ok());
  auto seen = b.Identify(issued.value());
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->agent_id, "alice");
  EXPECT_EQ(seen->role, AgentDirectory::Role::kSupervisor);
  EXPECT_FALSE(fs::exists(dir_ / "a.json"));  // in the shared store, not the file
  const int finds = shared.finds;
  EXPECT_TRUE(b.Identify(issued.value()).has_value());
  EXPECT_EQ(shared.finds, finds);  // seen lately: not asked again

  auto replaced = a.Issue("alice");
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(a.Identify(issued.value()).has_value());
  EXPECT_TRUE(b.Identify(issued.value()).has_value());  // within kRecheck
  now += AgentDirectory::kRecheck;
  EXPECT_FALSE(b.Identify(issued.value()).has_value());
  EXPECT_EQ(b.AgentFor(replaced.value()), "alice");
  EXPECT_FALSE(b.Identify("nonsense").has_value());

  // A store that cannot answer signs nobody in by its tokens, and issues none.
  shared.failing = true;
  now += AgentDirectory::kRecheck;
  EXPECT_FALSE(b.Identify(replaced.value()).has_value());
  EXPECT_FALSE(a.Issue("bob").ok());
  // Configured tokens do not depend on it.
  b.Configure("carol", "carol-token");
  EXPECT_EQ(b.AgentFor("carol-token"), "carol");
}

}  // namespace
}  // namespace callrec::api
