#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <mutex>

#include "control/ContactService.hpp"
#include "control/ContactTimes.hpp"

namespace callrec::api {

// --max-pause (PRODUCT.md 3): a pause that outlasts it is audited once on its
// contact (PAUSE_OVERDUE by "server") and counted. The recording stays paused:
// the server never resumes by itself; the workspace warns the agent. Checks
// four times a second on the HTTP loop.
class PauseOverdueWatch {
 public:
  using Clock = std::function<std::int64_t()>;  // ms since the epoch
  PauseOverdueWatch(boost::asio::io_context& io, control::ContactService& contacts,
                    control::ContactTimes& times, unsigned max_pause_seconds, Clock clock);
  ~PauseOverdueWatch();
  void Stop();
  // One check now (also what the timer runs).
  void Check();
  // Overdue pauses audited (for /metrics).
  std::uint64_t audited() const { return audited_.load(); }

 private:
  void Arm();

  boost::asio::steady_timer timer_;
  control::ContactService& contacts_;
  control::ContactTimes& times_;
  const std::int64_t max_pause_ms_;
  Clock clock_;
  std::mutex mutex_;
  bool stopped_ = false;  // guarded by mutex_
  std::atomic<std::uint64_t> audited_{0};
};

// "0:07", "1:02:03": how the workspace shows a length of time.
std::string ClockDuration(std::int64_t ms);

}  // namespace callrec::api
