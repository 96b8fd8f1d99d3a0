// What the store gives back once ended contacts are no longer held in memory:
// contacts one by one or by agent, recording summaries, trails that go on after
// the writer has forgotten an ended contact's head, the version 3 layout, and
// version 4's upload queue.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <memory>
#include <tuple>

#include "store/SqliteContactStore.hpp"
#include "store/SqliteSchema.hpp"

namespace callrec::store {
namespace {

using core::RecordingState;

class EndedContactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callrec-store-ended-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static core::Contact Contact(const std::string& id, RecordingState state,
                               const std::string& agent = "alice") {
    core::Contact contact;
    contact.instance_id = "local";
    contact.contact_id = id;
    contact.initial_contact_id = id;
    contact.agent_id = agent;
    contact.codec = "PCMU";
    contact.recording.state = state;
    contact.recording.final_state =
        state == RecordingState::kEnded ? RecordingState::kPaused : RecordingState::kNotStarted;
    contact.recording.track = core::Track::kAll;
    contact.created_ms = 1000;
    contact.updated_ms = 2000;
    contact.version = 2;
    return contact;
  }

  static core::AuditEntry Audit(const std::string& id, std::int64_t at, const std::string& op) {
    return core::AuditEntry{id, at, op, "AKID", "OK", "d"};
  }

  static bool WriteAndWait(ContactStore& store, ContactWrite write) {
    std::promise<bool> done;
    if (!store.Write(std::move(write), [&](bool ok, const std::string&) { done.set_value(ok); })) {
      return false;
    }
    return done.get_future().get();
  }

  static std::vector<std::string> Ids(std::vector<core::Contact> contacts) {
    std::vector<std::string> ids;
    for (const auto& c : contacts) ids.push_back(c.contact_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static std::vector<std::string> Operations(const std::vector<core::AuditEntry>& trail) {
    std::vector<std::string> out;
    for (const auto& entry : trail)
      out.push_back(entry.operation + "@" + std::to_string(entry.at_ms));
    return out;
  }

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

  int SchemaVersionOf() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &db), SQLITE_OK);
    const int version = SchemaVersion(db);
    sqlite3_close(db);
    return version;
  }

  std::filesystem::path dir_;
};

using Names = std::vector<std::string>;

TEST_F(EndedContactsTest, ContactsAreReadOneByOneLiveOrEndedByAgent) {
  SqliteContactStore store(dir_ / "callrec.db");
  ASSERT_TRUE(WriteAndWait(store, {Contact("live", RecordingState::kRecording), std::nullopt}));
  ASSERT_TRUE(WriteAndWait(store, {Contact("a1", RecordingState::kEnded), std::nullopt}));
  ASSERT_TRUE(WriteAndWait(store, {Contact("b1", RecordingState::kEnded, "bob"), std::nullopt}));
  ASSERT_TRUE(WriteAndWait(store, {Contact("a2", RecordingState::kPaused), std::nullopt}));
  core::Contact ending = Contact("a2", RecordingState::kEnded);
  ending.version = 3;
  ASSERT_TRUE(WriteAndWait(store, {ending, std::nullopt}));

  EXPECT_EQ(Ids(store.LoadLiveContacts()), (Names{"live"}));
  EXPECT_EQ(Ids(store.LoadEndedContacts(std::nullopt, "", 0).value()), (Names{"a1", "a2", "b1"}));
  EXPECT_EQ(Ids(store.LoadEndedContacts(std::string("alice"), "", 0).value()), (Names{"a1", "a2"}));
  EXPECT_TRUE(store.LoadEndedContacts(std::string("carol"), "", 0).value().empty());
  EXPECT_EQ(store.CountEndedContacts(), 3u);
  const auto a2 = store.LoadContact("a2").value();
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->recording.state, RecordingState::kEnded);
  EXPECT_EQ(a2->recording.final_state, RecordingState::kPaused);
  EXPECT_EQ(a2->version, 3);
  EXPECT_EQ(a2->agent_id, "alice");
  EXPECT_FALSE(store.LoadContact("nobody").value());
}

TEST_F(EndedContactsTest, RecordingSummariesSurviveReopening) {
  RecordingSummary summary{"c1", "/data/recordings/2024/01/02/c1/c1.wav", 1500, 3, 2, 40, 1, 5,
                           96000};
  {
    SqliteContactStore store(dir_ / "callrec.db");
    ContactWrite write;
    write.recording = summary;
    ASSERT_TRUE(WriteAndWait(store, std::move(write)));
    EXPECT_EQ(store.LoadRecording("c1").value(), summary);
    EXPECT_FALSE(store.LoadRecording("c2").value());
  }
  SqliteContactStore reopened(dir_ / "callrec.db");
  EXPECT_EQ(reopened.LoadRecording("c1").value(), summary);
}

// The writer keeps trail heads of live contacts only; an ended contact's is read
// back from its row when another line comes, within a batch (the transaction's
// own writes) or after it.
TEST_F(EndedContactsTest, TrailsOfEndedContactsGoOnInOrder) {
  {
    SqliteContactStore store(dir_ / "callrec.db");
    ASSERT_TRUE(
        WriteAndWait(store, {Contact("c1", RecordingState::kRecording), Audit("c1", 1, "CREATE")}));
    ASSERT_TRUE(
        WriteAndWait(store, {Contact("c1", RecordingState::kEnded), Audit("c1", 2, "END")}));
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("c1", 3, "PAUSE")}));
    // Many at once, so that several share a commit, with another contact between.
    std::vector<std::future<bool>> done;
    for (int i = 4; i < 60; ++i) {
      const std::string id = i % 3 == 0 ? "c2" : "c1";
      auto promise = std::make_shared<std::promise<bool>>();
      done.push_back(promise->get_future());
      ContactWrite write;
      if (i % 5 == 0 && id == "c1") write.contact = Contact("c1", RecordingState::kEnded);
      write.audit = Audit(id, i, "END");
      ASSERT_TRUE(store.Write(std::move(write),
                              [promise](bool ok, const std::string&) { promise->set_value(ok); }));
    }
    for (auto& future : done) ASSERT_TRUE(future.get());
  }
  SqliteContactStore reopened(dir_ / "callrec.db");
  Names expected{"CREATE@1", "END@2", "PAUSE@3"};
  for (int i = 4; i < 60; ++i) {
    if (i % 3 != 0) expected.push_back("END@" + std::to_string(i));
  }
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("c1").value()), expected);
  EXPECT_EQ(reopened.LoadAuditTrail("c2").value().size(), 18u);  // 6, 9, ... 57
  ASSERT_TRUE(WriteAndWait(reopened, {std::nullopt, Audit("c1", 100, "START")}));
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("c1").value()).back(), "START@100");
}

TEST_F(EndedContactsTest, Version2DatabaseGainsTheRecordingsTable) {
  // Version 2 as earlier builds created it, with a contact in it.
  ExecRaw(R"sql(
    CREATE TABLE contacts(
      contact_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, initial_contact_id TEXT NOT NULL,
      agent_id TEXT NOT NULL, codec TEXT NOT NULL, state TEXT NOT NULL,
      final_state TEXT NOT NULL, track TEXT NOT NULL, agent_joined INTEGER NOT NULL,
      created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, version INTEGER NOT NULL,
      audit_head INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE audit(
      seq INTEGER PRIMARY KEY, contact_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
      operation TEXT NOT NULL, principal TEXT NOT NULL, result TEXT NOT NULL,
      detail TEXT NOT NULL, prev_seq INTEGER NOT NULL);
    CREATE TABLE loose_trails(contact_id TEXT PRIMARY KEY, audit_head INTEGER NOT NULL)
      WITHOUT ROWID;
    INSERT INTO contacts VALUES('old', 'local', 'old', 'alice', 'PCMU', 'ENDED', 'RECORDING',
                                'ALL', 1, 10, 30, 3, 2);
    INSERT INTO audit VALUES(1, 'old', 10, 'CREATE', 'admin', 'OK', 'NOT_STARTED', 0);
    INSERT INTO audit VALUES(2, 'old', 30, 'END', 'admin', 'OK', 'ENDED', 1);
    PRAGMA user_version = 2;
  )sql");
  SqliteContactStore store(dir_ / "callrec.db");
  EXPECT_EQ(SchemaVersionOf(), kSchemaVersion);
  EXPECT_EQ(kSchemaVersion, 4);
  EXPECT_EQ(Ids(store.LoadEndedContacts(std::string("alice"), "", 0).value()), (Names{"old"}));
  EXPECT_FALSE(store.LoadRecording("old").value());
  ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("old", 40, "PAUSE")}));
  EXPECT_EQ(Operations(store.LoadAuditTrail("old").value()),
            (Names{"CREATE@10", "END@30", "PAUSE@40"}));
  // Version 4's upload queue came with the migration.
  EXPECT_TRUE(store.LoadOpenUploads().value().empty());
}

// The upload queue: rows come back as written, and only those with work left
// (pending, or a local copy still to remove), oldest first, after a restart.
TEST_F(EndedContactsTest, UploadQueueKeepsOpenRowsAcrossARestart) {
  UploadRow pending;
  pending.contact_id = "b";
  pending.wav_path = "/d/b.wav";
  pending.created_ms = 20;
  pending.attempts = 3;
  pending.next_attempt_ms = 99;
  pending.upload_id = "2~mp";
  pending.bucket = "rec";
  pending.key = "p/CallRecordings/2026/12/07/b_20261207T07:30_UTC.wav";
  pending.last_error = "network: connection refused";
  UploadRow local_left = pending;
  local_left.contact_id = "a";
  local_left.created_ms = 10;
  local_left.state = "uploaded";
  local_left.etag = "\"e\"";
  local_left.bytes = 1234;
  local_left.uploaded_ms = 50;
  UploadRow done = local_left;
  done.contact_id = "c";
  done.local_done = true;
  {
    SqliteContactStore store(dir_ / "callrec.db");
    for (const UploadRow& row : {pending, local_left, done}) {
      ContactWrite write;
      write.upload = row;
      ASSERT_TRUE(WriteAndWait(store, std::move(write)));
    }
    // Queued again (a repaired file at a later start): the row already there stays.
    UploadRow again;
    again.contact_id = "b";
    again.wav_path = "/d/b.wav";
    ContactWrite write;
    write.upload = again;
    write.upload_only_if_new = true;
    ASSERT_TRUE(WriteAndWait(store, std::move(write)));
    EXPECT_EQ(store.LoadUpload("b").value(), pending);
    EXPECT_FALSE(store.LoadUpload("nobody").value());
  }
  SqliteContactStore store(dir_ / "callrec.db");
  const std::vector<UploadRow> open = store.LoadOpenUploads().value();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0], local_left);
  EXPECT_EQ(open[1], pending);
}

// The recordings list: recordings with their contact and upload rows, filtered
// on the contact's columns, in ContactId order and paged; an erased recording
// (its row rewritten with an empty path) is not listed.
TEST_F(EndedContactsTest, RecordingsAreListedWithTheirContactAndUploadPaged) {
  SqliteContactStore store(dir_ / "callrec.db");
  auto ended = [](const std::string& id, const std::string& agent, const std::string& initial) {
    core::Contact contact = Contact(id, RecordingState::kEnded, agent);
    contact.initial_contact_id = initial;
    return contact;
  };
  for (const auto& [id, agent, initial] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"r3", "alice", "i1"},
           {"r1", "alice", "i1"},
           {"r2", "bob", "i2"},
           {"r4", "bob", "i1"},
           {"r5", "alice", "i5"},
           {"no-recording", "alice", "i1"}}) {
    ContactWrite write;
    write.contact = ended(id, agent, initial);
    if (id != "no-recording") {
      RecordingSummary recording;
      recording.contact_id = id;
      recording.path = "/d/" + id + ".wav";
      recording.frames_written = 8000;
      write.recording = recording;
    }
    if (id == "r2") {
      UploadRow upload;
      upload.contact_id = id;
      upload.wav_path = "/d/r2.wav";
      upload.state = "uploaded";
      upload.bucket = "rec";
      upload.key = "p/CallRecordings/2026/12/07/r2_20261207T07:30_UTC.wav";
      write.upload = upload;
    }
    ASSERT_TRUE(WriteAndWait(store, std::move(write)));
  }
  RecordingSummary erased;
  erased.contact_id = "r5";
  ContactWrite erase;
  erase.recording = erased;
  ASSERT_TRUE(WriteAndWait(store, std::move(erase)));

  auto ids = [](const std::vector<RecordingListing>& rows) {
    Names out;
    for (const auto& row : rows) out.push_back(row.recording.contact_id);
    return out;
  };
  const auto all = store.ListRecordings({}, "", 0).value();
  EXPECT_EQ(ids(all), (Names{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(all[1].contact.agent_id, "bob");
  EXPECT_EQ(all[1].recording.path, "/d/r2.wav");
  EXPECT_EQ(all[1].recording.frames_written, 8000u);
  ASSERT_TRUE(all[1].upload);
  EXPECT_EQ(all[1].upload->bucket, "rec");
  EXPECT_FALSE(all[0].upload);

  // Pages: after the last id of the previous one.
  EXPECT_EQ(ids(store.ListRecordings({}, "", 3).value()), (Names{"r1", "r2", "r3"}));
  EXPECT_EQ(ids(store.ListRecordings({}, "r3", 3).value()), (Names{"r4"}));
  EXPECT_EQ(ids(store.ListRecordings({}, "r4", 3).value()), Names{});

  RecordingFilter alice;
  alice.agent_id = "alice";
  EXPECT_EQ(ids(store.ListRecordings(alice, "", 0).value()), (Names{"r1", "r3"}));
  RecordingFilter group;
  group.initial_contact_id = "i1";
  EXPECT_EQ(ids(store.ListRecordings(group, "r1", 0).value()), (Names{"r3", "r4"}));
  RecordingFilter one;
  one.contact_id = "r4";
  one.agent_id = "bob";
  EXPECT_EQ(ids(store.ListRecordings(one, "", 0).value()), (Names{"r4"}));
  one.agent_id = "alice";
  EXPECT_EQ(ids(store.ListRecordings(one, "", 0).value()), Names{});
}

}  // namespace
}  // namespace callrec::store
