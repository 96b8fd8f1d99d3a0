#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace callrec::store {

// Makes committed transactions durable beside the writer rather than inside its
// commit. The writer commits with synchronous=NORMAL (the transaction's frames are
// written to the write-ahead log, not yet synced) and hands the commit's callbacks
// here; this thread fdatasync()s the log, then reports every commit handed over
// before that sync began. So the writer runs the next transaction while the disk
// syncs the last one, and one sync covers every commit made while the previous one
// ran. Nothing is reported ok before the sync that covers it returned: the same
// guarantee as synchronous=FULL, which syncs the log at the end of every commit.
// (SQLite itself still syncs the log before a checkpoint copies it into the
// database, and a reset log's header, as synchronous=NORMAL does.)
class WalSync {
 public:
  using Callbacks = std::vector<std::function<void(bool ok, const std::string& error)>>;
  // Runs on this thread after each sync with what it covered: `error` empty if the
  // sync succeeded, and the time the sync took.
  using Report = std::function<void(Callbacks& covered, const std::string& error, double seconds)>;

  // Opens `wal` (which SQLite has created: the writer has read the database), and
  // syncs its directory once, so the log's name is durable too. Throws
  // std::runtime_error with a plain message if either fails.
  WalSync(const std::filesystem::path& wal, Report report);
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // The callbacks of one commit that has returned. Writer thread.
  void Submit(Callbacks commit);
  // Callbacks handed over and not yet reported.
  std::size_t Pending() const;
  // Syncs and reports what was handed over, then stops. Idempotent.
  void Close();

 private:
  void Loop();

  int fd_ = -1;
  Report report_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Callbacks pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace callrec::store
