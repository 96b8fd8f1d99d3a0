#include "api/RecordingAccess.hpp"

namespace callrec::api {

void RecordingAccessLog::Record(const std::string& contact_id, const std::string& principal,
                                std::string_view operation, const std::string& detail, Done done) {
  const std::int64_t minute = clock_() / 60'000;
  Key key{contact_id, principal, std::string(operation)};
  {
    std::lock_guard lock(mutex_);
    if (minute != minute_) {
      // Only this minute's lines fold reads: the map never outgrows a minute.
      this_minute_.clear();
      minute_ = minute;
    }
    if (!this_minute_.emplace(key, true).second) {
      folded_ += 1;
      return done(std::nullopt);
    }
  }
  contacts_.Note(contact_id, std::string(operation), principal, detail,
                 [this, key = std::move(key), minute,
                  done = std::move(done)](std::optional<control::ControlError> error) {
                   {
                     std::lock_guard lock(mutex_);
                     if (error) {
                       // Not written: the next read of this minute tries again.
                       if (minute == minute_) this_minute_.erase(key);
                     } else {
                       written_ += 1;
                     }
                   }
                   done(std::move(error));
                 });
}

std::uint64_t RecordingAccessLog::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

std::uint64_t RecordingAccessLog::folded() const {
  std::lock_guard lock(mutex_);
  return folded_;
}

}  // namespace callrec::api
