#include "app/InstalledFiles.hpp"

#include <system_error>

namespace callrec::app {

std::filesystem::path InstalledFiles(std::string_view name) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "callrec" / name;
    if (std::filesystem::is_directory(installed, ec)) return installed;
  }
  return std::filesystem::path(CALLREC_SOURCE_DIR) / name;
}

}  // namespace callrec::app
