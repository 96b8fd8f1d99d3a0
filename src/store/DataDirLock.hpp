#pragma once

#include <filesystem>

namespace callrec::store {

// An exclusive lock on the data directory, so that two servers never write the
// same database and recordings. Held for the object's lifetime.
class DataDirLock {
 public:
  // Throws std::runtime_error naming the directory if another process holds it.
  explicit DataDirLock(const std::filesystem::path& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace callrec::store
