#include "store/SqliteContactStore.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <fstream>
#include <future>

#include "store/DataDirLock.hpp"
#include "store/SqliteSchema.hpp"

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

  // Runs SQL on the database file through a connection of the test's own.
  void ExecRaw(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  // The first column of the first row, as text ("" if none).
  std::string QueryRaw(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
  }

  static core::AuditEntry Audit(const std::string& id, std::int64_t at, const std::string& op) {
    return core::AuditEntry{id, at, op, "AKID", "OK", "detail-" + std::to_string(at)};
  }

  static std::vector<std::string> Operations(const std::vector<core::AuditEntry>& trail) {
    std::vector<std::string> out;
    for (const auto& entry : trail)
      out.push_back(entry.operation + "@" + std::to_string(entry.at_ms));
    return out;
  }

  std::filesystem::path dir_;
};

using Ops = std::vector<std::string>;

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
  const auto trail = reopened.LoadAuditTrail("c1").value();
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].operation, "PAUSE");
  EXPECT_EQ(trail[1].result, "InvalidRequestException");
  EXPECT_TRUE(reopened.LoadAuditTrail("other").value().empty());
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
  EXPECT_EQ(store.LoadAuditTrail("c7").value().size(), 20u);
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

// PRAGMA quick_check reports damage as rows, not as an error: a damaged page
// must still stop the start, and the file must be left as it was.
TEST_F(SqliteContactStoreTest, DamagedPageIsRefusedAndTheFileLeftAsItWas) {
  {
    SqliteContactStore store(dir_ / "callrec.db");
    for (int i = 0; i < 50; ++i) {
      const std::string id = "c" + std::to_string(i);
      ASSERT_TRUE(WriteAndWait(
          store, {MakeContact(id, core::RecordingState::kRecording), Audit(id, i, "START")}));
    }
  }
  auto read = [this] {
    std::ifstream in(dir_ / "callrec.db", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string bytes = read();
  ASSERT_GT(bytes.size(), 3u * 4096u);
  // Page 2's B-tree header and cell pointers.
  for (std::size_t i = 4096; i < 4096 + 64; ++i) bytes[i] = static_cast<char>(0xA5 ^ i);
  {
    std::ofstream out(dir_ / "callrec.db", std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  try {
    SqliteContactStore store(dir_ / "callrec.db");
    FAIL() << "a damaged database was opened";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find((dir_ / "callrec.db").string()), std::string::npos) << message;
    EXPECT_NE(message.find("integrity"), std::string::npos) << message;
  }
  EXPECT_EQ(read(), bytes);
}

// Another process holding the write lock (a backup, an sqlite3 shell) would make
// every commit fail after the busy timeout: the start is refused instead.
TEST_F(SqliteContactStoreTest, DatabaseLockedByAnotherConnectionIsRefused) {
  { SqliteContactStore create(dir_ / "callrec.db"); }
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    SqliteContactStore store(dir_ / "callrec.db");
    ADD_FAILURE() << "a locked database was opened";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("locked by another process"), std::string::npos)
        << error.what();
  }
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  SqliteContactStore reopened(dir_ / "callrec.db");
}

TEST_F(SqliteContactStoreTest, InterleavedTrailsStayApartAndInOrder) {
  {
    SqliteContactStore store(dir_ / "callrec.db");
    // Concurrent writes (several share a commit) for three contacts, interleaved,
    // with and without a contact row change, the last one audited under another id.
    std::vector<std::future<bool>> done;
    for (int i = 0; i < 300; ++i) {
      const std::string id = "c" + std::to_string(i % 3);
      ContactWrite write;
      if (i % 2 == 0) write.contact = MakeContact(id, core::RecordingState::kPaused);
      write.audit = Audit(id, i, i % 2 ? "RESUME" : "PAUSE");
      auto promise = std::make_shared<std::promise<bool>>();
      done.push_back(promise->get_future());
      ASSERT_TRUE(store.Write(std::move(write),
                              [promise](bool ok, const std::string&) { promise->set_value(ok); }));
    }
    for (auto& future : done) ASSERT_TRUE(future.get());
    EXPECT_TRUE(WriteAndWait(
        store, {MakeContact("c0", core::RecordingState::kRecording), Audit("c1", 1000, "END")}));
    EXPECT_LT(store.Stats().commits, 301u);
  }
  SqliteContactStore reopened(dir_ / "callrec.db");
  for (int c = 0; c < 3; ++c) {
    Ops expected;
    for (int i = c; i < 300; i += 3) {
      expected.push_back(std::string(i % 2 ? "RESUME" : "PAUSE") + "@" + std::to_string(i));
    }
    if (c == 1) expected.push_back("END@1000");
    const auto trail = reopened.LoadAuditTrail("c" + std::to_string(c)).value();
    EXPECT_EQ(Operations(trail), expected) << "c" << c;
    for (const auto& entry : trail) EXPECT_EQ(entry.contact_id, "c" + std::to_string(c));
  }
  // No per-contact index: the trail is found through the contact's row.
  EXPECT_EQ(QueryRaw("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                     "tbl_name = 'audit'"),
            "0");
}

TEST_F(SqliteContactStoreTest, TrailOfAContactWithoutARowIsKeptAndJoinsItsRowLater) {
  {
    SqliteContactStore store(dir_ / "callrec.db");
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("early", 1, "PAUSE")}));
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("early", 2, "RESUME")}));
    EXPECT_EQ(Operations(store.LoadAuditTrail("early").value()), (Ops{"PAUSE@1", "RESUME@2"}));
  }
  {
    SqliteContactStore store(dir_ / "callrec.db");
    EXPECT_TRUE(store.LoadContacts().empty());
    ASSERT_TRUE(WriteAndWait(store, {MakeContact("early", core::RecordingState::kNotStarted),
                                     Audit("early", 3, "CREATE")}));
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("early", 4, "START")}));
  }
  SqliteContactStore reopened(dir_ / "callrec.db");
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("early").value()),
            (Ops{"PAUSE@1", "RESUME@2", "CREATE@3", "START@4"}));
  EXPECT_EQ(QueryRaw("SELECT count(*) FROM loose_trails"), "0");
}

TEST_F(SqliteContactStoreTest, FailedCommitLeavesTrailsLinkedToWhatIsDurable) {
  { SqliteContactStore create(dir_ / "callrec.db"); }
  // Fails the contact update after the same write's audit row was inserted, so the
  // whole transaction, that row included, is rolled back.
  ExecRaw(
      "CREATE TRIGGER refuse BEFORE UPDATE ON contacts WHEN NEW.agent_id = 'refused' "
      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
  SqliteContactStore store(dir_ / "callrec.db");
  core::Contact contact = MakeContact("c1", core::RecordingState::kRecording);
  ASSERT_TRUE(WriteAndWait(store, {contact, Audit("c1", 1, "START")}));
  core::Contact refused = contact;
  refused.agent_id = "refused";
  EXPECT_FALSE(WriteAndWait(store, {refused, Audit("c1", 2, "PAUSE")}));
  EXPECT_EQ(store.Stats().failures, 1u);
  EXPECT_TRUE(store.Stats().failing);  // failing now: /healthz says degraded
  ASSERT_TRUE(WriteAndWait(store, {contact, Audit("c1", 3, "PAUSE")}));
  EXPECT_FALSE(store.Stats().failing);  // a commit that succeeds ends it
  EXPECT_NE(store.Stats().last_error.find("refused by the test"), std::string::npos);
  ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("c1", 4, "RESUME")}));
  EXPECT_EQ(Operations(store.LoadAuditTrail("c1").value()),
            (Ops{"START@1", "PAUSE@3", "RESUME@4"}));
}

TEST_F(SqliteContactStoreTest, UnversionedDatabaseIsMigrated) {
  // The layout of builds before schema versions, with rows as they wrote them.
  ExecRaw(R"sql(
    CREATE TABLE contacts(
      contact_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, initial_contact_id TEXT NOT NULL,
      agent_id TEXT NOT NULL, codec TEXT NOT NULL, state TEXT NOT NULL,
      final_state TEXT NOT NULL, track TEXT NOT NULL, agent_joined INTEGER NOT NULL,
      created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, version INTEGER NOT NULL);
    CREATE TABLE audit(
      seq INTEGER PRIMARY KEY AUTOINCREMENT, contact_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
      operation TEXT NOT NULL, principal TEXT NOT NULL, result TEXT NOT NULL,
      detail TEXT NOT NULL);
    CREATE INDEX audit_by_contact ON audit(contact_id, seq);
    INSERT INTO contacts VALUES('a', 'local', 'a', 'alice', 'PCMU', 'PAUSED', 'NOT_STARTED',
                                'ALL', 1, 10, 30, 3);
    INSERT INTO contacts VALUES('b', 'local', 'root', 'bob', 'PCMA', 'RECORDING',
                                'NOT_STARTED', 'TO_AGENT', 0, 11, 21, 2);
    INSERT INTO contacts VALUES('quiet', 'local', 'quiet', 'carol', 'PCMU', 'NOT_STARTED',
                                'NOT_STARTED', 'NONE', 0, 12, 12, 1);
    INSERT INTO audit(contact_id, at_ms, operation, principal, result, detail) VALUES
      ('a', 10, 'CREATE', 'admin', 'OK', 'NOT_STARTED'),
      ('b', 11, 'CREATE', 'admin', 'OK', 'NOT_STARTED'),
      ('a', 20, 'START', 'AKID', 'OK', 'RECORDING track=ALL'),
      ('gone', 5, 'PAUSE', 'AKID', 'OK', 'PAUSED'),
      ('b', 21, 'START', 'AKID', 'OK', 'RECORDING track=TO_AGENT'),
      ('a', 30, 'PAUSE', 'AKID', 'OK', 'PAUSED'),
      ('a', 31, 'PAUSE', 'AKID', 'UNCHANGED', 'PAUSED');
  )sql");
  {
    SqliteContactStore store(dir_ / "callrec.db");
    EXPECT_EQ(QueryRaw("PRAGMA user_version"), std::to_string(kSchemaVersion));
    EXPECT_EQ(QueryRaw("SELECT count(*) FROM sqlite_master WHERE name = 'audit_by_contact'"), "0");
    const auto contacts = store.LoadContacts();
    ASSERT_EQ(contacts.size(), 3u);
    EXPECT_EQ(Operations(store.LoadAuditTrail("a").value()),
              (Ops{"CREATE@10", "START@20", "PAUSE@30", "PAUSE@31"}));
    const auto b = store.LoadAuditTrail("b").value();
    EXPECT_EQ(Operations(b), (Ops{"CREATE@11", "START@21"}));
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[1].detail, "RECORDING track=TO_AGENT");
    EXPECT_EQ(b[1].principal, "AKID");
    EXPECT_EQ(Operations(store.LoadAuditTrail("gone").value()), (Ops{"PAUSE@5"}));
    EXPECT_TRUE(store.LoadAuditTrail("quiet").value().empty());
    // New rows continue the migrated trails, after the highest old sequence number.
    core::Contact a = contacts[0].contact_id == "a" ? contacts[0] : contacts[1];
    ASSERT_EQ(a.contact_id, "a");
    a.recording.state = core::RecordingState::kRecording;
    a.version += 1;
    ASSERT_TRUE(WriteAndWait(store, {a, Audit("a", 40, "RESUME")}));
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("quiet", 41, "END")}));
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("gone", 42, "END")}));
  }
  SqliteContactStore reopened(dir_ / "callrec.db");
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("a").value()),
            (Ops{"CREATE@10", "START@20", "PAUSE@30", "PAUSE@31", "RESUME@40"}));
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("quiet").value()), (Ops{"END@41"}));
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("gone").value()), (Ops{"PAUSE@5", "END@42"}));
  EXPECT_EQ(QueryRaw("SELECT max(seq) FROM audit"), "10");
  for (const auto& c : reopened.LoadContacts()) {
    if (c.contact_id == "a") {
      EXPECT_EQ(c.recording.state, core::RecordingState::kRecording);
    } else if (c.contact_id == "b") {
      EXPECT_EQ(c.recording.track, core::Track::kToAgent);
      EXPECT_EQ(c.initial_contact_id, "root");
    }
  }
}

TEST_F(SqliteContactStoreTest, NewerSchemaIsRefusedWithAClearMessage) {
  { SqliteContactStore create(dir_ / "callrec.db"); }
  ExecRaw("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  try {
    SqliteContactStore store(dir_ / "callrec.db");
    FAIL() << "a database of a newer schema was opened";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("schema version " + std::to_string(kSchemaVersion + 1)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("callrec.db"), std::string::npos) << message;
  }
}

TEST_F(SqliteContactStoreTest, DataDirLockIsExclusive) {
  DataDirLock first(dir_);
  EXPECT_THROW(DataDirLock second(dir_), std::runtime_error);
}

}  // namespace
}  // namespace callrec::store
