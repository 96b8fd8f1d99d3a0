#include "files/AtomicFile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace callrec::files {

std::optional<std::string> ReplaceFile(const std::filesystem::path& path, std::string_view text,
                                       const ReplaceOptions& options) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  auto failed = [&](const std::string& what, int error) {
    ::unlink(temporary.c_str());  // what it holds is of no use, and takes space
    return what + ": " + std::strerror(error);
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, options.mode);
  if (fd < 0) return failed("cannot write " + temporary.string(), errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n == 0 ? ENOSPC : errno;  // nothing written: the disk is full
      ::close(fd);
      return failed("cannot write " + temporary.string(), error);
    }
    done += static_cast<std::size_t>(n);
  }
  if (options.durable && ::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    return failed("cannot write " + temporary.string(), error);
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return failed("cannot replace " + path.string(), errno);
  }
  if (options.sync_directory) SyncDirectory(path.parent_path());
  return std::nullopt;
}

std::optional<boost::json::object> ReadJsonObject(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(text.str(), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

bool SyncDirectory(const std::filesystem::path& directory) {
  const int fd =
      ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace callrec::files
