#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/Contact.hpp"
#include "core/Result.hpp"

namespace callrec::store {

// What /v1 shows of an ended contact's recording: where the file is and the
// counters of its session when the contact ended. An erased or expired
// recording keeps its row with an empty `path` (its files are gone; it is no
// longer listed).
struct RecordingSummary {
  std::string contact_id;
  std::string path;
  std::uint64_t packets = 0;
  std::uint64_t lost = 0;
  std::uint64_t late = 0;
  std::uint64_t gated = 0;
  std::uint64_t invalid = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t frames_written = 0;

  bool operator==(const RecordingSummary&) const = default;
};

// A finished recording's way to object storage: one row of the durable upload
// queue (`uploads`), written when the recording is final and kept after it was
// uploaded (where the recording lives). `local_done`: nothing is left to do with
// the local copy (removed after its retention, kept for ever, or gone).
struct UploadRow {
  std::string contact_id;
  std::string wav_path;
  std::string state = "pending";  // pending | uploaded
  std::int64_t created_ms = 0;
  std::int64_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::string upload_id;  // a multipart upload under way (resumed after a restart)
  std::string bucket;
  std::string key;  // the WAV's object key (the metadata's is the same with .json)
  std::string etag;
  std::uint64_t bytes = 0;
  std::string last_error;
  std::int64_t uploaded_ms = 0;
  bool local_done = false;

  bool operator==(const UploadRow&) const = default;
};

// Which recordings a list wants; an unset member matches any.
struct RecordingFilter {
  std::optional<std::string> agent_id;
  std::optional<std::string> contact_id;
  std::optional<std::string> initial_contact_id;
};

// One entry of the recordings list: the recording's row, its contact's row, and
// its upload row when it was queued for object storage.
struct RecordingListing {
  RecordingSummary recording;
  core::Contact contact;
  std::optional<UploadRow> upload;
};

// One durable change: a contact's new state and/or a line of its audit trail,
// and/or the summary of a finished recording, and/or its upload's row.
struct ContactWrite {
  std::optional<core::Contact> contact;
  std::optional<core::AuditEntry> audit;
  std::optional<RecordingSummary> recording = std::nullopt;
  std::optional<UploadRow> upload = std::nullopt;
  // The upload row is written only if the recording has none yet (queued once).
  bool upload_only_if_new = false;
};

// Why a read failed: SQLite's message (an I/O error, a damaged page, busy
// beyond the timeout) or a row this build cannot read. The request that asked
// fails; nothing else does.
struct ReadError {
  std::string message;
};
template <typename T>
using ReadResult = core::Result<T, ReadError>;

struct StoreStats {
  std::uint64_t commits = 0;
  std::uint64_t writes = 0;
  std::uint64_t failures = 0;
  std::uint64_t queued = 0;
  double commit_seconds_total = 0;  // in transactions (writing, not syncing)
  std::uint64_t syncs = 0;          // syncs that made commits durable (one may cover several)
  double sync_seconds_total = 0;
  std::string last_error;
  // The last commit failed (disk full, read-only, locked): the store is failing
  // now. Cleared by the next commit that succeeds; last_error stays for the record.
  bool failing = false;
  std::uint64_t read_failures = 0;  // reads that answered a ReadError
};

// Where contacts, states and audit trails live (SQLite now, PostgreSQL later).
// Write() is asynchronous: `done` runs, on the store's own thread, once the write
// is durable (ok) or has failed; callers acknowledge clients only then. A closed
// store refuses the write at once: Write() returns false and never calls `done`
// (so callers may hold their own locks while calling it).
class ContactStore {
 public:
  using Done = std::function<void(bool ok, const std::string& error)>;

  virtual ~ContactStore() = default;
  // Reads see what is durable, from any thread. Those at start-up throw
  // std::runtime_error if the database cannot be read: the server does not start.
  virtual std::vector<core::Contact> LoadContacts() = 0;
  // Contacts not ENDED (what a server holds in memory from start-up).
  virtual std::vector<core::Contact> LoadLiveContacts() = 0;
  virtual std::size_t CountEndedContacts() = 0;
  // Those that serve requests answer a ReadError instead (counted in Stats,
  // logged once with SQLite's message).
  // ENDED contacts, all of them or one agent's, in ContactId order: those after
  // `after` (all if empty), at most `limit` (all if 0).
  virtual ReadResult<std::vector<core::Contact>> LoadEndedContacts(
      const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit) = 0;
  // Live contacts other servers own (several servers sharing one store), in
  // ContactId order, as LoadEndedContacts reads ended ones. A store one server
  // holds alone has none.
  virtual ReadResult<std::vector<core::Contact>> LoadOthersLiveContacts(
      const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit) {
    (void)agent_id;
    (void)after;
    (void)limit;
    return std::vector<core::Contact>{};
  }
  virtual ReadResult<std::optional<core::Contact>> LoadContact(std::string_view contact_id) = 0;
  virtual ReadResult<std::optional<RecordingSummary>> LoadRecording(
      std::string_view contact_id) = 0;
  virtual ReadResult<std::vector<core::AuditEntry>> LoadAuditTrail(std::string_view contact_id) = 0;
  // Upload rows with work left: pending ones, and uploaded ones whose local copy
  // is still to be removed (oldest first).
  virtual ReadResult<std::vector<UploadRow>> LoadOpenUploads() = 0;
  // One recording's upload row, whatever its state (nullopt: never queued).
  virtual ReadResult<std::optional<UploadRow>> LoadUpload(std::string_view contact_id) = 0;
  // The recordings list (GET /v1/recordings): rows of `recordings` with a path
  // (not erased) whose contact row matches `filter`, each with its contact and
  // upload rows, in ContactId order: those after `after` (all if empty), at
  // most `limit` (all if 0). In SQL: recordings JOIN contacts LEFT JOIN uploads,
  // all on contact_id.
  virtual ReadResult<std::vector<RecordingListing>> ListRecordings(const RecordingFilter& filter,
                                                                   std::string_view after,
                                                                   std::size_t limit) = 0;
  virtual bool Write(ContactWrite write, Done done) = 0;
  virtual StoreStats Stats() const = 0;

  // Changes other servers sharing this store committed (PostgreSQL; a lone
  // SQLite store has none and ignores this): `changes` runs on the store's own
  // thread, once per committed write of a contact or an audit line, in commit
  // order, with the contact as that commit left it and the write's audit line
  // (nullopt when the write had none, or after a lost feed: then each contact
  // another server changed meanwhile comes once, as it is now). An empty
  // `changes` stops watching; call it before what `changes` uses goes away.
  using RemoteChanges =
      std::function<void(const core::Contact&, const std::optional<core::AuditEntry>&)>;
  virtual void WatchOtherServers(RemoteChanges changes) { (void)changes; }
};

}  // namespace callrec::store
