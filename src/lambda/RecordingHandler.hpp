#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "aws/ConnectClient.hpp"
#include "core/RecordingState.hpp"

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

// callRecordingStatus for a state, as flows compare it: ON (recording, or
// waiting for the agent to start), PAUSED, OFF.
std::string RecordingStatus(core::RecordingState state);

// The guide's badge (callRecordingHTML) names each state as the workspace's
// badge does (web/js/dom.js): RECORDING, PAUSED, NOT RECORDING, WAITING FOR
// AGENT, STOPPED, ENDED. Colours keep the reference design's meaning (green
// recording, amber paused, red not recording) in the workspace's own shades,
// each at least 4.5:1 on white (WCAG AA; RecordingHandlerTest measures them).
inline constexpr std::string_view kRecordingGreen = "#037f0c";
inline constexpr std::string_view kPausedAmber = "#8d6605";
inline constexpr std::string_view kNotRecordingRed = "#d91515";
inline constexpr std::string_view kWaitingBlue = "#0972d3";
inline constexpr std::string_view kNeutralGrey = "#5f6b7a";  // ENDED, STATUS UNKNOWN

std::string_view RecordingLabel(core::RecordingState state);
std::string_view RecordingColour(core::RecordingState state);
std::string RecordingHtml(core::RecordingState state);
// What a flow shows when the Lambda failed: neutral, claiming no state.
std::string UnknownRecordingHtml();

}  // namespace callrec::lambda
