#include "store/SqliteSchema.hpp"

#include <stdexcept>

#include "store/Sqlite.hpp"

namespace callrec::store {
namespace {

using sqlite::Exec;

constexpr const char* kCreate = R"sql(
CREATE TABLE contacts(
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
  version INTEGER NOT NULL,
  audit_head INTEGER NOT NULL DEFAULT 0);
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  contact_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  operation TEXT NOT NULL,
  principal TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_seq INTEGER NOT NULL);
CREATE TABLE loose_trails(
  contact_id TEXT PRIMARY KEY,
  audit_head INTEGER NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 2;
)sql";

// Version 3: ended contacts are read back from here rather than kept in memory.
// The index holds ended contacts only: a state change of a live contact does not
// touch it; a contact enters it once, when it ends.
constexpr const char* kFromVersion2 = R"sql(
CREATE TABLE recordings(
  contact_id TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  packets INTEGER NOT NULL,
  lost INTEGER NOT NULL,
  late INTEGER NOT NULL,
  gated INTEGER NOT NULL,
  invalid INTEGER NOT NULL,
  duplicates INTEGER NOT NULL,
  frames_written INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX contacts_ended_by_agent ON contacts(agent_id) WHERE state = 'ENDED';
PRAGMA user_version = 3;
)sql";

// Version 4: the durable queue of uploads to object storage (one row per
// recording, kept once uploaded: where it lives). The partial index holds the
// rows with work left only, so the uploader's start-up scan does not read every
// recording ever uploaded.
constexpr const char* kFromVersion3 = R"sql(
CREATE TABLE uploads(
  contact_id TEXT PRIMARY KEY,
  wav_path TEXT NOT NULL,
  state TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  upload_id TEXT NOT NULL,
  bucket TEXT NOT NULL,
  object_key TEXT NOT NULL,
  etag TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  uploaded_ms INTEGER NOT NULL,
  local_done INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX uploads_open ON uploads(created_ms) WHERE state = 'pending' OR local_done = 0;
PRAGMA user_version = 4;
)sql";

// From the unversioned layout. Window functions need SQLite >= 3.25 (Debian 12: 3.40).
constexpr const char* kFromUnversioned = R"sql(
ALTER TABLE contacts ADD COLUMN audit_head INTEGER NOT NULL DEFAULT 0;
CREATE TABLE audit_v2(
  seq INTEGER PRIMARY KEY,
  contact_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  operation TEXT NOT NULL,
  principal TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_seq INTEGER NOT NULL);
INSERT INTO audit_v2(seq, contact_id, at_ms, operation, principal, result, detail, prev_seq)
  SELECT seq, contact_id, at_ms, operation, principal, result, detail,
         COALESCE(LAG(seq) OVER (PARTITION BY contact_id ORDER BY seq), 0)
  FROM audit ORDER BY seq;
UPDATE contacts SET audit_head =
  COALESCE((SELECT MAX(seq) FROM audit WHERE audit.contact_id = contacts.contact_id), 0);
CREATE TABLE loose_trails(
  contact_id TEXT PRIMARY KEY,
  audit_head INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO loose_trails(contact_id, audit_head)
  SELECT contact_id, MAX(seq) FROM audit
  WHERE contact_id NOT IN (SELECT contact_id FROM contacts) GROUP BY contact_id;
DROP TABLE audit;
ALTER TABLE audit_v2 RENAME TO audit;
DELETE FROM sqlite_sequence WHERE name = 'audit';
PRAGMA user_version = 2;
)sql";

bool HasTable(sqlite3* db, const char* name) {
  sqlite3_stmt* statement =
      sqlite::Prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  sqlite::BindText(statement, 1, name);
  const bool found = sqlite3_step(statement) == SQLITE_ROW;
  sqlite3_finalize(statement);
  return found;
}

// Runs `sql` in one immediate transaction: all of it or none of it.
void Transaction(sqlite3* db, const char* sql, const std::string& what) {
  Exec(db, "BEGIN IMMEDIATE", what);
  try {
    Exec(db, sql, what);
    Exec(db, "COMMIT", what);
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace

int SchemaVersion(sqlite3* db) {
  sqlite3_stmt* statement = sqlite::Prepare(db, "PRAGMA user_version");
  const int version = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int(statement, 0) : -1;
  sqlite3_finalize(statement);
  if (version < 0) sqlite::Fail(db, "cannot read the schema version");
  return version;
}

void PrepareSchema(sqlite3* db, const std::string& where) {
  const int version = SchemaVersion(db);
  if (version == kSchemaVersion) return;
  if (version > kSchemaVersion) {
    throw std::runtime_error(where + " has schema version " + std::to_string(version) +
                             ", newer than this build of callrec knows (" +
                             std::to_string(kSchemaVersion) + "); refusing to open it");
  }
  if (version != 0 && version != 2 && version != 3) {
    throw std::runtime_error(where + " has an unknown schema version " + std::to_string(version));
  }
  if (version == 0) {
    const bool has_contacts = HasTable(db, "contacts");
    const bool has_audit = HasTable(db, "audit");
    if (!has_contacts && !has_audit) {
      Transaction(db, kCreate, "cannot create the schema in " + where);
    } else if (has_contacts && has_audit) {
      Transaction(db, kFromUnversioned, "cannot migrate the audit trail of " + where);
    } else {
      throw std::runtime_error(where + " is not a callrec state database (it has a '" +
                               (has_contacts ? "contacts" : "audit") +
                               "' table but not the other)");
    }
  }
  if (version < 3) Transaction(db, kFromVersion2, "cannot add the recordings table to " + where);
  Transaction(db, kFromVersion3, "cannot add the upload queue to " + where);
}

}  // namespace callrec::store
