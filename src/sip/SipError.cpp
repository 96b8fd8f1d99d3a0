#include "sip/SipError.hpp"

namespace callrec::sip {

int StatusFor(const control::ControlError& error) {
  switch (error.kind) {
    case control::ControlError::Kind::kInvalidRequest:
    case control::ControlError::Kind::kInvalidParameter:
      return 400;
    case control::ControlError::Kind::kConflict:
    case control::ControlError::Kind::kAccessDenied:
      return 403;
    case control::ControlError::Kind::kNotFound:
      return 404;
    case control::ControlError::Kind::kLimitReached:
    case control::ControlError::Kind::kUnavailable:
      return 503;
    case control::ControlError::Kind::kInternal:
      break;
  }
  return 500;
}

const char* PhraseFor(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 420:
      return "Bad Extension";
    case 421:
      return "Extension Required";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 488:
      return "Not Acceptable Here";
    case 491:
      return "Request Pending";
    case 513:
      return "Message Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Server Internal Error";
  }
}

}  // namespace callrec::sip
