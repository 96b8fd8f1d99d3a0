#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace callrec::files {

struct ReplaceOptions {
  mode_t mode = 0600;           // of a new file
  bool durable = true;          // fsync the content before the rename
  bool sync_directory = false;  // fsync the directory after it
};

// Replaces `path`'s content with `text` (see README.md). nullopt on success,
// else what failed: "cannot write <path>.tmp: No space left on device".
std::optional<std::string> ReplaceFile(const std::filesystem::path& path, std::string_view text,
                                       const ReplaceOptions& options = {});

// The JSON object in `path`; nullopt when it is missing, unreadable or not one.
std::optional<boost::json::object> ReadJsonObject(const std::filesystem::path& path);

// fsync of a directory, so that a new or renamed entry in it is durable.
// False when it could not be opened or synced.
bool SyncDirectory(const std::filesystem::path& directory);

}  // namespace callrec::files
