// Reads that serve requests fail alone: a row this build cannot read or a
// damaged page is a ReadError for that read (counted), never an exception, and
// the rest of the database reads as before.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "store/SqliteContactStore.hpp"

namespace callrec::store {
namespace {

using core::RecordingState;

class ReadErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callrec-store-read-errors-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::make_unique<SqliteContactStore>(dir_ / "callrec.db");
  }
  void TearDown() override {
    store_->Close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static core::Contact Ended(const std::string& id) {
    core::Contact contact;
    contact.instance_id = "local";
    contact.contact_id = id;
    contact.initial_contact_id = id;
    contact.agent_id = "alice";
    contact.codec = "PCMU";
    contact.recording.state = RecordingState::kEnded;
    contact.recording.final_state = RecordingState::kStopped;
    contact.version = 3;
    return contact;
  }

  void Write(ContactWrite write) {
    std::promise<bool> done;
    ASSERT_TRUE(
        store_->Write(std::move(write), [&](bool ok, const std::string&) { done.set_value(ok); }));
    ASSERT_TRUE(done.get_future().get());
  }

  // Another connection, as an operator's sqlite3 shell would be.
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  int RootPage(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = ?1", -1, &statement,
                       nullptr);
    sqlite3_bind_text(statement, 1, table.c_str(), -1, SQLITE_TRANSIENT);
    const int page = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int(statement, 0) : 0;
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return page;
  }

  // Overwrites a page of the database file, as a failing disk returns garbage.
  void Damage(int page) {
    ASSERT_GT(page, 1);
    std::fstream file(dir_ / "callrec.db", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(page - 1) * 4096);
    const std::string garbage(4096, '\xAB');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    ASSERT_TRUE(file.good());
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteContactStore> store_;
};

TEST_F(ReadErrorsTest, UnreadableRowFailsTheReadsThatMeetIt) {
  Write({Ended("bad"), std::nullopt});
  Write({Ended("good"), std::nullopt});
  Exec("UPDATE contacts SET final_state = 'BOGUS' WHERE contact_id = 'bad'");

  auto bad = store_->LoadContact("bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown state"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(store_->LoadEndedContacts(std::nullopt, "", 0).ok());
  EXPECT_EQ(store_->Stats().read_failures, 2u);

  // What does not meet the row reads as before.
  auto good = store_->LoadContact("good");
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good.value());
  EXPECT_EQ(good.value()->contact_id, "good");
  auto after = store_->LoadEndedContacts(std::nullopt, "bad", 0);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().contact_id, "good");
  EXPECT_EQ(store_->Stats().read_failures, 2u);
}

TEST_F(ReadErrorsTest, DamagedPagesAreReadErrors) {
  Write({Ended("c1"), core::AuditEntry{"c1", 10, "CREATE", "admin", "OK", "NOT_STARTED"},
         RecordingSummary{"c1", "/r/c1.wav", 50}});
  // Everything into the database file, then damage the trail's and the
  // recordings' pages (the store has not read them: nothing is cached).
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  Damage(RootPage("recordings"));
  Damage(RootPage("audit"));

  auto recording = store_->LoadRecording("c1");
  ASSERT_FALSE(recording.ok());
  EXPECT_NE(recording.error().message.find("malformed"), std::string::npos)
      << recording.error().message;
  auto trail = store_->LoadAuditTrail("c1");
  ASSERT_FALSE(trail.ok());
  EXPECT_NE(trail.error().message.find("malformed"), std::string::npos) << trail.error().message;
  EXPECT_EQ(store_->Stats().read_failures, 2u);
  // The contacts table is whole.
  auto contact = store_->LoadContact("c1");
  ASSERT_TRUE(contact.ok()) << contact.error().message;
  EXPECT_TRUE(contact.value());
}

}  // namespace
}  // namespace callrec::store
