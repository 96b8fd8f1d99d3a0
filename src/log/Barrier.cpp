#include "log/Barrier.hpp"

#include <exception>

#include "log/Log.hpp"

namespace callrec::log {

std::string CurrentExceptionMessage() noexcept {
  try {
    try {
      throw;
    } catch (const std::exception& error) {
      return error.what();
    } catch (...) {
      return "an exception that is not a std::exception";
    }
  } catch (...) {
    return {};  // copying the message failed (out of memory)
  }
}

std::string ExceptionBarrier::Caught(const boost::json::object& fields) noexcept {
  caught_.fetch_add(1, std::memory_order_relaxed);
  std::string message = CurrentExceptionMessage();
  try {
    boost::json::object logged = fields;
    logged["error"] = message;
    Error(event_, logged);
  } catch (...) {
    // Logging failed too (out of memory): the count stays.
  }
  return message;
}

}  // namespace callrec::log
