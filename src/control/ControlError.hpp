#pragma once

#include <string>

namespace callrec::control {

// Why the control layer refused or failed a request; the API layer turns the
// kind into a status code and an AWS error type.
struct ControlError {
  enum class Kind {
    kInvalidRequest,
    kInvalidParameter,
    kNotFound,
    kConflict,
    kAccessDenied,
    kInternal,
    // A configured limit is reached (--max-contacts): retry later.
    kLimitReached,
    // The node that must apply the operation (a contact's owner) did not
    // answer, or cannot be reached: nothing was applied here.
    kUnavailable
  };
  Kind kind;
  std::string message;
};

}  // namespace callrec::control
