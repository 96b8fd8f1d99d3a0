#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "log/Barrier.hpp"
#include "s3/S3Client.hpp"
#include "store/ContactStore.hpp"

namespace callrec::upload {

struct UploaderConfig {
  std::string bucket;
  std::string prefix;
  std::uint64_t multipart_threshold = 16u << 20;
  std::uint64_t part_size = 8u << 20;
  // How long the local copy stays once the upload is confirmed; -1: for ever.
  std::int64_t local_retention_ms = 0;
  // Back-off after a retryable failure: base * 2^(attempts-1), at most max,
  // each drawn between half and all of it (jitter).
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{300000};
  // After a refusal a person must fix (403, 404, another 4xx): every upload
  // waits this long (doubling while it goes on, at most max_backoff) before one
  // tries again: no retry storm. (The server: half of --s3-retry-max-backoff.)
  std::chrono::milliseconds blocked_backoff{30000};
  // Stop() waits this long for the S3 request under way, then abandons it
  // (S3Client::CancelRequests): a hung S3 does not hold a stopping server for
  // the request timeout (60 s). What was abandoned is resumed or redone at the
  // next start.
  std::chrono::milliseconds stop_grace{2000};
};

// What /metrics and /healthz show.
struct UploadStats {
  std::size_t pending = 0;
  std::int64_t oldest_pending_ms = -1;            // created_ms of the oldest pending; -1: none
  std::map<std::string, std::uint64_t> failures;  // by S3Error::Reason() (and local_missing)
  std::uint64_t uploaded = 0;
  std::uint64_t uploaded_bytes = 0;
  // Non-empty while uploads are held by an error a person must fix:
  // "403 AccessDenied: ..." (the degraded reason).
  std::string blocked;
  std::string last_error;
  std::size_t erasing = 0;   // recordings whose S3 objects are still to be deleted
  std::uint64_t erased = 0;  // recordings whose S3 objects were deleted (this run)
};

// Takes finished recordings from the data directory to S3, one at a time, on a
// thread of its own (never the media path's): a durable queue in the state
// store (store::UploadRow), a single PUT up to the multipart threshold and
// parts above it (resumed after a restart through ListParts, each part checked
// against its ETag; a failed Complete is aborted and redone), a HEAD that
// confirms size and SHA-256 before the metadata JSON is written beside it, and
// only then the row marked uploaded and the local copy removed (per
// local_retention_ms, never under a legal hold).
class RecordingUploader {
 public:
  using WallClock = std::function<std::int64_t()>;  // ms since the epoch

  RecordingUploader(UploaderConfig config, const s3::S3Client& client, store::ContactStore& store,
                    WallClock clock);
  ~RecordingUploader();
  RecordingUploader(const RecordingUploader&) = delete;
  RecordingUploader& operator=(const RecordingUploader&) = delete;

  // Reads the open rows (kill -9 or a restart left) and starts the thread.
  // Throws std::runtime_error if the queue cannot be read.
  void Start();
  // Finishes the request under way (within UploaderConfig::stop_grace, else
  // it is abandoned) and stops; what is left stays queued.
  void Stop();

  // A recording is final: queued durably, then uploaded. Any thread; does not
  // wait for the disk or the network.
  void Enqueue(const std::string& contact_id, const std::filesystem::path& wav);

  // An erasure (DELETE /v1/recordings/{id}, --retention) of a recording that was
  // queued for S3 (`row`: its upload row as read): the row becomes "erasing",
  // durably (`done` runs once it is, or failed; call it before the local files
  // go: the object key comes from the metadata), and on the thread its objects
  // are deleted (the WAV and the metadata JSON; an open multipart upload is
  // aborted), retried with back-off like an upload, after a restart too; then
  // the row says "erased". An upload of it under way is abandoned: what it
  // would write later is dropped, and what it sent is deleted.
  using Done = std::function<void(bool ok, const std::string& error)>;
  void Erase(store::UploadRow row, Done done);
  // Told on the thread once S3 confirmed a recording's objects deleted (error
  // empty), and after each delete that failed (retried): the server audits both.
  using ErasureListener =
      std::function<void(const store::UploadRow& row, const std::string& error)>;
  void OnErasure(ErasureListener listener) { on_erasure_ = std::move(listener); }  // before Start

  UploadStats Stats() const;
  std::uint64_t handler_exceptions() const { return barrier_.caught(); }

 private:
  enum class Outcome { kDone, kRetry, kBlocked };
  void Run();
  // One attempt at a row (on the thread, without the lock).
  Outcome Attempt(store::UploadRow& row);
  s3::S3Result<std::string> UploadWav(store::UploadRow& row, const s3::ObjectHeaders& headers,
                                      std::uint64_t size);
  s3::S3Result<std::string> UploadMultipart(store::UploadRow& row, const s3::ObjectHeaders& headers,
                                            std::uint64_t size);
  Outcome Failed(store::UploadRow& row, const s3::S3Error& error, std::int64_t now);
  void RemoveLocalIfDue(store::UploadRow& row, std::int64_t now);
  void EraseObjects(store::UploadRow& row);
  // Erasure requested (mutex_ held): an upload's writes of this row are dropped.
  bool Superseded(const store::UploadRow& row) const;
  // Writes the row and waits until it is durable (false: failed, or stopping).
  bool Persist(const store::UploadRow& row);
  void Update(const store::UploadRow& row);  // the in-memory copy

  const UploaderConfig config_;
  const s3::S3Client& client_;
  store::ContactStore& store_;
  WallClock clock_;
  log::ExceptionBarrier barrier_{"upload.handler_failed"};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finished_ = false;                         // Run() returned
  std::map<std::string, store::UploadRow> rows_;  // open rows only
  std::set<std::string> erasing_;                 // erasures not yet confirmed by S3
  std::uint64_t erased_ = 0;
  ErasureListener on_erasure_;
  std::int64_t blocked_until_ = 0;
  std::chrono::milliseconds blocked_for_{0};
  std::string blocked_;
  std::string last_error_;
  std::map<std::string, std::uint64_t> failures_;
  std::uint64_t uploaded_ = 0;
  std::uint64_t uploaded_bytes_ = 0;
  std::uint64_t persist_seq_ = 0;
  std::map<std::uint64_t, bool> persisted_;  // seq -> ok, until Persist reads it
  std::mt19937_64 random_{std::random_device{}()};
  std::thread thread_;
};

}  // namespace callrec::upload
