#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace callrec::control {

// What SIGTERM waits for before the server stops: each step is something the
// node still owes (live calls, their recordings' last writes, their uploads),
// polled in order until none remains or the time is up. A step once clear is
// not asked again, so a late step cannot hold an earlier one open. The drain
// decides nothing about SIP or HTTP itself: the server stops taking new work
// before Begin, and stops for good in `done`.
class ShutdownDrain {
 public:
  struct Step {
    std::string name;
    // How much of it is still owed (0: done). Called on the executor.
    std::function<std::size_t()> remaining;
  };
  struct Outcome {
    bool complete = false;      // every step cleared before the timeout
    std::string waiting_for;    // the step still owed (empty when complete)
    std::size_t remaining = 0;  // how much of it
    std::int64_t elapsed_ms = 0;
  };
  using Done = std::function<void(const Outcome&)>;
  using Clock = std::function<std::int64_t()>;  // milliseconds, monotonic

  ShutdownDrain(const boost::asio::any_io_executor& executor, std::vector<Step> steps, Clock clock,
                std::chrono::milliseconds poll = std::chrono::milliseconds(50));
  ShutdownDrain(const ShutdownDrain&) = delete;
  ShutdownDrain& operator=(const ShutdownDrain&) = delete;

  // Starts polling; `done` is called once, on the executor, when every step is
  // clear or `timeout` has passed (also at once when there is nothing owed).
  void Begin(std::chrono::milliseconds timeout, Done done);
  // Stops polling without calling `done` (a second signal stops the server).
  void Cancel();
  bool running() const { return running_; }

 private:
  void Poll();

  boost::asio::steady_timer timer_;
  std::vector<Step> steps_;
  Clock clock_;
  std::chrono::milliseconds poll_;
  std::size_t step_ = 0;
  std::int64_t started_ms_ = 0;
  std::int64_t deadline_ms_ = 0;
  Done done_;
  bool running_ = false;
};

}  // namespace callrec::control
