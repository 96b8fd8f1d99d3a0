#include "core/StatusBadge.hpp"

namespace callrec::core {

std::string RecordingStatusAttribute(RecordingState state) {
  switch (state) {
    case RecordingState::kRecording:
    case RecordingState::kWaitingForAgent:
      return "ON";
    case RecordingState::kPaused:
      return "PAUSED";
    default:
      return "OFF";
  }
}

std::string_view RecordingLabel(RecordingState state) {
  switch (state) {
    case RecordingState::kRecording:
      return "RECORDING";
    case RecordingState::kPaused:
      return "PAUSED";
    case RecordingState::kNotStarted:
      return "NOT RECORDING";
    case RecordingState::kWaitingForAgent:
      return "WAITING FOR AGENT";
    case RecordingState::kStopped:
      return "STOPPED";
    case RecordingState::kEnded:
      return "ENDED";
  }
  return "STATUS UNKNOWN";
}

std::string_view RecordingColour(RecordingState state) {
  switch (state) {
    case RecordingState::kRecording:
      return kRecordingGreen;
    case RecordingState::kPaused:
      return kPausedAmber;
    case RecordingState::kNotStarted:
    case RecordingState::kStopped:
      return kNotRecordingRed;
    case RecordingState::kWaitingForAgent:
      return kWaitingBlue;
    case RecordingState::kEnded:
      return kNeutralGrey;
  }
  return kNeutralGrey;
}

std::string RecordingHtml(RecordingState state) {
  return "<p style='display: inline-block;color:" + std::string(RecordingColour(state)) + "'>" +
         std::string(RecordingLabel(state)) + " ⬤</p>";
}

std::string UnknownRecordingHtml() {
  return "<p style='display: inline-block;color:" + std::string(kNeutralGrey) +
         "'>STATUS UNKNOWN ⬤</p>";
}

}  // namespace callrec::core
