#include "lambda/RecordingHandler.hpp"

#include <array>
#include <boost/json.hpp>

namespace callrec::lambda {
namespace {

namespace json = boost::json;

const json::value* Path(const json::value& root, std::initializer_list<std::string_view> keys) {
  const json::value* at = &root;
  for (std::string_view key : keys) {
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

std::string Text(const json::value& root, std::initializer_list<std::string_view> keys) {
  const json::value* value = Path(root, keys);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::string StatusAfter(core::Operation operation) {
  switch (operation) {
    case core::Operation::kStart:
    case core::Operation::kResume:
      return "ON";
    case core::Operation::kPause:
      return "PAUSED";
    case core::Operation::kStop:
      return "OFF";
  }
  return "OFF";
}

core::RecordingState StateAfter(core::Operation operation) {
  switch (operation) {
    case core::Operation::kStart:
    case core::Operation::kResume:
      return core::RecordingState::kRecording;
    case core::Operation::kPause:
      return core::RecordingState::kPaused;
    case core::Operation::kStop:
      return core::RecordingState::kStopped;
  }
  return core::RecordingState::kNotStarted;
}

// The state an error names ("... is PAUSED"; callrec-server names it).
std::optional<core::RecordingState> StateNamed(const std::string& message) {
  constexpr std::array<std::pair<std::string_view, core::RecordingState>, 6> kNamed{{
      {"is RECORDING", core::RecordingState::kRecording},
      {"is WAITING_FOR_AGENT", core::RecordingState::kWaitingForAgent},
      {"is PAUSED", core::RecordingState::kPaused},
      {"is STOPPED", core::RecordingState::kStopped},
      {"is NOT_STARTED", core::RecordingState::kNotStarted},
      {"is ENDED", core::RecordingState::kEnded},
  }};
  for (const auto& [phrase, state] : kNamed) {
    if (message.find(phrase) != std::string::npos) return state;
  }
  return std::nullopt;
}

// After a refusal: the state the service reports or the error names, else what
// the contact's attributes said before the call (their badge tells STOPPED
// from NOT RECORDING), else NOT_STARTED.
core::RecordingState StateAfterError(const std::string& message, const std::string& before,
                                     const std::string& before_html) {
  if (auto named = StateNamed(message)) return *named;
  if (before == "ON") return core::RecordingState::kRecording;
  if (before == "PAUSED") return core::RecordingState::kPaused;
  if (before == "OFF" && before_html.find(">STOPPED") != std::string::npos) {
    return core::RecordingState::kStopped;
  }
  return core::RecordingState::kNotStarted;
}

}  // namespace

RecordingHandler::RecordingHandler(std::string instance_id, ConnectCall connect)
    : instance_id_(std::move(instance_id)), connect_(std::move(connect)) {}

RecordingHandler::Result RecordingHandler::Handle(
    const json::value& event, std::chrono::steady_clock::time_point deadline) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string before =
      Text(event, {"Details", "ContactData", "Attributes", "callRecordingStatus"});
  const std::string before_html =
      Text(event, {"Details", "ContactData", "Attributes", "callRecordingHTML"});
  const std::string operation_text = Text(event, {"Details", "Parameters", "operation"});
  std::string contact = Text(event, {"Details", "ContactData", "RelatedContactId"});
  if (contact.empty()) contact = Text(event, {"Details", "ContactData", "ContactId"});
  std::string initial = Text(event, {"Details", "Parameters", "initialContactId"});
  if (initial.empty()) initial = Text(event, {"Details", "ContactData", "InitialContactId"});
  if (initial.empty()) initial = contact;

  Result result;
  // recording: ON|PAUSED|OFF, as flows compare it; shown: the state the badge names.
  auto answer = [&](int status, std::string message, std::string recording,
                    core::RecordingState shown) {
    result.response = json::object{{"statusCode", std::to_string(status)},
                                   {"message", std::move(message)},
                                   {"operation", operation_text},
                                   {"callRecordingStatus", recording},
                                   {"callRecordingHTML", RecordingHtml(shown)}};
    result.log["statusCode"] = status;
    result.log["operation"] = operation_text;
    result.log["contact"] = contact;
    result.log["callRecordingStatus"] = recording;
    result.log["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  };
  const core::RecordingState unchanged_state = StateAfterError("", before, before_html);
  const std::string unchanged =
      before == "ON" || before == "PAUSED" || before == "OFF" ? before : "OFF";

  if (!event.is_object() || Path(event, {"Details"}) == nullptr) {
    answer(400, "The event is not an Amazon Connect flow event (no Details).", unchanged,
           unchanged_state);
    return result;
  }
  const auto operation = core::ParseOperation(operation_text);
  if (!operation) {
    answer(400,
           "Unknown operation '" + operation_text + "': expected START, STOP, PAUSE or RESUME.",
           unchanged, unchanged_state);
    return result;
  }
  core::Track track = core::Track::kAll;
  if (*operation == core::Operation::kStart) {
    const std::string track_text = Text(event, {"Details", "Parameters", "voiceRecordingTrack"});
    if (!track_text.empty()) {
      const auto parsed = core::ParseTrack(track_text);
      if (!parsed) {
        answer(400,
               "Unknown voiceRecordingTrack '" + track_text +
                   "': expected TO_AGENT, FROM_AGENT or ALL.",
               unchanged, unchanged_state);
        return result;
      }
      track = *parsed;
    }
  }
  if (contact.empty()) {
    answer(400, "The event names no contact (Details.ContactData.ContactId).", unchanged,
           unchanged_state);
    return result;
  }
  const auto outcome = connect_(*operation, instance_id_, contact, initial, track, deadline);
  result.log["attempts"] = outcome.attempts;
  if (!outcome.error) {
    // The state reached, where the service says (callrec's in-process API: a
    // Start before the agent joined waits for them).
    answer(200, std::string(core::ToString(*operation)) + " succeeded.", StatusAfter(*operation),
           outcome.state.value_or(StateAfter(*operation)));
    return result;
  }
  const aws::ConnectCallError& error = *outcome.error;
  const core::RecordingState reached =
      outcome.state.value_or(StateAfterError(error.message, before, before_html));
  answer(error.status == 0 ? 502 : error.status, error.type + ": " + error.message,
         RecordingStatus(reached), reached);
  result.log["error"] = error.type;
  return result;
}

}  // namespace callrec::lambda
