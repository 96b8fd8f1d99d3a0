#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pgstore/PgConnection.hpp"
#include "store/ContactStore.hpp"

namespace callrec::pgstore {

class PgChangeFeed;

// The contact store in PostgreSQL, with SqliteContactStore's contract: a
// writer thread takes every write queued for it and sends them as one
// transaction in libpq's pipeline mode (BEGIN, the writes, COMMIT, one round
// trip); `done` runs once COMMIT answered (synchronous_commit on: durable), or
// with the error. There are kWriters writers, each with its connection, and a
// contact's writes always go to the same one (by a hash of its id), so they
// commit in the order they were made while other contacts' transactions commit
// beside them (PostgreSQL flushes its log once for commits that arrive together).
// Reads run on two connections of their own (point reads, listings), from any
// thread. A lost connection fails what was in flight (the caller answers 5xx;
// a commit whose answer was lost is reported failed, never acknowledged) and
// every connection opens again by itself: the writer before its next batch and,
// while failing and idle, once a second (so /healthz recovers on its own).
// Once a batch committed, its writer notifies the other servers of its changes
// (PgChangeFeed.hpp), in a transaction of its own.
class PostgresContactStore final : public store::ContactStore {
 public:
  using Dispatch = std::function<void(std::function<void()>)>;

  // Connects, creates or migrates the schema (see PgSchema.hpp). Throws
  // std::runtime_error with a plain message (never the password) if the server
  // cannot be reached or the schema is refused. `node_id` is written as the
  // owner of each contact this node creates.
  PostgresContactStore(std::string conninfo, std::string node_id, Dispatch dispatch = {});
  ~PostgresContactStore() override;
  PostgresContactStore(const PostgresContactStore&) = delete;
  PostgresContactStore& operator=(const PostgresContactStore&) = delete;

  std::vector<core::Contact> LoadContacts() override;
  // Live contacts this node owns: others' live contacts are their owners' to hold.
  std::vector<core::Contact> LoadLiveContacts() override;
  std::size_t CountEndedContacts() override;
  store::ReadResult<std::vector<core::Contact>> LoadEndedContacts(
      const std::optional<std::string>& agent_id, std::string_view after,
      std::size_t limit) override;
  store::ReadResult<std::vector<core::Contact>> LoadOthersLiveContacts(
      const std::optional<std::string>& agent_id, std::string_view after,
      std::size_t limit) override;
  store::ReadResult<std::optional<core::Contact>> LoadContact(std::string_view contact_id) override;
  store::ReadResult<std::optional<store::RecordingSummary>> LoadRecording(
      std::string_view contact_id) override;
  store::ReadResult<std::vector<core::AuditEntry>> LoadAuditTrail(
      std::string_view contact_id) override;
  store::ReadResult<std::vector<store::UploadRow>> LoadOpenUploads() override;
  store::ReadResult<std::optional<store::UploadRow>> LoadUpload(
      std::string_view contact_id) override;
  store::ReadResult<std::vector<store::RecordingListing>> ListRecordings(
      const store::RecordingFilter& filter, std::string_view after, std::size_t limit) override;
  bool Write(store::ContactWrite write, Done done) override;
  store::StoreStats Stats() const override;
  // Listens for the other nodes' changes (PgChangeFeed) on a connection of its
  // own; every write of a contact or an audit line notifies them in its
  // transaction.
  void WatchOtherServers(RemoteChanges changes) override;

  // Writes everything queued, then stops the writer; later writes fail. Idempotent.
  void Close();

  const std::string& Where() const { return where_; }

 private:
  struct Pending {
    store::ContactWrite write;
    Done done;
  };
  // One writer: its connection, its queue (under queue_mutex_), its thread.
  struct Writer {
    Writer(const std::string& conninfo, const std::string& name) : conn(conninfo, name) {}
    PgConnection conn;
    std::condition_variable cv;
    std::deque<Pending> queue;
    bool failing = false;  // its last commit failed
    std::thread thread;
  };
  static constexpr std::size_t kWriters = 8;
  // A read connection and the lock that makes it one caller's at a time.
  struct Reader {
    Reader(const std::string& conninfo, const std::string& name) : conn(conninfo, name) {}
    PgConnection conn;
    std::mutex mutex;
  };

  void WriterLoop(Writer& writer);
  // One transaction for the whole batch: "" once committed, else why not;
  // `unapplied` when it failed before the server ran any of it.
  // `notices`: the batch's notifications instead of its writes (NotifyBatch).
  std::string CommitBatch(PgConnection& writer, const std::deque<Pending>& batch, bool& unapplied,
                          bool notices = false);
  // The other servers' notifications of a committed batch, in a transaction
  // of their own; a failure is logged and counted, the writes stay durable.
  void NotifyBatch(PgConnection& conn, const std::deque<Pending>& batch);
  // The notification of one write (0 statements if it needs none, -1: failed).
  int SendNotice(PgConnection& conn, const store::ContactWrite& write, std::string& error);
  // The statements of one write, sent on the pipeline; how many (-1: failed).
  int SendWrite(PgConnection& conn, const store::ContactWrite& write, std::string& error);
  static bool Send(PgConnection& conn, const char* statement,
                   const std::vector<std::string>& params, std::string& error);
  void Report(std::deque<Pending>& batch, const std::string& error);
  // Runs a prepared read on `reader`, opening it again once if the connection
  // was lost. Throws std::runtime_error with PostgreSQL's message.
  PgResult Query(Reader& reader, const char* statement, const std::vector<std::string>& params);
  PgResult QuerySql(Reader& reader, const std::string& sql, const std::vector<std::string>& params);
  store::ReadError ReadFailed(const char* what, std::string_view contact_id,
                              const std::exception& error);
  std::vector<store::UploadRow> UploadsFrom(const PGresult* result);
  // One row of the upload columns, from column `base` on.
  static store::UploadRow UploadFromRow(const PGresult* result, int row, int base);

  const std::string conninfo_;
  // Contacts WHERE `where` (its own parameters `params`, $1...) after `after`,
  // of `agent_id` if set, in ContactId order, at most `limit` (0: all).
  store::ReadResult<std::vector<core::Contact>> ListContacts(
      const char* what, const char* where, std::vector<std::string> params,
      const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit);
  const std::string node_id_;
  Dispatch dispatch_;
  std::string where_;
  std::vector<std::unique_ptr<Writer>> writers_;
  Reader reader_;
  Reader lister_;

  mutable std::mutex queue_mutex_;
  bool stopping_ = false;
  store::StoreStats stats_;
  std::atomic<std::uint64_t> read_failures_{0};
  std::atomic<std::uint64_t> notify_seq_{0};
  std::atomic<std::uint64_t> notify_failures_{0};
  std::mutex feed_mutex_;
  std::unique_ptr<PgChangeFeed> feed_;
};

}  // namespace callrec::pgstore
