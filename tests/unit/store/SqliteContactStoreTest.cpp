#include "store/SqliteContactStore.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "store/DataDirLock.hpp"

namespace callrec::store {
namespace {

class SqliteContactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callrec-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static core::Contact MakeContact(const std::string& id, core::RecordingState state) {
    core::Contact contact;
    contact.instance_id = "local";
    contact.contact_id = id;
    contact.initial_contact_id = "initial-" + id;
    contact.agent_id = "alice";
    contact.codec = "PCMA";
    contact.recording.state = state;
    contact.recording.track = core::Track::kFromAgent;
    contact.recording.agent_joined = false;
    contact.created_ms = 1000;
    contact.updated_ms = 2000;
    contact.version = 3;
    return contact;
  }

  // Writes and waits until the store reports the write durable.
  static bool WriteAndWait(ContactStore& store, ContactWrite write) {
    std::promise<bool> done;
    if (!store.Write(std::move(write), [&](bool ok, const std::string&) { done.set_value(ok); })) {
      return false;
    }
    return done.get_future().get();
  }

  std::filesystem::path dir_;
};

TEST_F(SqliteContactStoreTest, ContactsAndAuditTrailSurviveReopening) {
  {
    SqliteContactStore store(dir_ / "callrec.db");
    ASSERT_TRUE(
        WriteAndWait(store, {MakeContact("c1", core::RecordingState::kPaused),
                             core::AuditEntry{"c1", 1500, "PAUSE", "AKID", "OK", "PAUSED"}}));
    ASSERT_TRUE(WriteAndWait(
        store, {std::nullopt,
                core::AuditEntry{"c1", 1600, "START", "AKID", "InvalidRequestException", "no"}}));
  }
  SqliteContactStore reopened(dir_ / "callrec.db");
  const auto contacts = reopened.LoadContacts();
  ASSERT_EQ(contacts.size(), 1u);
  const core::Contact& c = contacts.front();
  EXPECT_EQ(c.contact_id, "c1");
  EXPECT_EQ(c.initial_contact_id, "initial-c1");
  EXPECT_EQ(c.codec, "PCMA");
  EXPECT_EQ(c.recording.state, core::RecordingState::kPaused);
  EXPECT_EQ(c.recording.track, core::Track::kFromAgent);
  EXPECT_FALSE(c.recording.agent_joined);
  EXPECT_EQ(c.version, 3);
  const auto trail = reopened.LoadAuditTrail("c1");
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].operation, "PAUSE");
  EXPECT_EQ(trail[1].result, "InvalidRequestException");
  EXPECT_TRUE(reopened.LoadAuditTrail("other").empty());
}

TEST_F(SqliteContactStoreTest, LaterWritesOfAContactReplaceItsState) {
  SqliteContactStore store(dir_ / "callrec.db");
  core::Contact contact = MakeContact("c1", core::RecordingState::kRecording);
  ASSERT_TRUE(WriteAndWait(store, {contact, std::nullopt}));
  contact.recording.state = core::RecordingState::kEnded;
  contact.recording.final_state = core::RecordingState::kStopped;
  ASSERT_TRUE(WriteAndWait(store, {contact, std::nullopt}));
  const auto contacts = store.LoadContacts();
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].recording.state, core::RecordingState::kEnded);
  EXPECT_EQ(contacts[0].recording.final_state, core::RecordingState::kStopped);
}

TEST_F(SqliteContactStoreTest, ConcurrentWritesAreGroupCommitted) {
  SqliteContactStore store(dir_ / "callrec.db");
  constexpr int kWrites = 2000;
  std::atomic<int> done{0};
  std::promise<void> all;
  for (int i = 0; i < kWrites; ++i) {
    store.Write({MakeContact("c" + std::to_string(i % 100), core::RecordingState::kRecording),
                 core::AuditEntry{"c" + std::to_string(i % 100), i, "START", "p", "OK", ""}},
                [&](bool ok, const std::string&) {
                  EXPECT_TRUE(ok);
                  if (++done == kWrites) all.set_value();
                });
  }
  all.get_future().wait();
  const StoreStats stats = store.Stats();
  EXPECT_EQ(stats.writes, static_cast<std::uint64_t>(kWrites));
  EXPECT_LT(stats.commits, stats.writes);  // several writes share one commit
  EXPECT_EQ(store.LoadContacts().size(), 100u);
  EXPECT_EQ(store.LoadAuditTrail("c7").size(), 20u);
}

TEST_F(SqliteContactStoreTest, ClosedStoreRefusesWrites) {
  SqliteContactStore store(dir_ / "callrec.db");
  store.Close();
  bool called = false;
  EXPECT_FALSE(store.Write({MakeContact("c1", core::RecordingState::kRecording), {}},
                           [&](bool, const std::string&) { called = true; }));
  EXPECT_FALSE(called);
}

TEST_F(SqliteContactStoreTest, CorruptDatabaseIsRefusedWithAClearMessage) {
  {
    std::ofstream out(dir_ / "callrec.db");
    out << std::string(8192, 'x');
  }
  try {
    SqliteContactStore store(dir_ / "callrec.db");
    FAIL() << "a corrupt database was opened";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("callrec.db"), std::string::npos) << error.what();
  }
}

TEST_F(SqliteContactStoreTest, DataDirLockIsExclusive) {
  DataDirLock first(dir_);
  EXPECT_THROW(DataDirLock second(dir_), std::runtime_error);
}

}  // namespace
}  // namespace callrec::store
