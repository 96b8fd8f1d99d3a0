#include "sipstack/SofiaTlsDirectory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace callrec::sipstack {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("SIP TLS: cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

SofiaTlsDirectory::SofiaTlsDirectory(const std::optional<Identity>& identity,
                                     const std::filesystem::path& ca) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "callrec-sip-tls-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("SIP TLS: cannot create a private directory for the credentials");
  }
  path_ = pattern;
  try {
    if (identity) {
      Write("agent.pem", ReadFile(identity->certificate) + "\n" + ReadFile(identity->private_key));
    }
    if (!ca.empty()) Write("cafile.pem", ReadFile(ca));
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    throw;
  }
}

SofiaTlsDirectory::~SofiaTlsDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void SofiaTlsDirectory::Write(const char* name, const std::string& content) {
  const std::filesystem::path file = path_ / name;
  // Created 0600 before a byte of the key is in it.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  for (std::size_t done = 0; ok && done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("SIP TLS: cannot write " + file.string());
}

}  // namespace callrec::sipstack
