// The store's write path, on the writer thread: one batch of writes in one
// transaction, each audit line linked to its contact's previous one (see
// SqliteSchema.hpp), and the cache of live contacts' trail heads that makes the
// links cheap. The rest of the class is in SqliteContactStore.cpp.
#include "store/Sqlite.hpp"
#include "store/SqliteContactStore.hpp"

#include <string>

namespace callrec::store {

using sqlite::BindText;
using sqlite::ResetOnExit;
using sqlite::StepDone;

std::string SqliteContactStore::ResetTrailHeads() {
  heads_.clear();
  last_seq_ = 0;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(writer_, "SELECT COALESCE(MAX(seq), 0) FROM audit", -1, &statement,
                         nullptr) != SQLITE_OK) {
    return sqlite3_errmsg(writer_);
  }
  std::string error;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    last_seq_ = sqlite3_column_int64(statement, 0);
  } else {
    error = sqlite3_errmsg(writer_);
  }
  sqlite3_finalize(statement);
  return error;
}

std::string SqliteContactStore::FindHead(const std::string& contact_id, TrailHead*& head) {
  auto it = heads_.find(contact_id);
  if (it == heads_.end()) {
    TrailHead found;
    auto read = [&contact_id](sqlite3_stmt* statement, auto&& row) -> std::string {
      const ResetOnExit reset{statement};
      BindText(statement, 1, contact_id);
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_ROW) row(statement);
      return rc == SQLITE_ROW || rc == SQLITE_DONE ? ""
                                                   : sqlite3_errmsg(sqlite3_db_handle(statement));
    };
    std::string error = read(select_head_, [&found](sqlite3_stmt* statement) {
      found = TrailHead{sqlite3_column_int64(statement, 0), true,
                        sqlite3_column_int(statement, 1) != 0};
    });
    if (error.empty() && !found.has_row) {
      error = read(select_loose_head_, [&found](sqlite3_stmt* statement) {
        found.seq = sqlite3_column_int64(statement, 0);
      });
    }
    if (!error.empty()) return "cannot read the audit trail head: " + error;
    it = heads_.emplace(contact_id, found).first;
  }
  head = &it->second;
  return "";
}

void SqliteContactStore::ForgetSettledHead(const std::string& contact_id) {
  auto it = heads_.find(contact_id);
  if (it != heads_.end() && (it->second.ended || !it->second.has_row)) heads_.erase(it);
}

std::string SqliteContactStore::WriteTrailHead(const std::string& contact_id, TrailHead& head) {
  if (head.has_row) {
    BindText(update_head_, 1, contact_id);
    sqlite3_bind_int64(update_head_, 2, head.seq);
    if (std::string error = StepDone(update_head_); !error.empty()) return error;
    if (sqlite3_changes(writer_) > 0) return "";
    head.has_row = false;  // not expected: the row is gone, so the head goes aside
  }
  BindText(upsert_loose_head_, 1, contact_id);
  sqlite3_bind_int64(upsert_loose_head_, 2, head.seq);
  return StepDone(upsert_loose_head_);
}

std::string SqliteContactStore::WriteContact(const core::Contact& c, TrailHead& head) {
  if (head.has_row) {
    BindText(update_contact_, 1, c.contact_id);
    BindText(update_contact_, 2, c.agent_id);
    BindText(update_contact_, 3, core::ToString(c.recording.state));
    BindText(update_contact_, 4, core::ToString(c.recording.final_state));
    BindText(update_contact_, 5, core::ToString(c.recording.track));
    sqlite3_bind_int(update_contact_, 6, c.recording.agent_joined ? 1 : 0);
    sqlite3_bind_int64(update_contact_, 7, c.updated_ms);
    sqlite3_bind_int64(update_contact_, 8, c.version);
    sqlite3_bind_int64(update_contact_, 9, head.seq);
    if (std::string error = StepDone(update_contact_); !error.empty()) return error;
    if (sqlite3_changes(writer_) > 0) return "";
  }
  const bool loose = !head.has_row && head.seq != 0;
  BindText(insert_contact_, 1, c.contact_id);
  BindText(insert_contact_, 2, c.instance_id);
  BindText(insert_contact_, 3, c.initial_contact_id);
  BindText(insert_contact_, 4, c.agent_id);
  BindText(insert_contact_, 5, c.codec);
  BindText(insert_contact_, 6, core::ToString(c.recording.state));
  BindText(insert_contact_, 7, core::ToString(c.recording.final_state));
  BindText(insert_contact_, 8, core::ToString(c.recording.track));
  sqlite3_bind_int(insert_contact_, 9, c.recording.agent_joined ? 1 : 0);
  sqlite3_bind_int64(insert_contact_, 10, c.created_ms);
  sqlite3_bind_int64(insert_contact_, 11, c.updated_ms);
  sqlite3_bind_int64(insert_contact_, 12, c.version);
  sqlite3_bind_int64(insert_contact_, 13, head.seq);
  if (std::string error = StepDone(insert_contact_); !error.empty()) return error;
  head.has_row = true;
  if (!loose) return "";
  // The trail began before the contact had a row: the row holds its head from now on.
  BindText(delete_loose_head_, 1, c.contact_id);
  return StepDone(delete_loose_head_);
}

std::string SqliteContactStore::WriteRecording(const RecordingSummary& r) {
  BindText(upsert_recording_, 1, r.contact_id);
  BindText(upsert_recording_, 2, r.path);
  int index = 3;
  for (std::uint64_t value :
       {r.packets, r.lost, r.late, r.gated, r.invalid, r.duplicates, r.frames_written}) {
    sqlite3_bind_int64(upsert_recording_, index++, static_cast<sqlite3_int64>(value));
  }
  return StepDone(upsert_recording_);
}

std::string SqliteContactStore::WriteOne(const ContactWrite& write) {
  if (const auto& a = write.audit) {
    // Pointers into heads_ stay valid while other keys are added.
    TrailHead* head = nullptr;
    if (std::string error = FindHead(a->contact_id, head); !error.empty()) return error;
    const std::int64_t seq = last_seq_ + 1;
    sqlite3_bind_int64(insert_audit_, 1, seq);
    BindText(insert_audit_, 2, a->contact_id);
    sqlite3_bind_int64(insert_audit_, 3, a->at_ms);
    BindText(insert_audit_, 4, a->operation);
    BindText(insert_audit_, 5, a->principal);
    BindText(insert_audit_, 6, a->result);
    BindText(insert_audit_, 7, a->detail);
    sqlite3_bind_int64(insert_audit_, 8, head->seq);
    if (std::string error = StepDone(insert_audit_); !error.empty()) return error;
    last_seq_ = seq;
    head->seq = seq;
    // A contact written with its own audit line carries the new head in its row.
    const bool row_follows = write.contact && write.contact->contact_id == a->contact_id;
    if (!row_follows) {
      if (std::string error = WriteTrailHead(a->contact_id, *head); !error.empty()) return error;
      ForgetSettledHead(a->contact_id);
    }
  }
  if (const auto& c = write.contact) {
    TrailHead* head = nullptr;
    if (std::string error = FindHead(c->contact_id, head); !error.empty()) return error;
    if (std::string error = WriteContact(*c, *head); !error.empty()) return error;
    head->ended = c->state() == core::RecordingState::kEnded;
    ForgetSettledHead(c->contact_id);
  }
  if (const auto& r = write.recording) {
    if (std::string error = WriteRecording(*r); !error.empty()) return error;
  }
  if (const auto& u = write.upload) return WriteUpload(*u, write.upload_only_if_new);
  return "";
}

std::string SqliteContactStore::WriteUpload(const UploadRow& u, bool only_if_new) {
  sqlite3_stmt* const statement = only_if_new ? insert_upload_ : upsert_upload_;
  BindText(statement, 1, u.contact_id);
  BindText(statement, 2, u.wav_path);
  BindText(statement, 3, u.state);
  sqlite3_bind_int64(statement, 4, u.created_ms);
  sqlite3_bind_int64(statement, 5, u.attempts);
  sqlite3_bind_int64(statement, 6, u.next_attempt_ms);
  BindText(statement, 7, u.upload_id);
  BindText(statement, 8, u.bucket);
  BindText(statement, 9, u.key);
  BindText(statement, 10, u.etag);
  sqlite3_bind_int64(statement, 11, static_cast<sqlite3_int64>(u.bytes));
  BindText(statement, 12, u.last_error);
  sqlite3_bind_int64(statement, 13, u.uploaded_ms);
  sqlite3_bind_int(statement, 14, u.local_done ? 1 : 0);
  return StepDone(statement);
}

std::string SqliteContactStore::ProbeWrite() {
  sqlite3_stmt* read = nullptr;  // not sqlite::Prepare: it throws, and this thread must not
  if (sqlite3_prepare_v2(writer_, "PRAGMA user_version", -1, &read, nullptr) != SQLITE_OK ||
      sqlite3_step(read) != SQLITE_ROW) {
    std::string error = sqlite3_errmsg(writer_);
    sqlite3_finalize(read);
    return error;
  }
  const std::string rewrite =
      "PRAGMA user_version = " + std::to_string(sqlite3_column_int64(read, 0));
  sqlite3_finalize(read);
  if (std::string error = StepDone(begin_); !error.empty()) return error;
  char* message = nullptr;
  std::string error;
  if (sqlite3_exec(writer_, rewrite.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    error = message ? message : "cannot write";
  }
  sqlite3_free(message);
  if (error.empty()) error = StepDone(commit_);
  if (!error.empty()) StepDone(rollback_);
  return error;
}

std::string SqliteContactStore::CommitBatch(std::deque<Pending>& batch) {
  if (heads_stale_) {
    if (std::string error = ResetTrailHeads(); !error.empty()) {
      return "cannot read the audit trail heads: " + error;
    }
    heads_stale_ = false;
  }
  if (std::string error = StepDone(begin_); !error.empty()) {
    return "cannot begin a transaction: " + error;
  }
  std::string error;
  for (const Pending& pending : batch) {
    error = WriteOne(pending.write);
    if (!error.empty()) break;
  }
  if (error.empty()) {
    if (std::string failed = StepDone(commit_); !failed.empty()) error = "commit failed: " + failed;
  }
  if (!error.empty()) {
    StepDone(rollback_);
    heads_stale_ = true;  // the heads and sequence numbers of this batch were rolled back
  }
  return error;
}

}  // namespace callrec::store
