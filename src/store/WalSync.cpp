#include "store/WalSync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace callrec::store {
namespace {

std::string SystemError(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

}  // namespace

WalSync::WalSync(const std::filesystem::path& wal, Report report) : report_(std::move(report)) {
  // Any descriptor of the file will do: fdatasync writes the file's dirty pages,
  // whoever wrote them. The log keeps its inode while SQLite has the database
  // open (it is deleted only when the last connection closes).
  fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw std::runtime_error(SystemError("cannot open the write-ahead log " + wal.string(), errno));
  }
  const std::filesystem::path directory =
      wal.has_parent_path() ? wal.parent_path() : std::filesystem::path(".");
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int failed = dir < 0 || ::fsync(dir) != 0 ? errno : 0;
  if (dir >= 0) ::close(dir);
  if (failed != 0) {
    ::close(fd_);
    throw std::runtime_error(
        SystemError("cannot sync the directory " + directory.string(), failed));
  }
  thread_ = std::thread([this] { Loop(); });
}

WalSync::~WalSync() {
  Close();
  ::close(fd_);
}

void WalSync::Submit(Callbacks commit) {
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) {
      pending_ = std::move(commit);
    } else {
      for (auto& callback : commit) pending_.push_back(std::move(callback));
    }
  }
  wake_.notify_one();
}

std::size_t WalSync::Pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

void WalSync::Close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalSync::Loop() {
  for (;;) {
    Callbacks covered;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything handed over is reported
      covered.swap(pending_);
    }
    // Every commit in `covered` returned before this call: its frames are in the
    // page cache, and this sync writes them.
    const auto started = std::chrono::steady_clock::now();
    const std::string error =
        ::fdatasync(fd_) == 0 ? "" : SystemError("cannot sync the write-ahead log", errno);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    report_(covered, error, took.count());
  }
}

}  // namespace callrec::store
