#include "store/SqliteContactStore.hpp"

#include "store/StoreRows.hpp"

#include <chrono>
#include <initializer_list>
#include <memory>
#include <stdexcept>

#include "log/Log.hpp"
#include "store/Sqlite.hpp"
#include "store/SqliteSchema.hpp"

namespace callrec::store {
namespace {

using sqlite::BindText;
using sqlite::ColumnText;
using sqlite::Exec;
using sqlite::Fail;
using sqlite::Open;
using sqlite::Prepare;
using sqlite::ResetOnExit;
using sqlite::StepDone;

void Finalize(std::initializer_list<sqlite3_stmt*> statements) {
  for (sqlite3_stmt* statement : statements) sqlite3_finalize(statement);
}

// One row of kContactColumns (StoreRows.hpp), from column `first` on.
core::Contact ContactFromRow(sqlite3_stmt* statement, int first = 0) {
  return ContactFromColumns(
      first, [statement](int i) { return ColumnText(statement, i); },
      [statement](int i) { return sqlite3_column_int64(statement, i); },
      [statement](int i) { return sqlite3_column_int(statement, i) != 0; });
}

std::uint64_t ColumnCount(sqlite3_stmt* statement, int index) {
  return static_cast<std::uint64_t>(sqlite3_column_int64(statement, index));
}

// One row of kUploadColumns (StoreRows.hpp), from column `first` on.
UploadRow UploadFromRow(sqlite3_stmt* st, int first = 0) {
  return UploadFromColumns(
      first, [st](int i) { return ColumnText(st, i); },
      [st](int i) { return sqlite3_column_int64(st, i); },
      [st](int i) { return sqlite3_column_int(st, i) != 0; });
}

constexpr const char* kRecordingColumns =
    "path, packets, lost, late, gated, invalid, duplicates, frames_written";

// One row of kRecordingColumns, from column `first` on.
RecordingSummary RecordingFromRow(sqlite3_stmt* st, std::string_view contact_id, int first = 0) {
  RecordingSummary r;
  r.contact_id = std::string(contact_id);
  r.path = ColumnText(st, first + 0);
  r.packets = ColumnCount(st, first + 1);
  r.lost = ColumnCount(st, first + 2);
  r.late = ColumnCount(st, first + 3);
  r.gated = ColumnCount(st, first + 4);
  r.invalid = ColumnCount(st, first + 5);
  r.duplicates = ColumnCount(st, first + 6);
  r.frames_written = ColumnCount(st, first + 7);
  return r;
}
constexpr int kRecordingColumnCount = 8;

// Each column list with a table alias before every name.
std::string Qualified(std::string_view alias, std::string_view columns) {
  std::string out;
  std::size_t start = 0;
  while (start <= columns.size()) {
    std::size_t comma = columns.find(',', start);
    if (comma == std::string_view::npos) comma = columns.size();
    std::string_view name = columns.substr(start, comma - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += std::string(alias) + "." + std::string(name);
    start = comma + 1;
  }
  return out;
}

// One contact's trail, newest row first in the walk, returned oldest first. Every
// step is a primary-key lookup; the contact_id check stops a walk that a damaged
// link would lead into another contact's rows.
constexpr const char* kSelectTrail = R"sql(
  WITH RECURSIVE trail(seq, at_ms, operation, principal, result, detail, prev_seq) AS (
    SELECT seq, at_ms, operation, principal, result, detail, prev_seq FROM audit
    WHERE seq = (SELECT audit_head FROM contacts WHERE contact_id = ?1
                 UNION ALL SELECT audit_head FROM loose_trails WHERE contact_id = ?1
                 LIMIT 1)
      AND contact_id = ?1
    UNION ALL
    SELECT a.seq, a.at_ms, a.operation, a.principal, a.result, a.detail, a.prev_seq
    FROM audit AS a JOIN trail AS t ON a.seq = t.prev_seq WHERE a.contact_id = ?1)
  SELECT at_ms, operation, principal, result, detail FROM trail ORDER BY seq)sql";

// PRAGMA quick_check answers rows ("ok", or what is wrong) rather than an error.
void CheckIntegrity(sqlite3* db, const std::string& where) {
  sqlite3_stmt* statement = nullptr;
  std::string problem;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &statement, nullptr) != SQLITE_OK) {
    problem = sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      const std::string row = ColumnText(statement, 0);
      if (row != "ok") problem += (problem.empty() ? "" : "; ") + row;
    }
    if (rc != SQLITE_DONE && problem.empty()) problem = sqlite3_errmsg(db);
  }
  sqlite3_finalize(statement);
  if (!problem.empty()) {
    throw std::runtime_error(where + " failed its integrity check (" + problem +
                             "); refusing to start: the file is left as it is, restore it from a "
                             "backup or move it aside");
  }
}

void CheckWritable(sqlite3* db, const std::string& where) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, "BEGIN IMMEDIATE; ROLLBACK;", nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return;
  std::string message = error ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    throw std::runtime_error(where + " is locked by another process (" + message +
                             "); refusing to start: nothing was changed");
  }
  throw std::runtime_error(where + " cannot be written (" + message + ")");
}

}  // namespace

SqliteContactStore::SqliteContactStore(const std::filesystem::path& path, Dispatch dispatch)
    : dispatch_(std::move(dispatch)) {
  const std::string where = "state database " + path.string();
  try {
    writer_ = Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // A corrupt or foreign file shows here, before anything is written to it.
    CheckIntegrity(writer_, where);
    // Another process (a backup, an sqlite3 shell) holding the write lock would
    // make every commit fail after the busy timeout: refuse to start instead.
    CheckWritable(writer_, where);
    Exec(writer_, "PRAGMA journal_mode=WAL;", "cannot switch " + where + " to WAL");
    // The log is synced by wal_sync_ after the commit rather than inside it.
    Exec(writer_, "PRAGMA synchronous=NORMAL;", "cannot set the sync mode of " + where);
    PrepareSchema(writer_, where);
    begin_ = Prepare(writer_, "BEGIN IMMEDIATE");
    commit_ = Prepare(writer_, "COMMIT");
    rollback_ = Prepare(writer_, "ROLLBACK");
    insert_contact_ = Prepare(writer_, R"sql(
      INSERT INTO contacts(contact_id, instance_id, initial_contact_id, agent_id, codec, state,
                           final_state, track, agent_joined, created_ms, updated_ms, version,
                           audit_head)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
      ON CONFLICT(contact_id) DO UPDATE SET
        agent_id=excluded.agent_id, state=excluded.state, final_state=excluded.final_state,
        track=excluded.track, agent_joined=excluded.agent_joined,
        updated_ms=excluded.updated_ms, version=excluded.version,
        audit_head=excluded.audit_head)sql");
    // What a state change rewrites; the identity columns never change.
    update_contact_ = Prepare(writer_, R"sql(
      UPDATE contacts SET agent_id=?2, state=?3, final_state=?4, track=?5, agent_joined=?6,
                          updated_ms=?7, version=?8, audit_head=?9
      WHERE contact_id=?1)sql");
    update_head_ = Prepare(writer_, "UPDATE contacts SET audit_head=?2 WHERE contact_id=?1");
    upsert_loose_head_ = Prepare(writer_, R"sql(
      INSERT INTO loose_trails(contact_id, audit_head) VALUES(?1, ?2)
      ON CONFLICT(contact_id) DO UPDATE SET audit_head=excluded.audit_head)sql");
    delete_loose_head_ = Prepare(writer_, "DELETE FROM loose_trails WHERE contact_id=?1");
    insert_audit_ = Prepare(writer_, R"sql(
      INSERT INTO audit(seq, contact_id, at_ms, operation, principal, result, detail, prev_seq)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql");
    select_head_ =
        Prepare(writer_, "SELECT audit_head, state = 'ENDED' FROM contacts WHERE contact_id=?1");
    select_loose_head_ =
        Prepare(writer_, "SELECT audit_head FROM loose_trails WHERE contact_id=?1");
    upsert_recording_ = Prepare(writer_, R"sql(
      INSERT OR REPLACE INTO recordings(contact_id, path, packets, lost, late, gated, invalid,
                                        duplicates, frames_written)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))sql");
    upsert_upload_ = Prepare(writer_, R"sql(
      INSERT OR REPLACE INTO uploads(contact_id, wav_path, state, created_ms, attempts,
                                     next_attempt_ms, upload_id, bucket, object_key, etag, bytes,
                                     last_error, uploaded_ms, local_done)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))sql");
    insert_upload_ = Prepare(writer_, R"sql(
      INSERT OR IGNORE INTO uploads(contact_id, wav_path, state, created_ms, attempts,
                                    next_attempt_ms, upload_id, bucket, object_key, etag, bytes,
                                    last_error, uploaded_ms, local_done)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))sql");
    if (std::string error = ResetTrailHeads(); !error.empty()) {
      throw std::runtime_error("cannot read the audit trails of " + where + ": " + error);
    }
    reader_ = Open(path, SQLITE_OPEN_READONLY);
    lister_ = Open(path, SQLITE_OPEN_READONLY);
    select_trail_ = Prepare(reader_, kSelectTrail);
    select_contact_ = Prepare(
        reader_,
        (std::string("SELECT ") + kContactColumns + " FROM contacts WHERE contact_id=?1").c_str());
    select_recording_ = Prepare(reader_, R"sql(
      SELECT path, packets, lost, late, gated, invalid, duplicates, frames_written
      FROM recordings WHERE contact_id=?1)sql");
    // Most of a checkpoint's copying runs on its own connection and thread, beside the
    // writer (WAL lets a passive checkpoint run while commits go on), from 500 pages
    // of log. The writer still checkpoints between two transactions at a threshold
    // (see OnWalCommit), so the log starts again from its beginning, but by then little
    // is left to copy. A checkpoint syncs the log before it copies from it, and the
    // database file after.
    checkpointer_ = Open(path, SQLITE_OPEN_READWRITE);
    Exec(checkpointer_, "PRAGMA synchronous=FULL;", "cannot make " + where + " durable");
    sqlite3_wal_hook(writer_, &SqliteContactStore::OnWalCommit, this);
    wal_sync_ = std::make_unique<WalSync>(
        path.string() + "-wal", [this](WalSync::Callbacks& covered, const std::string& error,
                                       double seconds) { Synced(covered, error, seconds); });
  } catch (...) {
    Finalize({begin_, commit_, rollback_, insert_contact_, update_contact_, update_head_,
              upsert_loose_head_, delete_loose_head_, insert_audit_, select_head_,
              select_loose_head_, upsert_recording_, upsert_upload_, insert_upload_, select_trail_,
              select_contact_, select_recording_});
    sqlite3_close(writer_);
    sqlite3_close(reader_);
    sqlite3_close(lister_);
    sqlite3_close(checkpointer_);
    throw;
  }
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  writer_thread_ = std::thread([this] { WriterLoop(); });
}

int SqliteContactStore::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  // The writer's own checkpoint is the one that lets the next transaction start the
  // log again from its beginning (the background one never catches up with a writer
  // that keeps committing), but it holds up every write for about a millisecond (it
  // copies what the background one has not, and syncs the database file). At 8,000
  // pages (32 MiB of log with 4 KiB pages) it comes about once a second at 25,000
  // state changes a second, instead of ten times at SQLite's default of 1,000.
  constexpr int kCheckpointPages = 8000;
  constexpr int kBackgroundPages = 500;  // from here, every 250 new pages
  if (pages >= kCheckpointPages) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kBackgroundPages) {
    // Not after every commit: each checkpoint syncs the database file.
    auto* store = static_cast<SqliteContactStore*>(self);
    if (pages < store->checkpoint_requested_at_) store->checkpoint_requested_at_ = 0;
    if (pages < store->checkpoint_requested_at_ + kBackgroundPages / 2 &&
        store->checkpoint_requested_at_ != 0) {
      return SQLITE_OK;
    }
    store->checkpoint_requested_at_ = pages;
    {
      std::lock_guard lock(store->checkpoint_mutex_);
      store->checkpoint_wanted_ = true;
    }
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteContactStore::CheckpointLoop() {
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait(lock, [this] { return checkpoint_stopping_ || checkpoint_wanted_; });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    // Passive: never blocks the writer; what it cannot copy now, the next one will.
    sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
}

void SqliteContactStore::Close() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  if (wal_sync_) wal_sync_->Close();  // after the writer: it syncs the last commits
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

SqliteContactStore::~SqliteContactStore() {
  Close();
  Finalize({begin_, commit_, rollback_, insert_contact_, update_contact_, update_head_,
            upsert_loose_head_, delete_loose_head_, insert_audit_, select_head_, select_loose_head_,
            upsert_recording_, upsert_upload_, insert_upload_, select_trail_, select_contact_,
            select_recording_});
  sqlite3_close(reader_);
  sqlite3_close(lister_);
  sqlite3_close(checkpointer_);
  sqlite3_close(writer_);
}

std::vector<core::Contact> SqliteContactStore::LoadContactsWhere(
    const std::string& where, const std::optional<std::string>& bound, std::string_view after,
    std::int64_t limit) {
  std::lock_guard lock(lister_mutex_);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(
      Prepare(lister_,
              ("SELECT " + std::string(kContactColumns) + " FROM contacts " + where).c_str()),
      sqlite3_finalize);
  if (bound) BindText(statement.get(), 1, *bound);
  if (sqlite3_bind_parameter_count(statement.get()) >= 3) {
    BindText(statement.get(), 2, after);
    sqlite3_bind_int64(statement.get(), 3, limit);
  }
  std::vector<core::Contact> contacts;
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    contacts.push_back(ContactFromRow(statement.get()));
  }
  if (rc != SQLITE_DONE) Fail(lister_, "cannot read contacts");
  return contacts;
}

ReadError SqliteContactStore::ReadFailed(const char* what, std::string_view contact_id,
                                         const std::exception& error) {
  read_failures_ += 1;
  log::Warn("store.read_failed",
            {{"read", what}, {"contact", std::string(contact_id)}, {"error", error.what()}});
  return ReadError{error.what()};
}

std::vector<core::Contact> SqliteContactStore::LoadContacts() {
  return LoadContactsWhere("", std::nullopt);
}

std::vector<core::Contact> SqliteContactStore::LoadLiveContacts() {
  return LoadContactsWhere("WHERE state != 'ENDED'", std::nullopt);
}

ReadResult<std::vector<core::Contact>> SqliteContactStore::LoadEndedContacts(
    const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit) {
  // (?1 IS NULL OR ...) would hide the partial index on agent_id from the planner.
  const std::string where = std::string("WHERE state = 'ENDED'") +
                            (agent_id ? " AND agent_id = ?1" : " AND ?1 IS NULL") +
                            " AND contact_id > ?2 ORDER BY contact_id LIMIT ?3";
  try {
    return LoadContactsWhere(where, agent_id, after,
                             limit == 0 ? -1 : static_cast<std::int64_t>(limit));
  } catch (const std::exception& error) {
    return ReadFailed("ended contacts", "", error);
  }
}

std::size_t SqliteContactStore::CountEndedContacts() {
  std::lock_guard lock(lister_mutex_);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(
      Prepare(lister_, "SELECT count(*) FROM contacts WHERE state = 'ENDED'"), sqlite3_finalize);
  if (sqlite3_step(statement.get()) != SQLITE_ROW) Fail(lister_, "cannot count contacts");
  return static_cast<std::size_t>(sqlite3_column_int64(statement.get(), 0));
}

ReadResult<std::optional<core::Contact>> SqliteContactStore::LoadContact(
    std::string_view contact_id) {
  try {
    std::lock_guard lock(reader_mutex_);
    const ResetOnExit reset{select_contact_};
    BindText(select_contact_, 1, contact_id);
    const int rc = sqlite3_step(select_contact_);
    if (rc == SQLITE_ROW) return std::optional<core::Contact>(ContactFromRow(select_contact_));
    if (rc != SQLITE_DONE) Fail(reader_, "cannot read contact");
    return std::optional<core::Contact>();
  } catch (const std::exception& error) {
    return ReadFailed("contact", contact_id, error);
  }
}

std::vector<UploadRow> SqliteContactStore::LoadUploadsWhere(const char* where,
                                                            std::string_view bound) {
  std::lock_guard lock(lister_mutex_);
  const std::string sql = "SELECT " + std::string(kUploadColumns) + " FROM uploads " + where;
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(Prepare(lister_, sql.c_str()),
                                                                  sqlite3_finalize);
  if (!bound.empty()) BindText(statement.get(), 1, bound);
  std::vector<UploadRow> rows;
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    rows.push_back(UploadFromRow(statement.get()));
  }
  if (rc != SQLITE_DONE) Fail(lister_, "cannot read the upload queue");
  return rows;
}

ReadResult<std::vector<UploadRow>> SqliteContactStore::LoadOpenUploads() {
  try {
    return LoadUploadsWhere("WHERE state = 'pending' OR local_done = 0 ORDER BY created_ms", "");
  } catch (const std::exception& error) {
    return ReadFailed("uploads", "", error);
  }
}

ReadResult<std::optional<UploadRow>> SqliteContactStore::LoadUpload(std::string_view contact_id) {
  try {
    auto rows = LoadUploadsWhere("WHERE contact_id = ?1", contact_id);
    if (rows.empty()) return std::optional<UploadRow>();
    return std::optional<UploadRow>(std::move(rows.front()));
  } catch (const std::exception& error) {
    return ReadFailed("upload", contact_id, error);
  }
}

ReadResult<std::optional<RecordingSummary>> SqliteContactStore::LoadRecording(
    std::string_view contact_id) {
  try {
    std::lock_guard lock(reader_mutex_);
    const ResetOnExit reset{select_recording_};
    BindText(select_recording_, 1, contact_id);
    const int rc = sqlite3_step(select_recording_);
    if (rc == SQLITE_ROW) {
      return std::optional<RecordingSummary>(RecordingFromRow(select_recording_, contact_id));
    }
    if (rc != SQLITE_DONE) Fail(reader_, "cannot read recording");
    return std::optional<RecordingSummary>();
  } catch (const std::exception& error) {
    return ReadFailed("recording", contact_id, error);
  }
}

ReadResult<std::vector<RecordingListing>> SqliteContactStore::ListRecordings(
    const RecordingFilter& filter, std::string_view after, std::size_t limit) {
  // In ContactId order along the recordings table's key; each contact and
  // upload row is a key lookup.
  const std::string sql = "SELECT r.contact_id, " + Qualified("r", kRecordingColumns) + ", " +
                          Qualified("c", kContactColumns) + ", " + Qualified("u", kUploadColumns) +
                          " FROM recordings AS r JOIN contacts AS c ON c.contact_id = r.contact_id"
                          " LEFT JOIN uploads AS u ON u.contact_id = r.contact_id"
                          " WHERE r.path <> '' AND (?1 IS NULL OR c.agent_id = ?1)"
                          " AND (?2 IS NULL OR r.contact_id = ?2)"
                          " AND (?3 IS NULL OR c.initial_contact_id = ?3)"
                          " AND r.contact_id > ?4 ORDER BY r.contact_id LIMIT ?5";
  try {
    std::lock_guard lock(lister_mutex_);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(Prepare(lister_, sql.c_str()),
                                                                    sqlite3_finalize);
    sqlite3_stmt* st = statement.get();
    const std::optional<std::string>* bound[] = {&filter.agent_id, &filter.contact_id,
                                                 &filter.initial_contact_id};
    for (int i = 0; i < 3; ++i) {
      if (*bound[i]) BindText(st, i + 1, **bound[i]);  // unbound: NULL
    }
    BindText(st, 4, after);
    sqlite3_bind_int64(st, 5, limit == 0 ? -1 : static_cast<std::int64_t>(limit));
    std::vector<RecordingListing> rows;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      RecordingListing row;
      const std::string id = ColumnText(st, 0);
      row.recording = RecordingFromRow(st, id, 1);
      row.contact = ContactFromRow(st, 1 + kRecordingColumnCount);
      const int upload = 1 + kRecordingColumnCount + kContactColumnCount;
      if (sqlite3_column_type(st, upload) != SQLITE_NULL) row.upload = UploadFromRow(st, upload);
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) Fail(lister_, "cannot list recordings");
    return rows;
  } catch (const std::exception& error) {
    return ReadFailed("recordings", "", error);
  }
}

ReadResult<std::vector<core::AuditEntry>> SqliteContactStore::LoadAuditTrail(
    std::string_view contact_id) {
  std::lock_guard lock(reader_mutex_);
  const ResetOnExit reset{select_trail_};
  BindText(select_trail_, 1, contact_id);
  std::vector<core::AuditEntry> trail;
  int rc;
  while ((rc = sqlite3_step(select_trail_)) == SQLITE_ROW) {
    core::AuditEntry entry;
    entry.contact_id = std::string(contact_id);
    entry.at_ms = sqlite3_column_int64(select_trail_, 0);
    entry.operation = ColumnText(select_trail_, 1);
    entry.principal = ColumnText(select_trail_, 2);
    entry.result = ColumnText(select_trail_, 3);
    entry.detail = ColumnText(select_trail_, 4);
    trail.push_back(std::move(entry));
  }
  if (rc != SQLITE_DONE) {
    return ReadFailed(
        "audit trail", contact_id,
        std::runtime_error(std::string("cannot read the audit trail: ") + sqlite3_errmsg(reader_)));
  }
  return trail;
}

bool SqliteContactStore::Write(ContactWrite write, Done done) {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return false;
    queue_.push_back(Pending{std::move(write), std::move(done)});
  }
  queue_cv_.notify_one();
  return true;
}

StoreStats SqliteContactStore::Stats() const {
  std::lock_guard lock(queue_mutex_);
  StoreStats stats = stats_;
  stats.queued = queue_.size();
  stats.read_failures = read_failures_.load();
  return stats;
}

void SqliteContactStore::WriterLoop() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock lock(queue_mutex_);
      const auto ready = [this] { return stopping_ || !queue_.empty(); };
      while (!ready()) {
        if (!stats_.failing) {
          queue_cv_.wait(lock, ready);
          break;
        }
        // Failing and idle: try a write each second, so /healthz recovers once
        // the disk takes writes again, not at the next request.
        if (queue_cv_.wait_for(lock, std::chrono::seconds(1), ready)) break;
        lock.unlock();
        const std::string error = ProbeWrite();
        lock.lock();
        if (error.empty()) stats_.failing = false;
      }
      if (queue_.empty()) return;  // stopping, and everything queued is written
      batch.swap(queue_);
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string error = CommitBatch(batch);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    WalSync::Callbacks callbacks;
    callbacks.reserve(batch.size());
    for (Pending& pending : batch) callbacks.push_back(std::move(pending.done));
    {
      std::lock_guard lock(queue_mutex_);
      stats_.commits += 1;
      stats_.writes += batch.size();
      stats_.commit_seconds_total += took.count();
      if (!error.empty()) {
        stats_.failures += batch.size();
        stats_.last_error = error;
      }
      stats_.failing = !error.empty();
    }
    // A failed transaction was rolled back: nothing to sync, say so now.
    if (error.empty()) {
      wal_sync_->Submit(std::move(callbacks));
    } else {
      Report(callbacks, error);
    }
  }
}

void SqliteContactStore::Synced(WalSync::Callbacks& covered, const std::string& error,
                                double seconds) {
  {
    std::lock_guard lock(queue_mutex_);
    stats_.syncs += 1;
    stats_.sync_seconds_total += seconds;
    if (!error.empty()) {
      stats_.failures += covered.size();
      stats_.last_error = error;
      stats_.failing = true;  // until the next commit that succeeds, as for a failed commit
    }
  }
  Report(covered, error);
}

void SqliteContactStore::Report(WalSync::Callbacks& callbacks, const std::string& error) {
  for (auto& done : callbacks) {
    if (!done) continue;
    if (dispatch_) {
      dispatch_([done = std::move(done), error] { done(error.empty(), error); });
    } else {
      done(error.empty(), error);
    }
  }
}

}  // namespace callrec::store
