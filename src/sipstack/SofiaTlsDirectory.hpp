#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace callrec::sipstack {

// sofia-sip reads its TLS credentials from a directory (TPTAG_CERTIFICATE):
// agent.pem (the certificate chain and its private key in one file) and
// cafile.pem (the CAs a peer's certificate must chain to). This writes them
// to a private directory (0700, files 0600) that exists only as long as the
// object: give it to nua_create and destroy it afterwards, sofia-sip has
// loaded the files into OpenSSL by then. Throws std::runtime_error naming a
// file that cannot be read or written.
class SofiaTlsDirectory {
 public:
  struct Identity {
    std::filesystem::path certificate;
    std::filesystem::path private_key;
  };

  SofiaTlsDirectory(const std::optional<Identity>& identity, const std::filesystem::path& ca);
  ~SofiaTlsDirectory();
  SofiaTlsDirectory(const SofiaTlsDirectory&) = delete;
  SofiaTlsDirectory& operator=(const SofiaTlsDirectory&) = delete;

  std::string path() const { return path_.string(); }

 private:
  void Write(const char* name, const std::string& content);
  std::filesystem::path path_;
};

}  // namespace callrec::sipstack
