#include "cluster/OperationJson.hpp"

#include <array>
#include <boost/json.hpp>
#include <initializer_list>
#include <utility>

namespace callrec::cluster {
namespace {

using Kind = control::ControlError::Kind;

constexpr std::array<std::pair<Kind, const char*>, 8> kKinds = {{
    {Kind::kInvalidRequest, "InvalidRequest"},
    {Kind::kInvalidParameter, "InvalidParameter"},
    {Kind::kNotFound, "NotFound"},
    {Kind::kConflict, "Conflict"},
    {Kind::kAccessDenied, "AccessDenied"},
    {Kind::kInternal, "Internal"},
    {Kind::kLimitReached, "LimitReached"},
    {Kind::kUnavailable, "Unavailable"},
}};

const boost::json::string* StringAt(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value ? value->if_string() : nullptr;
}

// Parses `body` into `value` and copies each named string field: the object,
// or null with `why` (not an object, or a field missing or not a string).
const boost::json::object* ReadStrings(
    std::string_view body, boost::json::value& value,
    std::initializer_list<std::pair<const char*, std::string*>> fields, std::string& why) {
  boost::system::error_code ec;
  value = boost::json::parse(body, ec);
  const boost::json::object* object = ec ? nullptr : value.if_object();
  if (object == nullptr) {
    why = "the body is not a JSON object";
    return nullptr;
  }
  for (const auto& [key, field] : fields) {
    const boost::json::string* text = StringAt(*object, key);
    if (text == nullptr) {
      why = std::string(key) + " is missing";
      return nullptr;
    }
    *field = std::string(*text);
  }
  return object;
}

}  // namespace

std::string OperationToJson(const control::OperationRequest& request) {
  return boost::json::serialize(boost::json::object{
      {"InstanceId", request.instance_id},
      {"ContactId", request.contact_id},
      {"InitialContactId", request.initial_contact_id},
      {"Operation", core::ToString(request.operation)},
      {"Track", core::ToString(request.track)},
      {"Principal", request.principal},
      {"Replayed", request.replayed},
      {"Reason", request.reason},
  });
}

std::optional<control::OperationRequest> OperationFromJson(std::string_view body,
                                                           std::string& why) {
  boost::json::value value;
  control::OperationRequest request;
  const boost::json::object* object =
      ReadStrings(body, value,
                  {{"InstanceId", &request.instance_id},
                   {"ContactId", &request.contact_id},
                   {"InitialContactId", &request.initial_contact_id},
                   {"Principal", &request.principal},
                   {"Reason", &request.reason}},
                  why);
  if (object == nullptr) return std::nullopt;
  const boost::json::string* operation = StringAt(*object, "Operation");
  const boost::json::string* track = StringAt(*object, "Track");
  auto parsed_operation = operation ? core::ParseOperation(*operation) : std::nullopt;
  auto parsed_track = track ? core::ParseTrack(*track) : std::nullopt;
  if (!parsed_operation || !parsed_track) {
    why = "Operation or Track is missing or unknown";
    return std::nullopt;
  }
  request.operation = *parsed_operation;
  request.track = *parsed_track;
  const boost::json::value* replayed = object->if_contains("Replayed");
  request.replayed = replayed && replayed->is_bool() && replayed->get_bool();
  return request;
}

std::string EndToJson(const control::EndRequest& request) {
  return boost::json::serialize(boost::json::object{
      {"ContactId", request.contact_id},
      {"Principal", request.principal},
      {"Reason", request.reason},
  });
}

std::optional<control::EndRequest> EndFromJson(std::string_view body, std::string& why) {
  boost::json::value value;
  control::EndRequest request;
  if (ReadStrings(body, value,
                  {{"ContactId", &request.contact_id},
                   {"Principal", &request.principal},
                   {"Reason", &request.reason}},
                  why) == nullptr) {
    return std::nullopt;
  }
  if (request.contact_id.empty()) {
    why = "ContactId is empty";
    return std::nullopt;
  }
  return request;
}

std::string AnswerToJson(const std::optional<control::ControlError>& error) {
  if (!error) return R"({"Error":null})";
  const char* kind = "Internal";
  for (const auto& [k, name] : kKinds) {
    if (k == error->kind) kind = name;
  }
  return boost::json::serialize(boost::json::object{
      {"Error", boost::json::object{{"Kind", kind}, {"Message", error->message}}}});
}

bool AnswerFromJson(std::string_view body, std::optional<control::ControlError>& error) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  const boost::json::object* object = ec ? nullptr : value.if_object();
  if (object == nullptr || !object->contains("Error")) return false;
  const boost::json::value& field = object->at("Error");
  if (field.is_null()) {
    error.reset();
    return true;
  }
  const boost::json::object* detail = field.if_object();
  const boost::json::string* kind = detail ? StringAt(*detail, "Kind") : nullptr;
  const boost::json::string* message = detail ? StringAt(*detail, "Message") : nullptr;
  if (kind == nullptr || message == nullptr) return false;
  for (const auto& [k, name] : kKinds) {
    if (*kind == name) {
      error = control::ControlError{k, std::string(*message)};
      return true;
    }
  }
  return false;
}

}  // namespace callrec::cluster
