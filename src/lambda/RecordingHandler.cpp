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

// After a refusal: the state the error names (callrec-server names it), else
// what the contact's attributes said before the call, else OFF.
std::string StatusAfterError(const std::string& message, const std::string& before) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kNamed{{
      {"is RECORDING", "ON"},
      {"is WAITING_FOR_AGENT", "ON"},
      {"is PAUSED", "PAUSED"},
      {"is STOPPED", "OFF"},
      {"is NOT_STARTED", "OFF"},
  }};
  for (const auto& [phrase, status] : kNamed) {
    if (message.find(phrase) != std::string::npos) return std::string(status);
  }
  if (before == "ON" || before == "PAUSED" || before == "OFF") return before;
  return "OFF";
}

}  // namespace

std::string RecordingHtml(std::string_view status) {
  if (status == "ON") return "<p style='display: inline-block;color:green'>RECORDING ⬤</p>";
  if (status == "PAUSED") return "<p style='display: inline-block;color:orange'>PAUSED ⬤</p>";
  return "<p style='display: inline-block;color:red'>NOT RECORDING ⬤</p>";
}

RecordingHandler::RecordingHandler(std::string instance_id, ConnectCall connect)
    : instance_id_(std::move(instance_id)), connect_(std::move(connect)) {}

RecordingHandler::Result RecordingHandler::Handle(
    const json::value& event, std::chrono::steady_clock::time_point deadline) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string before =
      Text(event, {"Details", "ContactData", "Attributes", "callRecordingStatus"});
  const std::string operation_text = Text(event, {"Details", "Parameters", "operation"});
  std::string contact = Text(event, {"Details", "ContactData", "RelatedContactId"});
  if (contact.empty()) contact = Text(event, {"Details", "ContactData", "ContactId"});
  std::string initial = Text(event, {"Details", "Parameters", "initialContactId"});
  if (initial.empty()) initial = Text(event, {"Details", "ContactData", "InitialContactId"});
  if (initial.empty()) initial = contact;

  Result result;
  auto answer = [&](int status, std::string message, std::string recording) {
    result.response = json::object{{"statusCode", std::to_string(status)},
                                   {"message", std::move(message)},
                                   {"operation", operation_text},
                                   {"callRecordingStatus", recording},
                                   {"callRecordingHTML", RecordingHtml(recording)}};
    result.log["statusCode"] = status;
    result.log["operation"] = operation_text;
    result.log["contact"] = contact;
    result.log["callRecordingStatus"] = recording;
    result.log["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  };
  const std::string unchanged = StatusAfterError("", before);

  if (!event.is_object() || Path(event, {"Details"}) == nullptr) {
    answer(400, "The event is not an Amazon Connect flow event (no Details).", unchanged);
    return result;
  }
  const auto operation = core::ParseOperation(operation_text);
  if (!operation) {
    answer(400,
           "Unknown operation '" + operation_text + "': expected START, STOP, PAUSE or RESUME.",
           unchanged);
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
               unchanged);
        return result;
      }
      track = *parsed;
    }
  }
  if (contact.empty()) {
    answer(400, "The event names no contact (Details.ContactData.ContactId).", unchanged);
    return result;
  }
  const auto outcome = connect_(*operation, instance_id_, contact, initial, track, deadline);
  result.log["attempts"] = outcome.attempts;
  if (!outcome.error) {
    answer(200, std::string(core::ToString(*operation)) + " succeeded.", StatusAfter(*operation));
    return result;
  }
  const aws::ConnectCallError& error = *outcome.error;
  answer(error.status == 0 ? 502 : error.status, error.type + ": " + error.message,
         StatusAfterError(error.message, before));
  result.log["error"] = error.type;
  return result;
}

}  // namespace callrec::lambda
