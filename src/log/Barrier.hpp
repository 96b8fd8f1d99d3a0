#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace callrec::log {

// Where an unexpected exception stops: a request handler, a C callback from
// sofia-sip, a media handler, a thread's loop. Whatever escapes the code behind
// it is logged once (`event`, with its message) and counted, and the thread
// goes on; the edge answers the request it was serving as it can (HTTP 500,
// SIP 500 with a Warning). Ordinary failures (a full disk) are not exceptions:
// they come back as errors and never reach a barrier. Thread-safe.
class ExceptionBarrier {
 public:
  explicit ExceptionBarrier(std::string event) : event_(std::move(event)) {}
  ExceptionBarrier(const ExceptionBarrier&) = delete;
  ExceptionBarrier& operator=(const ExceptionBarrier&) = delete;

  // Call from a catch block only (it reads the exception being handled):
  // logs and counts it, and returns its message. Never throws.
  std::string Caught(const boost::json::object& fields = {}) noexcept;

  // Runs `work`; false when it threw (then logged and counted).
  template <class Work>
  bool Run(Work&& work, const boost::json::object& fields = {}) noexcept {
    try {
      work();
      return true;
    } catch (...) {
      Caught(fields);
      return false;
    }
  }

  std::uint64_t caught() const { return caught_.load(std::memory_order_relaxed); }

 private:
  const std::string event_;
  std::atomic<std::uint64_t> caught_{0};
};

// The message of the exception being handled (call from a catch block).
std::string CurrentExceptionMessage() noexcept;

}  // namespace callrec::log
