#include "store/SqliteContactStore.hpp"

#include <chrono>
#include <stdexcept>

namespace callrec::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS contacts(
  contact_id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  initial_contact_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  codec TEXT NOT NULL,
  state TEXT NOT NULL,
  final_state TEXT NOT NULL,
  track TEXT NOT NULL,
  agent_joined INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  operation TEXT NOT NULL,
  principal TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_contact ON audit(contact_id, seq);
)sql";

[[noreturn]] void Fail(sqlite3* db, const std::string& what) {
  throw std::runtime_error(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void Exec(sqlite3* db, const char* sql, const std::string& what) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw std::runtime_error(what + ": " + message);
  }
}

sqlite3* Open(const std::filesystem::path& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open state database " + path.string() + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
      SQLITE_OK) {
    Fail(db, std::string("cannot prepare statement '") + sql + "'");
  }
  return statement;
}

void BindText(sqlite3_stmt* statement, int index, std::string_view text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* statement, int index) {
  const unsigned char* text = sqlite3_column_text(statement, index);
  return text ? reinterpret_cast<const char*>(text) : "";
}

}  // namespace

SqliteContactStore::SqliteContactStore(const std::filesystem::path& path, Dispatch dispatch)
    : dispatch_(std::move(dispatch)) {
  const std::string where = "state database " + path.string();
  try {
    writer_ = Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // A corrupt or foreign file shows here, before anything is written to it.
    Exec(writer_, "PRAGMA quick_check;", where + " failed its integrity check");
    Exec(writer_, "PRAGMA journal_mode=WAL;", "cannot switch " + where + " to WAL");
    Exec(writer_, "PRAGMA synchronous=FULL;", "cannot make " + where + " durable");
    Exec(writer_, kSchema, "cannot create the schema in " + where);
    upsert_contact_ = Prepare(writer_, R"sql(
      INSERT INTO contacts(contact_id, instance_id, initial_contact_id, agent_id, codec, state,
                           final_state, track, agent_joined, created_ms, updated_ms, version)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
      ON CONFLICT(contact_id) DO UPDATE SET
        agent_id=excluded.agent_id, state=excluded.state, final_state=excluded.final_state,
        track=excluded.track, agent_joined=excluded.agent_joined,
        updated_ms=excluded.updated_ms, version=excluded.version)sql");
    insert_audit_ = Prepare(writer_, R"sql(
      INSERT INTO audit(contact_id, at_ms, operation, principal, result, detail)
      VALUES(?1, ?2, ?3, ?4, ?5, ?6))sql");
    reader_ = Open(path, SQLITE_OPEN_READONLY);
    // Most of a checkpoint's copying runs on its own connection and thread, beside the
    // writer (WAL lets a passive checkpoint run while commits go on), from half the
    // usual threshold. The writer still checkpoints at the usual threshold between two
    // transactions, as SQLite's automatic checkpoint does, so the WAL is reset, but by
    // then little is left to copy. synchronous=FULL on this connection too.
    checkpointer_ = Open(path, SQLITE_OPEN_READWRITE);
    Exec(checkpointer_, "PRAGMA synchronous=FULL;", "cannot make " + where + " durable");
    sqlite3_wal_hook(writer_, &SqliteContactStore::OnWalCommit, this);
  } catch (...) {
    sqlite3_finalize(upsert_contact_);
    sqlite3_finalize(insert_audit_);
    sqlite3_close(writer_);
    sqlite3_close(reader_);
    sqlite3_close(checkpointer_);
    throw;
  }
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  writer_thread_ = std::thread([this] { WriterLoop(); });
}

int SqliteContactStore::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  // SQLite's default automatic checkpoint threshold, on the writer thread.
  constexpr int kCheckpointPages = 1000;
  constexpr int kBackgroundPages = kCheckpointPages / 2;  // from here, every 250 new pages
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
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

SqliteContactStore::~SqliteContactStore() {
  Close();
  sqlite3_finalize(upsert_contact_);
  sqlite3_finalize(insert_audit_);
  sqlite3_close(reader_);
  sqlite3_close(checkpointer_);
  sqlite3_close(writer_);
}

std::vector<core::Contact> SqliteContactStore::LoadContacts() {
  std::lock_guard lock(reader_mutex_);
  sqlite3_stmt* statement = Prepare(reader_, R"sql(
    SELECT contact_id, instance_id, initial_contact_id, agent_id, codec, state, final_state,
           track, agent_joined, created_ms, updated_ms, version FROM contacts)sql");
  std::vector<core::Contact> contacts;
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    core::Contact c;
    c.contact_id = ColumnText(statement, 0);
    c.instance_id = ColumnText(statement, 1);
    c.initial_contact_id = ColumnText(statement, 2);
    c.agent_id = ColumnText(statement, 3);
    c.codec = ColumnText(statement, 4);
    const std::string state = ColumnText(statement, 5);
    const std::string final_state = ColumnText(statement, 6);
    const std::string track = ColumnText(statement, 7);
    auto parsed_state = core::ParseRecordingState(state);
    auto parsed_final = core::ParseRecordingState(final_state);
    if (!parsed_state || !parsed_final) {
      sqlite3_finalize(statement);
      throw std::runtime_error("state database holds an unknown state '" + state +
                               "' for contact " + c.contact_id);
    }
    c.recording.state = *parsed_state;
    c.recording.final_state = *parsed_final;
    c.recording.track = core::ParseTrack(track).value_or(core::Track::kNone);
    c.recording.agent_joined = sqlite3_column_int(statement, 8) != 0;
    c.created_ms = sqlite3_column_int64(statement, 9);
    c.updated_ms = sqlite3_column_int64(statement, 10);
    c.version = sqlite3_column_int64(statement, 11);
    contacts.push_back(std::move(c));
  }
  sqlite3_finalize(statement);
  if (rc != SQLITE_DONE) Fail(reader_, "cannot read contacts");
  return contacts;
}

std::vector<core::AuditEntry> SqliteContactStore::LoadAuditTrail(std::string_view contact_id) {
  std::lock_guard lock(reader_mutex_);
  sqlite3_stmt* statement = Prepare(reader_, R"sql(
    SELECT at_ms, operation, principal, result, detail FROM audit
    WHERE contact_id = ?1 ORDER BY seq)sql");
  BindText(statement, 1, contact_id);
  std::vector<core::AuditEntry> trail;
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    core::AuditEntry entry;
    entry.contact_id = std::string(contact_id);
    entry.at_ms = sqlite3_column_int64(statement, 0);
    entry.operation = ColumnText(statement, 1);
    entry.principal = ColumnText(statement, 2);
    entry.result = ColumnText(statement, 3);
    entry.detail = ColumnText(statement, 4);
    trail.push_back(std::move(entry));
  }
  sqlite3_finalize(statement);
  if (rc != SQLITE_DONE) Fail(reader_, "cannot read the audit trail");
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
  return stats;
}

void SqliteContactStore::WriterLoop() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      batch.swap(queue_);
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string error = CommitBatch(batch);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    {
      std::lock_guard lock(queue_mutex_);
      stats_.commits += 1;
      stats_.writes += batch.size();
      stats_.commit_seconds_total += took.count();
      if (!error.empty()) {
        stats_.failures += batch.size();
        stats_.last_error = error;
      }
    }
    for (Pending& pending : batch) {
      if (!pending.done) continue;
      if (dispatch_) {
        dispatch_([done = std::move(pending.done), error] { done(error.empty(), error); });
      } else {
        pending.done(error.empty(), error);
      }
    }
  }
}

std::string SqliteContactStore::CommitBatch(std::deque<Pending>& batch) {
  auto step = [this](sqlite3_stmt* statement) -> std::string {
    int rc = sqlite3_step(statement);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return rc == SQLITE_DONE ? "" : sqlite3_errmsg(writer_);
  };
  if (sqlite3_exec(writer_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return std::string("cannot begin a transaction: ") + sqlite3_errmsg(writer_);
  }
  std::string error;
  for (const Pending& pending : batch) {
    if (const auto& c = pending.write.contact) {
      BindText(upsert_contact_, 1, c->contact_id);
      BindText(upsert_contact_, 2, c->instance_id);
      BindText(upsert_contact_, 3, c->initial_contact_id);
      BindText(upsert_contact_, 4, c->agent_id);
      BindText(upsert_contact_, 5, c->codec);
      BindText(upsert_contact_, 6, core::ToString(c->recording.state));
      BindText(upsert_contact_, 7, core::ToString(c->recording.final_state));
      BindText(upsert_contact_, 8, core::ToString(c->recording.track));
      sqlite3_bind_int(upsert_contact_, 9, c->recording.agent_joined ? 1 : 0);
      sqlite3_bind_int64(upsert_contact_, 10, c->created_ms);
      sqlite3_bind_int64(upsert_contact_, 11, c->updated_ms);
      sqlite3_bind_int64(upsert_contact_, 12, c->version);
      error = step(upsert_contact_);
      if (!error.empty()) break;
    }
    if (const auto& a = pending.write.audit) {
      BindText(insert_audit_, 1, a->contact_id);
      sqlite3_bind_int64(insert_audit_, 2, a->at_ms);
      BindText(insert_audit_, 3, a->operation);
      BindText(insert_audit_, 4, a->principal);
      BindText(insert_audit_, 5, a->result);
      BindText(insert_audit_, 6, a->detail);
      error = step(insert_audit_);
      if (!error.empty()) break;
    }
  }
  if (error.empty() && sqlite3_exec(writer_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    error = std::string("commit failed: ") + sqlite3_errmsg(writer_);
  }
  if (!error.empty()) sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
  return error;
}

}  // namespace callrec::store
