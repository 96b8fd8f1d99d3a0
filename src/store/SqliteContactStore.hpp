#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "store/ContactStore.hpp"
#include "store/WalSync.hpp"

namespace callrec::store {

// SQLite in WAL mode; a write is reported done only once it is on disk. One
// writer thread takes every queued write and commits them in one transaction
// (group commit); WalSync then syncs the log and reports them, while the writer
// goes on to the next transaction (see WalSync.hpp), so throughput does not cost
// durability. Reads use their own connections (point reads, and listings), which
// WAL lets run beside writes.
// Audit rows are appended in one global order and linked per contact (see
// SqliteSchema.hpp), so a commit writes few pages however many contacts it touches.
class SqliteContactStore final : public ContactStore {
 public:
  // Throws std::runtime_error with a plain message if the database cannot be
  // opened, is locked by another process, or is not a callrec database.
  // Runs a write's `done` somewhere; by default on the writer thread itself.
  // The server hands them to its HTTP threads, so the writer goes straight on
  // to the next commit instead of building responses.
  using Dispatch = std::function<void(std::function<void()>)>;

  explicit SqliteContactStore(const std::filesystem::path& path, Dispatch dispatch = {});
  ~SqliteContactStore() override;

  SqliteContactStore(const SqliteContactStore&) = delete;
  SqliteContactStore& operator=(const SqliteContactStore&) = delete;

  std::vector<core::Contact> LoadContacts() override;
  std::vector<core::Contact> LoadLiveContacts() override;
  std::size_t CountEndedContacts() override;
  ReadResult<std::vector<core::Contact>> LoadEndedContacts(
      const std::optional<std::string>& agent_id, std::string_view after,
      std::size_t limit) override;
  ReadResult<std::optional<core::Contact>> LoadContact(std::string_view contact_id) override;
  ReadResult<std::optional<RecordingSummary>> LoadRecording(std::string_view contact_id) override;
  ReadResult<std::vector<core::AuditEntry>> LoadAuditTrail(std::string_view contact_id) override;
  ReadResult<std::vector<UploadRow>> LoadOpenUploads() override;
  ReadResult<std::optional<UploadRow>> LoadUpload(std::string_view contact_id) override;
  ReadResult<std::vector<RecordingListing>> ListRecordings(const RecordingFilter& filter,
                                                           std::string_view after,
                                                           std::size_t limit) override;
  bool Write(ContactWrite write, Done done) override;
  StoreStats Stats() const override;

  // Writes everything queued, then stops the writer; later writes fail. Idempotent.
  void Close();

 private:
  struct Pending {
    ContactWrite write;
    Done done;
  };
  // Where a contact's audit trail ends, whether the contact has a row to say so,
  // and whether that row says ENDED.
  struct TrailHead {
    std::int64_t seq = 0;
    bool has_row = false;
    bool ended = false;
  };

  void WriterLoop();
  // WalSync's report: the writes `covered` are durable, or failed with `error`.
  void Synced(WalSync::Callbacks& covered, const std::string& error, double seconds);
  void Report(WalSync::Callbacks& callbacks, const std::string& error);
  void CheckpointLoop();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  std::string CommitBatch(std::deque<Pending>& batch);
  // While failing and idle: a transaction that writes a page (the header's
  // user_version, rewritten unchanged), so the store knows when writes work
  // again (space freed) without waiting for a request. Empty when it committed.
  std::string ProbeWrite();
  std::string WriteOne(const ContactWrite& write);
  std::string WriteContact(const core::Contact& contact, TrailHead& head);
  std::string WriteTrailHead(const std::string& contact_id, TrailHead& head);
  std::string WriteRecording(const RecordingSummary& recording);
  std::string WriteUpload(const UploadRow& upload, bool only_if_new);
  // The rows `where` (?1: `bound`) selects, on the listing connection.
  std::vector<UploadRow> LoadUploadsWhere(const char* where, std::string_view bound);
  // The contact's trail head: cached, else read on the writer's connection (which
  // sees this transaction's own writes).
  std::string FindHead(const std::string& contact_id, TrailHead*& head);
  // Forgets the heads of ended contacts (and of trails without a row): the cache
  // holds live contacts only, so it does not grow with every contact ever seen.
  void ForgetSettledHead(const std::string& contact_id);
  // Empties the head cache and rereads the last sequence number: at start-up and
  // after a rollback, so what the writer believes matches the database again.
  std::string ResetTrailHeads();
  // SELECT ... FROM contacts `where` (?1: `bound`, ?2: `after`, ?3: a limit).
  std::vector<core::Contact> LoadContactsWhere(const std::string& where,
                                               const std::optional<std::string>& bound,
                                               std::string_view after = {},
                                               std::int64_t limit = -1);
  // A failed request-serving read (`what`, the exception it threw): counted,
  // logged, and the ReadError to answer.
  ReadError ReadFailed(const char* what, std::string_view contact_id, const std::exception& error);

  Dispatch dispatch_;
  sqlite3* writer_ = nullptr;
  sqlite3* reader_ = nullptr;
  // Listings (every ended contact) on a connection of their own, so a long one
  // does not hold up the point reads of reader_ (SIP INVITEs, creates).
  sqlite3* lister_ = nullptr;
  sqlite3* checkpointer_ = nullptr;
  // Writer connection's statements, prepared once.
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* insert_contact_ = nullptr;
  sqlite3_stmt* update_contact_ = nullptr;
  sqlite3_stmt* update_head_ = nullptr;
  sqlite3_stmt* upsert_loose_head_ = nullptr;
  sqlite3_stmt* delete_loose_head_ = nullptr;
  sqlite3_stmt* insert_audit_ = nullptr;
  sqlite3_stmt* select_head_ = nullptr;
  sqlite3_stmt* select_loose_head_ = nullptr;
  sqlite3_stmt* upsert_recording_ = nullptr;
  sqlite3_stmt* upsert_upload_ = nullptr;
  sqlite3_stmt* insert_upload_ = nullptr;  // if none yet
  // Reader connection's, under reader_mutex_.
  sqlite3_stmt* select_trail_ = nullptr;
  sqlite3_stmt* select_contact_ = nullptr;
  sqlite3_stmt* select_recording_ = nullptr;

  // Writer thread only (the constructor fills them before it starts). Heads of
  // live contacts only (see ForgetSettledHead).
  std::unordered_map<std::string, TrailHead> heads_;
  std::int64_t last_seq_ = 0;
  bool heads_stale_ = false;

  std::mutex reader_mutex_;
  std::mutex lister_mutex_;
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  StoreStats stats_;
  std::atomic<std::uint64_t> read_failures_{0};
  std::thread writer_thread_;
  std::unique_ptr<WalSync> wal_sync_;

  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stopping_ = false;
  int checkpoint_requested_at_ = 0;  // WAL pages at the last request; writer thread only
  std::thread checkpoint_thread_;
};

}  // namespace callrec::store
