// PostgresContactStore against a real PostgreSQL: ctest runs this binary through
// tests/interop/postgres.py --run, which starts a cluster and names it in
// CALLREC_TEST_PG_HOST/_PORT/_USER; each test gets a database of its own.
#include "pgstore/PostgresContactStore.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <condition_variable>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "pgstore/PgChangeFeed.hpp"
#include "pgstore/PgSchema.hpp"

namespace callrec::pgstore {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

class PostgresContactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("CALLREC_TEST_PG_HOST").empty()) {
      GTEST_SKIP() << "no PostgreSQL (run through tests/interop/postgres.py --run)";
    }
    db_ = std::string("t_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : db_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Admin("DROP DATABASE IF EXISTS " + db_);
    Admin("CREATE DATABASE " + db_);
  }

  std::string Uri(const std::string& db) const {
    return "postgresql:///" + db + "?host=" + Env("CALLREC_TEST_PG_HOST") +
           "&port=" + Env("CALLREC_TEST_PG_PORT") + "&user=" + Env("CALLREC_TEST_PG_USER");
  }
  std::string Uri() const { return Uri(db_); }

  // The first column of the first row ("" if none), on a connection of the test's own.
  std::string Sql(const std::string& sql, const std::string& db) {
    PGconn* conn = PQconnectdb(Uri(db).c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(result);
    std::string value;
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) value = PQgetvalue(result, 0, 0);
    PQclear(result);
    PQfinish(conn);
    return value;
  }
  std::string Sql(const std::string& sql) { return Sql(sql, db_); }
  void Admin(const std::string& sql) { Sql(sql, "postgres"); }

  static core::Contact MakeContact(const std::string& id, core::RecordingState state,
                                   const std::string& agent = "alice") {
    core::Contact contact;
    contact.instance_id = "local";
    contact.contact_id = id;
    contact.initial_contact_id = "initial-" + id;
    contact.agent_id = agent;
    contact.codec = "PCMA";
    contact.recording.state = state;
    contact.recording.track = core::Track::kFromAgent;
    contact.created_ms = 1000;
    contact.updated_ms = 2000;
    contact.version = 3;
    return contact;
  }

  static core::AuditEntry Audit(const std::string& id, std::int64_t at, const std::string& op) {
    return core::AuditEntry{id, at, op, "AKID", "OK", "detail-" + std::to_string(at)};
  }

  static bool WriteAndWait(store::ContactStore& store, store::ContactWrite write) {
    std::promise<bool> done;
    if (!store.Write(std::move(write), [&](bool ok, const std::string& error) {
          if (!ok) std::cerr << "write failed: " << error << "\n";
          done.set_value(ok);
        })) {
      return false;
    }
    return done.get_future().get();
  }

  static std::vector<std::string> Operations(const std::vector<core::AuditEntry>& trail) {
    std::vector<std::string> out;
    for (const auto& entry : trail)
      out.push_back(entry.operation + "@" + std::to_string(entry.at_ms));
    return out;
  }

  std::string db_;
};

TEST_F(PostgresContactStoreTest, ContactsAndTrailsSurviveReopening) {
  {
    PostgresContactStore store(Uri(), "node-a");
    ASSERT_TRUE(WriteAndWait(
        store, {MakeContact("c1", core::RecordingState::kPaused), Audit("c1", 1500, "PAUSE")}));
    ASSERT_TRUE(WriteAndWait(store, {std::nullopt, Audit("c1", 1600, "RESUME")}));
  }
  PostgresContactStore reopened(Uri(), "node-a");
  const auto contacts = reopened.LoadContacts();
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(contacts[0].initial_contact_id, "initial-c1");
  EXPECT_EQ(contacts[0].recording.state, core::RecordingState::kPaused);
  EXPECT_EQ(contacts[0].recording.track, core::Track::kFromAgent);
  EXPECT_EQ(contacts[0].version, 3);
  EXPECT_EQ(Operations(reopened.LoadAuditTrail("c1").value()),
            (std::vector<std::string>{"PAUSE@1500", "RESUME@1600"}));
  EXPECT_TRUE(reopened.LoadAuditTrail("other").value().empty());
  EXPECT_FALSE(reopened.LoadContact("other").value().has_value());
  EXPECT_EQ(Sql("SELECT owner FROM contacts WHERE contact_id = 'c1'"), "node-a");
  EXPECT_EQ(Sql("SELECT version FROM schema_version"), std::to_string(kSchemaVersion));
}

TEST_F(PostgresContactStoreTest, ConcurrentWritesKeepEachTrailInOrderAndShareCommits) {
  PostgresContactStore store(Uri(), "node-a");
  std::vector<std::future<bool>> done;
  for (int i = 0; i < 600; ++i) {
    const std::string id = "c" + std::to_string(i % 3);
    store::ContactWrite write;
    if (i % 2 == 0) write.contact = MakeContact(id, core::RecordingState::kPaused);
    write.audit = Audit(id, i, i % 2 ? "RESUME" : "PAUSE");
    auto promise = std::make_shared<std::promise<bool>>();
    done.push_back(promise->get_future());
    ASSERT_TRUE(store.Write(std::move(write),
                            [promise](bool ok, const std::string&) { promise->set_value(ok); }));
  }
  for (auto& future : done) ASSERT_TRUE(future.get());
  EXPECT_LT(store.Stats().commits, 600u);  // several writes share one commit
  EXPECT_EQ(store.Stats().writes, 600u);
  for (int c = 0; c < 3; ++c) {
    std::vector<std::string> expected;
    for (int i = c; i < 600; i += 3) {
      expected.push_back(std::string(i % 2 ? "RESUME" : "PAUSE") + "@" + std::to_string(i));
    }
    EXPECT_EQ(Operations(store.LoadAuditTrail("c" + std::to_string(c)).value()), expected);
  }
}

TEST_F(PostgresContactStoreTest, ClosedStoreRefusesWrites) {
  PostgresContactStore store(Uri(), "node-a");
  store.Close();
  bool called = false;
  EXPECT_FALSE(store.Write({MakeContact("c1", core::RecordingState::kRecording), std::nullopt},
                           [&](bool, const std::string&) { called = true; }));
  EXPECT_FALSE(called);
}

TEST_F(PostgresContactStoreTest, EndedContactsComeByAgentInPages) {
  PostgresContactStore store(Uri(), "node-a");
  for (int i = 0; i < 7; ++i) {
    const auto state = i == 6 ? core::RecordingState::kRecording : core::RecordingState::kEnded;
    ASSERT_TRUE(WriteAndWait(
        store,
        {MakeContact("e" + std::to_string(i), state, i % 2 ? "bob" : "alice"), std::nullopt}));
  }
  EXPECT_EQ(store.CountEndedContacts(), 6u);
  auto ids = [](const std::vector<core::Contact>& contacts) {
    std::vector<std::string> out;
    for (const auto& c : contacts) out.push_back(c.contact_id);
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids(store.LoadEndedContacts(std::nullopt, "", 0).value()),
            (Ids{"e0", "e1", "e2", "e3", "e4", "e5"}));
  EXPECT_EQ(ids(store.LoadEndedContacts(std::nullopt, "e1", 2).value()), (Ids{"e2", "e3"}));
  EXPECT_EQ(ids(store.LoadEndedContacts(std::string("alice"), "", 0).value()),
            (Ids{"e0", "e2", "e4"}));
  EXPECT_EQ(ids(store.LoadLiveContacts()), (Ids{"e6"}));
}

TEST_F(PostgresContactStoreTest, ContactIdsCompareByteByByteWhateverTheLocale) {
  // A database whose own order is English (ICU): "a" < "B", punctuation last.
  Admin("DROP DATABASE " + db_);
  Admin("CREATE DATABASE " + db_ +
        " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
  PostgresContactStore store(Uri(), "node-a");
  for (const char* id : {"a", "B", "_x"}) {
    ASSERT_TRUE(WriteAndWait(store, {MakeContact(id, core::RecordingState::kEnded), std::nullopt}));
  }
  auto ids = [](const std::vector<core::Contact>& contacts) {
    std::vector<std::string> out;
    for (const auto& c : contacts) out.push_back(c.contact_id);
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids(store.LoadEndedContacts(std::nullopt, "", 0).value()), (Ids{"B", "_x", "a"}));
  EXPECT_EQ(ids(store.LoadEndedContacts(std::nullopt, "B", 1).value()), (Ids{"_x"}));
  EXPECT_EQ(ids(store.LoadEndedContacts(std::string("alice"), "_x", 0).value()), (Ids{"a"}));
}

TEST_F(PostgresContactStoreTest, LiveContactsAreLoadedByTheirOwnerOnly) {
  {
    PostgresContactStore a(Uri(), "node-a");
    ASSERT_TRUE(WriteAndWait(
        a, {MakeContact("mine", core::RecordingState::kRecording), Audit("mine", 1, "START")}));
  }
  PostgresContactStore b(Uri(), "node-b");
  EXPECT_TRUE(b.LoadLiveContacts().empty());
  EXPECT_TRUE(b.LoadContact("mine").value().has_value());
  // A later write by another node keeps the owner: the node holding the media.
  ASSERT_TRUE(WriteAndWait(
      b, {MakeContact("mine", core::RecordingState::kPaused), Audit("mine", 2, "PAUSE")}));
  EXPECT_EQ(Sql("SELECT owner FROM contacts WHERE contact_id = 'mine'"), "node-a");
  PostgresContactStore a(Uri(), "node-a");
  ASSERT_EQ(a.LoadLiveContacts().size(), 1u);
}

TEST_F(PostgresContactStoreTest, RecordingsAndTheUploadQueue) {
  PostgresContactStore store(Uri(), "node-a");
  store::RecordingSummary summary{"r1", "/rec/r1.wav", 100, 1, 2, 3, 4, 5, 800};
  store::UploadRow row;
  row.contact_id = "r1";
  row.wav_path = "/rec/r1.wav";
  row.created_ms = 10;
  store::ContactWrite first;
  first.recording = summary;
  first.upload = row;
  first.upload_only_if_new = true;
  ASSERT_TRUE(WriteAndWait(store, first));
  EXPECT_EQ(store.LoadRecording("r1").value(), summary);
  // Queued once: a second "if new" changes nothing; an update does.
  store::UploadRow again = row;
  again.attempts = 9;
  store::ContactWrite second;
  second.upload = again;
  second.upload_only_if_new = true;
  ASSERT_TRUE(WriteAndWait(store, second));
  EXPECT_EQ(store.LoadUpload("r1").value()->attempts, 0);
  store::UploadRow done = row;
  done.state = "uploaded";
  done.etag = "\"abc\"";
  done.local_done = true;
  store::ContactWrite third;
  third.upload = done;
  ASSERT_TRUE(WriteAndWait(store, third));
  EXPECT_EQ(store.LoadUpload("r1").value(), done);
  EXPECT_TRUE(store.LoadOpenUploads().value().empty());
  EXPECT_FALSE(store.LoadUpload("none").value().has_value());
}

TEST_F(PostgresContactStoreTest, RecordingsAreListedWithTheirContactAndUpload) {
  PostgresContactStore store(Uri(), "node-a");
  for (const char* id : {"r2", "r1", "r3", "gone"}) {
    store::ContactWrite write;
    write.contact = MakeContact(id, core::RecordingState::kEnded, id[1] == '2' ? "bob" : "alice");
    write.recording = store::RecordingSummary{
        id, std::string(id) == "gone" ? "" : "/rec/x.wav", 10, 0, 0, 0, 0, 0, 80};
    if (std::string(id) == "r1") {
      store::UploadRow upload;
      upload.contact_id = id;
      upload.wav_path = "/rec/x.wav";
      write.upload = upload;
    }
    ASSERT_TRUE(WriteAndWait(store, write));
  }
  auto ids = [](const std::vector<store::RecordingListing>& rows) {
    std::vector<std::string> out;
    for (const auto& row : rows) out.push_back(row.recording.contact_id);
    return out;
  };
  using Ids = std::vector<std::string>;
  auto all = store.ListRecordings({}, "", 0).value();
  EXPECT_EQ(ids(all), (Ids{"r1", "r2", "r3"}));  // an erased one (no path) is not listed
  ASSERT_TRUE(all[0].upload.has_value());
  EXPECT_EQ(all[0].upload->wav_path, "/rec/x.wav");
  EXPECT_FALSE(all[1].upload.has_value());
  EXPECT_EQ(all[1].contact.agent_id, "bob");
  EXPECT_EQ(all[1].recording.frames_written, 80u);
  EXPECT_EQ(ids(store.ListRecordings({}, "r1", 1).value()), (Ids{"r2"}));
  store::RecordingFilter by_agent;
  by_agent.agent_id = "alice";
  EXPECT_EQ(ids(store.ListRecordings(by_agent, "", 0).value()), (Ids{"r1", "r3"}));
  store::RecordingFilter by_initial;
  by_initial.initial_contact_id = "initial-r3";
  EXPECT_EQ(ids(store.ListRecordings(by_initial, "", 0).value()), (Ids{"r3"}));
}

TEST_F(PostgresContactStoreTest, NewerSchemaIsRefusedWithAClearMessage) {
  { PostgresContactStore store(Uri(), "node-a"); }
  Sql("UPDATE schema_version SET version = " + std::to_string(kSchemaVersion + 1));
  try {
    PostgresContactStore store(Uri(), "node-a");
    FAIL() << "a newer schema was opened";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("newer than this build of callrec knows"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(PostgresContactStoreTest, AFailedStatementFailsItsBatchAndTheStoreGoesOn) {
  PostgresContactStore store(Uri(), "node-a");
  // A write the database refuses (a check added behind the store's back).
  Sql("ALTER TABLE audit ADD CONSTRAINT no_bogus CHECK (operation <> 'BOGUS')");
  EXPECT_FALSE(WriteAndWait(store, {std::nullopt, Audit("c1", 1, "BOGUS")}));
  EXPECT_TRUE(store.Stats().failing);
  EXPECT_TRUE(WriteAndWait(store, {std::nullopt, Audit("c1", 2, "PAUSE")}));
  EXPECT_FALSE(store.Stats().failing);
  EXPECT_EQ(Operations(store.LoadAuditTrail("c1").value()), (std::vector<std::string>{"PAUSE@2"}));
}

TEST_F(PostgresContactStoreTest, LostConnectionsFailInFlightAndReconnect) {
  PostgresContactStore store(Uri(), "node-a");
  ASSERT_TRUE(WriteAndWait(
      store, {MakeContact("c1", core::RecordingState::kRecording), Audit("c1", 1, "START")}));
  // Every connection of the store ends (as a restarting server ends them), and
  // their processes are gone before the next write.
  const std::string others =
      " FROM pg_stat_activity WHERE datname = '" + db_ + "' AND pid <> pg_backend_pid()";
  Sql("SELECT pg_terminate_backend(pid)" + others);
  for (int i = 0; i < 100 && Sql("SELECT count(*)" + others) != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The writer notices before sending and connects again; reads do too.
  EXPECT_TRUE(WriteAndWait(store, {std::nullopt, Audit("c1", 2, "PAUSE")}));
  EXPECT_EQ(Operations(store.LoadAuditTrail("c1").value()),
            (std::vector<std::string>{"START@1", "PAUSE@2"}));
  EXPECT_TRUE(store.LoadContact("c1").value().has_value());
}

// What a feed handed over: "id STATE OPERATION" ("-" for no audit line).
class Changes {
 public:
  store::ContactStore::RemoteChanges Sink() {
    return [this](const core::Contact& contact, const std::optional<core::AuditEntry>& audit) {
      std::lock_guard lock(mutex_);
      seen_.push_back(contact.contact_id + " " + std::string(core::ToString(contact.state())) +
                      " " + (audit ? audit->operation + "/" + audit->detail : "-"));
      cv_.notify_all();
    };
  }
  // Waits until `count` changes came (or 5 s); all of them.
  std::vector<std::string> Wait(std::size_t count) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return seen_.size() >= count; });
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

TEST(ChangeNoticeTest, ParsesWhatTheWritersSendAndRefusesTheRest) {
  std::string error;
  auto notice = ParseChangeNotice(
      R"({"n":"node-b","q":7,"i":"c1","c":["c1","local","i1","alice","PCMU","PAUSED","STOPPED",)"
      R"("FROM_AGENT",true,1000,2000,4],"a":[2000,"PAUSE","alice","OK","x"]})",
      error);
  ASSERT_TRUE(notice) << error;
  EXPECT_EQ(notice->node_id, "node-b");
  ASSERT_TRUE(notice->contact);
  EXPECT_EQ(notice->contact->state(), core::RecordingState::kPaused);
  EXPECT_EQ(notice->contact->agent_id, "alice");
  EXPECT_EQ(notice->contact->version, 4);
  EXPECT_TRUE(notice->contact->recording.agent_joined);
  ASSERT_TRUE(notice->audit);
  EXPECT_EQ(notice->audit->operation, "PAUSE");
  EXPECT_EQ(notice->audit->contact_id, "c1");
  // The ids only (a row too big to send): the receiver reads it.
  notice = ParseChangeNotice(R"({"n":"node-b","q":8,"i":"c1"})", error);
  ASSERT_TRUE(notice) << error;
  EXPECT_FALSE(notice->contact);
  EXPECT_FALSE(notice->audit);
  for (const char* bad :
       {"", "[]", "{\"n\":1}", R"({"n":"b","i":"c1","c":["c1"]})",
        R"({"n":"b","i":"c2","c":["c1","l","i","a","P","NOPE","STOPPED","X",true,1,2,3]})",
        R"({"n":"b","i":"c1","a":[1,"PAUSE"]})"}) {
    EXPECT_FALSE(ParseChangeNotice(bad, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST_F(PostgresContactStoreTest, OtherNodesChangesComeInCommitOrder) {
  PostgresContactStore a(Uri(), "node-a");
  PostgresContactStore b(Uri(), "node-b");
  Changes on_b;
  b.WatchOtherServers(on_b.Sink());
  // A's changes, one of them an audit line alone (the row as it is), and a
  // detail too big for a notification (the row is read, the line is not sent).
  ASSERT_TRUE(WriteAndWait(
      a, {MakeContact("c1", core::RecordingState::kNotStarted), Audit("c1", 1, "CREATE")}));
  ASSERT_TRUE(WriteAndWait(
      a, {MakeContact("c1", core::RecordingState::kRecording), Audit("c1", 2, "START")}));
  ASSERT_TRUE(WriteAndWait(a, {std::nullopt, Audit("c1", 3, "NOTE")}));
  core::AuditEntry big = Audit("c1", 4, "PAUSE");
  big.detail = std::string(9000, 'x');
  ASSERT_TRUE(WriteAndWait(a, {MakeContact("c1", core::RecordingState::kPaused), big}));
  // B's own change is published by B itself: the feed skips it.
  ASSERT_TRUE(WriteAndWait(
      b, {MakeContact("c2", core::RecordingState::kNotStarted), Audit("c2", 5, "CREATE")}));
  // Several writes in one transaction each come (none folded into another).
  std::vector<std::future<bool>> pending;
  for (int i = 0; i < 3; ++i) {
    auto done = std::make_shared<std::promise<bool>>();
    pending.push_back(done->get_future());
    a.Write({std::nullopt, core::AuditEntry{"c1", 6, "NOTE", "p", "OK", "same"}},
            [done](bool ok, const std::string&) { done->set_value(ok); });
  }
  for (auto& f : pending) ASSERT_TRUE(f.get());
  const std::vector<std::string> expected = {"c1 NOT_STARTED CREATE/detail-1",
                                             "c1 RECORDING START/detail-2",
                                             "c1 RECORDING NOTE/detail-3",
                                             "c1 PAUSED -",
                                             "c1 PAUSED NOTE/same",
                                             "c1 PAUSED NOTE/same",
                                             "c1 PAUSED NOTE/same"};
  EXPECT_EQ(on_b.Wait(expected.size()), expected);
  // Big: the audit line itself is durable all the same.
  EXPECT_EQ(b.LoadAuditTrail("c1").value().at(3).detail.size(), 9000u);
  b.WatchOtherServers({});
}

TEST_F(PostgresContactStoreTest, ANoticeCarriesTheRowAsItIsOrAsTheWriteLeftIt) {
  PostgresContactStore a(Uri(), "node-a");
  ASSERT_TRUE(
      WriteAndWait(a, {MakeContact("c1", core::RecordingState::kPaused), Audit("c1", 1, "PAUSE")}));
  PgConnection conn(Uri(), "test");
  ASSERT_EQ(conn.Open({NotifyStatement()}), "");
  std::string error;
  ASSERT_TRUE(conn.Exec(std::string("LISTEN ") + kChangeChannel, {}, error)) << error;
  const std::string given =
      R"(["c1","local","i","bob","PCMU","RECORDING","STOPPED","NONE",false,1,2,9])";
  for (const std::string& row : {std::string(), given}) {
    ASSERT_TRUE(
        conn.Exec("notify", {"c1", "node-a", "1", "f", "0", "", "", "", "", row}, error, true))
        << error;
    PQconsumeInput(conn.get());
    PGnotify* raw = PQnotifies(conn.get());
    ASSERT_NE(raw, nullptr);
    auto notice = ParseChangeNotice(raw->extra, error);
    PQfreemem(raw);
    ASSERT_TRUE(notice) << error;
    ASSERT_TRUE(notice->contact);
    EXPECT_FALSE(notice->audit);
    // "": the row as it is (read by the statement); else the one given.
    EXPECT_EQ(notice->contact->state(),
              row.empty() ? core::RecordingState::kPaused : core::RecordingState::kRecording);
    EXPECT_EQ(notice->contact->agent_id, row.empty() ? "alice" : "bob");
  }
}

TEST_F(PostgresContactStoreTest, ALostFeedListensAgainAndReadsWhatItMissed) {
  PostgresContactStore a(Uri(), "node-a");
  PostgresContactStore b(Uri(), "node-b");
  Changes on_b;
  b.WatchOtherServers(on_b.Sink());
  ASSERT_TRUE(WriteAndWait(
      a, {MakeContact("c1", core::RecordingState::kRecording), Audit("c1", 1, "START")}));
  ASSERT_EQ(on_b.Wait(1).size(), 1u);
  // B's feed connection ends (as a restarting server ends it) and A writes
  // while it may not listen: the change comes, by its notification or by the
  // resync once B listens again.
  const std::string feed = " FROM pg_stat_activity WHERE datname = '" + db_ +
                           "' AND application_name = 'callrec-server node-b feed'";
  Sql("SELECT pg_terminate_backend(pid)" + feed);
  core::Contact paused = MakeContact("c1", core::RecordingState::kPaused);
  paused.updated_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_TRUE(WriteAndWait(a, {paused, Audit("c1", 2, "PAUSE")}));
  const std::vector<std::string> seen = on_b.Wait(2);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.back().substr(0, 9), "c1 PAUSED");
  // And it listens again: later changes come by notification.
  for (int i = 0; i < 100 && Sql("SELECT count(*)" + feed) != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(WriteAndWait(a, {std::nullopt, Audit("c1", 3, "NOTE")}));
  bool noted = false;
  for (int i = 0; i < 100 && !noted; ++i) {
    for (const std::string& s : on_b.Wait(3)) noted = noted || s == "c1 PAUSED NOTE/detail-3";
    if (!noted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(noted);
  b.WatchOtherServers({});
}

TEST_F(PostgresContactStoreTest, VersionOneIsMigratedToTwoInPlace) {
  {
    PostgresContactStore store(Uri(), "node-a");
    ASSERT_TRUE(WriteAndWait(
        store, {MakeContact("m1", core::RecordingState::kRecording), Audit("m1", 1500, "START")}));
  }
  // What a version 1 server left: no nodes table.
  Sql("DROP TABLE nodes");
  Sql("UPDATE schema_version SET version = 1");
  PostgresContactStore migrated(Uri(), "node-a");
  EXPECT_EQ(Sql("SELECT version FROM schema_version"), "2");
  EXPECT_EQ(Sql("SELECT count(*) FROM nodes"), "0");
  EXPECT_EQ(migrated.LoadContact("m1").value()->recording.state, core::RecordingState::kRecording);
  EXPECT_EQ(Operations(migrated.LoadAuditTrail("m1").value()),
            (std::vector<std::string>{"START@1500"}));
}

TEST_F(PostgresContactStoreTest, AnEndedContactIsNeverWrittenLiveAgain) {
  PostgresContactStore store(Uri(), "node-b");
  ASSERT_TRUE(WriteAndWait(
      store, {MakeContact("e1", core::RecordingState::kRecording), Audit("e1", 1500, "START")}));
  // A survivor ended it (node-b was declared lost) ...
  core::Contact ended = MakeContact("e1", core::RecordingState::kEnded);
  ended.recording.final_state = core::RecordingState::kRecording;
  ended.version = 4;
  ASSERT_TRUE(WriteAndWait(store, {ended, Audit("e1", 1600, "END")}));
  // ... then node-b, which had not noticed, writes a PAUSE of its own: the
  // audit line is kept, the row stays ENDED.
  core::Contact late = MakeContact("e1", core::RecordingState::kPaused);
  late.version = 4;
  ASSERT_TRUE(WriteAndWait(store, {late, Audit("e1", 1700, "PAUSE")}));
  EXPECT_EQ(store.LoadContact("e1").value()->recording.state, core::RecordingState::kEnded);
  EXPECT_EQ(Operations(store.LoadAuditTrail("e1").value()),
            (std::vector<std::string>{"START@1500", "END@1600", "PAUSE@1700"}));
  // ENDED over ENDED is still written (a rename after the end).
  core::Contact renamed = ended;
  renamed.agent_id = "bob";
  renamed.version = 5;
  ASSERT_TRUE(WriteAndWait(store, {renamed, std::nullopt}));
  EXPECT_EQ(store.LoadContact("e1").value()->agent_id, "bob");
}

TEST_F(PostgresContactStoreTest, OthersLiveContactsAreTheOtherNodesLiveOnes) {
  PostgresContactStore a(Uri(), "node-a");
  PostgresContactStore b(Uri(), "node-b");
  ASSERT_TRUE(WriteAndWait(b, {MakeContact("o1", core::RecordingState::kRecording), std::nullopt}));
  ASSERT_TRUE(WriteAndWait(b, {MakeContact("o2", core::RecordingState::kEnded), std::nullopt}));
  ASSERT_TRUE(WriteAndWait(b, {MakeContact("o3", core::RecordingState::kPaused), std::nullopt}));
  ASSERT_TRUE(WriteAndWait(a, {MakeContact("o4", core::RecordingState::kRecording), std::nullopt}));
  auto ids = [](const std::vector<core::Contact>& contacts) {
    std::vector<std::string> out;
    for (const auto& c : contacts) out.push_back(c.contact_id);
    return out;
  };
  EXPECT_EQ(ids(a.LoadOthersLiveContacts(std::nullopt, "", 0).value()),
            (std::vector<std::string>{"o1", "o3"}));
  EXPECT_EQ(ids(a.LoadOthersLiveContacts(std::nullopt, "o1", 1).value()),
            (std::vector<std::string>{"o3"}));
  EXPECT_EQ(ids(b.LoadOthersLiveContacts(std::nullopt, "", 0).value()),
            (std::vector<std::string>{"o4"}));
}

}  // namespace
}  // namespace callrec::pgstore
