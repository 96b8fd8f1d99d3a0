#pragma once

#include <string>

namespace callrec::media {

// Why a media file operation failed, in words fit for a log line or an API
// error. A distinct type so that core::Result<std::string, MediaError> is
// never ambiguous.
struct MediaError {
  std::string message;
  bool ports_exhausted = false;  // Attach: every port of the range is in use
};

}  // namespace callrec::media
