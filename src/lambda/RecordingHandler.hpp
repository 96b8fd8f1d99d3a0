#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "aws/ConnectClient.hpp"
#include "core/RecordingState.hpp"
#include "core/StatusBadge.hpp"

namespace callrec::lambda {

// The recording-control handler of PRODUCT.md 4.3, the drop-in for the
// reference Node.js Lambda. Takes Amazon Connect's InvokeLambdaFunction event
// and answers the flat string map the flow reads as $.External.*:
// statusCode, message, operation, callRecordingStatus (ON|PAUSED|OFF),
// callRecordingHTML. The status is the state the API really reached: after an
// error it is the state before the call (named by the error when the server
// names it), never an assumed success.
class RecordingHandler {
 public:
  // Performs one Connect call; callrec-lambda passes aws::ConnectClient::Call,
  // callrec-server's guide runtime will pass its own in-process API.
  using ConnectCall = std::function<aws::ConnectClient::Outcome(
      core::Operation, const std::string& instance_id, const std::string& contact_id,
      const std::string& initial_contact_id, core::Track,
      std::chrono::steady_clock::time_point deadline)>;

  RecordingHandler(std::string instance_id, ConnectCall connect);

  struct Result {
    boost::json::object response;  // the flat map answered to Connect
    boost::json::object log;       // one log line's fields, without secrets
  };
  Result Handle(const boost::json::value& event,
                std::chrono::steady_clock::time_point deadline) const;

 private:
  std::string instance_id_;
  ConnectCall connect_;
};

// The status texts live in core (StatusBadge); the handler's callers name them here too.
using core::kNeutralGrey;
using core::kNotRecordingRed;
using core::kPausedAmber;
using core::kRecordingGreen;
using core::kWaitingBlue;
using core::RecordingColour;
using core::RecordingHtml;
using core::RecordingLabel;
using core::UnknownRecordingHtml;
inline std::string RecordingStatus(core::RecordingState state) {
  return core::RecordingStatusAttribute(state);
}

}  // namespace callrec::lambda
