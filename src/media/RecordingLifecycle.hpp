#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/Result.hpp"
#include "log/Barrier.hpp"

namespace callrec::media {

// How long recordings are kept, and the exceptions: a legal hold exempts a
// recording from retention and erasure until it is released; an erasure (a
// data subject's request) removes the WAV and its metadata. The files only:
// each step is audited by whoever calls (the contact's trail), before it
// happens.

// A legal hold as kept beside the recording (<ContactId>.hold, JSON).
struct LegalHold {
  std::string since;  // ISO 8601 UTC
  std::string by;     // principal
  std::string reason;
};

// The hold on the recording whose WAV is `wav`, if any.
std::optional<LegalHold> HoldOf(const std::filesystem::path& wav);
// Places (durably: fsync'd file and directory) or releases a hold.
core::Result<bool, std::string> PlaceHold(const std::filesystem::path& wav, const LegalHold& hold);
core::Result<bool, std::string> ReleaseHold(const std::filesystem::path& wav);
// Removes the WAV, its metadata JSON and its peaks (and syncs the directory); an error
// names what could not be removed.
core::Result<bool, std::string> EraseRecordingFiles(const std::filesystem::path& wav);
// Removes the WAV only (and syncs the directory): the recording lives elsewhere
// now (S3), and its metadata stays beside where it was, saying so.
core::Result<bool, std::string> RemoveAudioFile(const std::filesystem::path& wav);

// Deletes recordings that ended more than `keep` ago, unless held, every
// interval (a tenth of `keep`, between 1 s and 60 s), on a thread of its own
// (it scans the disk and waits for audit lines: never on a request's or a
// packet's thread). `expire` is told first (it audits, durably, and answers
// whether to go on); the files go after.
class RetentionSweeper {
 public:
  using WallClock = std::function<std::int64_t()>;  // ms since the epoch
  // contact id, the WAV; false: keep it this time (the audit line failed).
  using Expire = std::function<bool(const std::string& contact_id, const std::filesystem::path&)>;

  RetentionSweeper(std::filesystem::path recordings_dir, std::chrono::milliseconds keep,
                   WallClock clock, Expire expire);
  ~RetentionSweeper();
  void Stop();

  // One pass now (also what the thread runs); returns how many were deleted.
  std::size_t Sweep();
  std::uint64_t expired() const { return expired_.load(); }
  std::uint64_t failures() const { return failures_.load(); }
  // Sweeps that threw (media.handler_failed): the thread sweeps again later.
  std::uint64_t handler_exceptions() const { return barrier_.caught(); }

 private:
  void Run();

  const std::filesystem::path dir_;
  const std::chrono::milliseconds keep_;
  WallClock clock_;
  Expire expire_;
  std::atomic<std::uint64_t> expired_{0}, failures_{0};
  log::ExceptionBarrier barrier_{"media.handler_failed"};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace callrec::media
