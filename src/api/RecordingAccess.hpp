#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "control/ContactService.hpp"

namespace callrec::api {

// Who read which recording (PCI DSS 10.2.1: access to sensitive data is
// logged): every playback, download and metadata read becomes a line of the
// contact's audit trail (PLAYBACK, DOWNLOAD, READ_METADATA, with the byte
// range). The ranged reads one playback makes are folded: one line per
// contact, principal, operation and minute. A read is served only once its
// line is durable; when it cannot be written the read is refused.
class RecordingAccessLog {
 public:
  using Clock = std::function<std::int64_t()>;  // milliseconds since the epoch
  using Done = std::function<void(std::optional<control::ControlError>)>;

  RecordingAccessLog(control::ContactService& contacts, Clock clock)
      : contacts_(contacts), clock_(std::move(clock)) {}

  // `done` runs once the line is durable, at once when this read is folded
  // into a line already written this minute, or with the error that kept it
  // from being written.
  void Record(const std::string& contact_id, const std::string& principal,
              std::string_view operation, const std::string& detail, Done done);

  // Lines written and reads folded into them (for /metrics).
  std::uint64_t written() const;
  std::uint64_t folded() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // contact, principal, operation

  control::ContactService& contacts_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::int64_t minute_ = -1;
  std::map<Key, bool> this_minute_;  // lines written (or being written) this minute
  std::uint64_t written_ = 0;
  std::uint64_t folded_ = 0;
};

}  // namespace callrec::api
