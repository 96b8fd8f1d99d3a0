#include "api/StaticFiles.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "core/Result.hpp"

namespace callrec::api {
namespace {

std::string_view MediaType(const std::filesystem::path& file) {
  static const std::map<std::string, std::string_view> kTypes{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? std::string_view() : it->second;
}

// The whole file, or why it cannot be read (permissions, an I/O error).
core::Result<std::string, int> ReadWhole(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root)
    : root_(std::filesystem::weakly_canonical(root)) {}

bool StaticFiles::Serves(std::string_view path) {
  return path == "/" || (path.size() > 1 && path.substr(0, 4) != "/v1/" && path != "/v1" &&
                         path.rfind('.') != std::string_view::npos);
}

HttpResponse StaticFiles::Get(const HttpRequest& request, std::string_view path) const {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return MethodNotAllowed(request);
  }
  const std::string relative = path == "/" ? "index.html" : std::string(path.substr(1));
  const bool plain = relative.find("..") == std::string::npos &&
                     relative.find('\0') == std::string::npos && relative.front() != '/';
  // The error_code forms: a directory that cannot be searched is a page that
  // is not there, not an exception.
  std::error_code ec;
  const std::filesystem::path file = std::filesystem::weakly_canonical(root_ / relative, ec);
  const std::string_view type = MediaType(file);
  // Only files of known types, inside the root (no symlink or .. escapes).
  const auto [root_end, ignored] =
      std::mismatch(root_.begin(), root_.end(), file.begin(), file.end());
  if (ec || !plain || type.empty() || root_end != root_.end() ||
      !std::filesystem::is_regular_file(file, ec)) {
    return Error(404, "NotFoundException", "No page at " + std::string(path) + ".");
  }
  auto bytes = ReadWhole(file);
  if (!bytes) {
    // A page that is there but cannot be read: the server's fault, said plainly.
    return ErrorResponse(
        aws::AwsError::InternalService("The page " + std::string(path) +
                                       " cannot be read: " + std::strerror(bytes.error()) + "."));
  }
  HttpResponse response{http::status::ok, 11};
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
               "style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'");
  if (request.method() == http::verb::get) response.body() = std::move(bytes).value();
  return response;
}

}  // namespace callrec::api
