#pragma once

#include <string>

#include "control/ControlError.hpp"

namespace callrec::sip {

// Why a SIPREC request is refused: the SIP final response to send, and a
// human explanation for a `Warning: 399` header (and the log).
struct SipError {
  int status = 400;
  std::string reason;   // reason phrase, e.g. "Unsupported Media Type"
  std::string warning;  // e.g. "no application/sdp part"
};

// The refusals this folder produces, so that status and phrase always agree.
inline SipError BadRequest(std::string warning) {
  return {400, "Bad Request", std::move(warning)};
}
inline SipError TooLarge(std::string warning) {
  return {413, "Request Entity Too Large", std::move(warning)};
}
inline SipError UnsupportedMediaType(std::string warning) {
  return {415, "Unsupported Media Type", std::move(warning)};
}

// The SIP final response for a refusal of the contact service, and the reason
// phrase of each status this folder answers.
int StatusFor(const control::ControlError& error);
const char* PhraseFor(int status);

}  // namespace callrec::sip
