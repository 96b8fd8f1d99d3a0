#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/ServerConfig.hpp"

namespace callrec::config {

// The secrets the server accepts. Configured ones win; otherwise they are read
// from, or generated once into, <data-dir>/credentials.json (mode 0600), so a
// restart keeps working with the same keys.
struct ResolvedCredentials {
  std::vector<AccessKey> access_keys;
  std::string admin_token;
  std::filesystem::path file;  // where generated secrets live (empty if none)
  bool generated_now = false;
};

// Throws std::runtime_error if the file exists but cannot be read or parsed.
ResolvedCredentials ResolveCredentials(const ServerConfig& config);

}  // namespace callrec::config
