#include "control/ShutdownDrain.hpp"

#include <utility>

namespace callrec::control {

ShutdownDrain::ShutdownDrain(const boost::asio::any_io_executor& executor, std::vector<Step> steps,
                             Clock clock, std::chrono::milliseconds poll)
    : timer_(executor), steps_(std::move(steps)), clock_(std::move(clock)), poll_(poll) {}

void ShutdownDrain::Begin(std::chrono::milliseconds timeout, Done done) {
  if (running_) return;
  running_ = true;
  done_ = std::move(done);
  step_ = 0;
  started_ms_ = clock_();
  deadline_ms_ = started_ms_ + timeout.count();
  Poll();
}

void ShutdownDrain::Cancel() {
  running_ = false;
  timer_.cancel();
}

void ShutdownDrain::Poll() {
  if (!running_) return;
  std::size_t remaining = 0;
  while (step_ < steps_.size() && (remaining = steps_[step_].remaining()) == 0) ++step_;
  const std::int64_t now = clock_();
  if (step_ == steps_.size() || now >= deadline_ms_) {
    running_ = false;
    Outcome outcome;
    outcome.complete = step_ == steps_.size();
    if (!outcome.complete) {
      outcome.waiting_for = steps_[step_].name;
      outcome.remaining = remaining;
    }
    outcome.elapsed_ms = now - started_ms_;
    Done done = std::move(done_);
    done(outcome);
    return;
  }
  timer_.expires_after(poll_);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) Poll();
  });
}

}  // namespace callrec::control
