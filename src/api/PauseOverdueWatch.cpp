#include "api/PauseOverdueWatch.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "log/Log.hpp"

namespace callrec::api {

std::string ClockDuration(std::int64_t ms) {
  const std::int64_t total = std::max<std::int64_t>(0, ms / 1000);
  const std::int64_t hours = total / 3600, minutes = total / 60 % 60, seconds = total % 60;
  auto two = [](std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  return hours > 0 ? std::to_string(hours) + ":" + two(minutes) + ":" + two(seconds)
                   : std::to_string(minutes) + ":" + two(seconds);
}

PauseOverdueWatch::PauseOverdueWatch(boost::asio::io_context& io, control::ContactService& contacts,
                                     control::ContactTimes& times, unsigned max_pause_seconds,
                                     Clock clock)
    : timer_(io),
      contacts_(contacts),
      times_(times),
      max_pause_ms_(static_cast<std::int64_t>(max_pause_seconds) * 1000),
      clock_(std::move(clock)) {
  Arm();
}

PauseOverdueWatch::~PauseOverdueWatch() {
  Stop();
}

void PauseOverdueWatch::Stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  timer_.cancel();
}

void PauseOverdueWatch::Arm() {
  timer_.expires_after(std::chrono::milliseconds(250));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Check();
    std::lock_guard lock(mutex_);
    if (!stopped_) Arm();
  });
}

void PauseOverdueWatch::Check() {
  const std::int64_t now = clock_();
  for (const auto& due : times_.TakeOverdue(now, max_pause_ms_)) {
    // The pause's start is the PAUSE line before this one.
    const std::string detail = "paused longer than --max-pause " + ClockDuration(max_pause_ms_) +
                               "; the recording stays paused until it is resumed";
    log::Warn("pause.overdue", {{"contact", due.contact_id}, {"max_pause_ms", max_pause_ms_}});
    contacts_.Note(
        due.contact_id, "PAUSE_OVERDUE", "server", detail,
        [this, id = due.contact_id](std::optional<control::ControlError> error) {
          if (error) {
            log::Error("pause.overdue_not_audited", {{"contact", id}, {"error", error->message}});
            return;
          }
          audited_ += 1;
        });
  }
}

}  // namespace callrec::api
