#include "api/ContactEvents.hpp"

#include <boost/json.hpp>

#include "api/ControlErrors.hpp"
#include "api/V1Requests.hpp"
#include "aws/UriEncoding.hpp"
#include "log/Log.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;
constexpr std::string_view kPrefix = "/v1/contacts/";
constexpr std::string_view kSuffix = "/events";
constexpr std::size_t kMaxType = 64;

bool ValidType(std::string_view type) {
  if (type.empty() || type.size() > kMaxType) return false;
  for (char c : type) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string KnownTypes(const EventRules& rules) {
  std::string out;
  for (const auto& [type, op] : rules) out += (out.empty() ? "" : ", ") + type;
  return out.empty() ? "none (--event-rule)" : out;
}

}  // namespace

core::Result<EventRules, std::string> ParseEventRules(const std::vector<std::string>& rules) {
  EventRules out;
  for (const std::string& rule : rules) {
    const std::size_t equals = rule.rfind('=');
    const std::string type = equals == std::string::npos ? rule : rule.substr(0, equals);
    const std::string op = equals == std::string::npos ? "" : rule.substr(equals + 1);
    if (!ValidType(type)) {
      return "--event-rule '" + rule +
             "': the event type must be 1 to 64 letters, digits or - _ . :";
    }
    if (op != "PAUSE" && op != "RESUME") {
      return "--event-rule '" + rule + "': the operation must be PAUSE or RESUME (TYPE=PAUSE)";
    }
    if (!out.emplace(type, op == "PAUSE" ? core::Operation::kPause : core::Operation::kResume)
             .second) {
      return "--event-rule '" + rule + "': the event type " + type + " has a rule already";
    }
  }
  return out;
}

ContactEvents::ContactEvents(control::ContactService& contacts, const aws::SigV4Verifier& verifier,
                             EventRules rules, WallClock clock)
    : contacts_(contacts),
      verifier_(verifier),
      rules_(std::move(rules)),
      clock_(std::move(clock)) {}

std::optional<std::string> ContactEvents::ContactOf(std::string_view path) {
  if (path.size() <= kPrefix.size() + kSuffix.size() || path.substr(0, kPrefix.size()) != kPrefix ||
      path.substr(path.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string_view id =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (id.find('/') != std::string_view::npos) return std::nullopt;
  return aws::PercentDecode(id);
}

void ContactEvents::Handle(const HttpRequest& request, const std::string& contact_id,
                           const std::optional<Caller>& caller, Respond respond) const {
  if (request.method() != http::verb::post) {
    return respond(Error(405, "MethodNotAllowedException",
                         "Method " + std::string(request.method_string()) +
                             " is not allowed on a contact's events; use POST."));
  }
  std::string principal;
  bool replayed = false;
  if (caller) {
    principal = caller->Principal();
  } else {
    auto signer = verifier_.Verify(ToSignable(request), request.body(), clock_());
    if (!signer) {
      log::Warn("events.auth_refused", {{"error", signer.error().type}});
      return respond(ErrorResponse(signer.error()));
    }
    principal = signer->access_key_id;
    replayed = signer->replayed;
  }
  const std::optional<std::string> type = ParseEventType(request.body());
  if (!type) {
    return respond(
        BadRequest("The body must be a JSON object with a string Type, e.g. "
                   "{\"Type\": \"payment-form-opened\"}."));
  }
  const std::string& event = *type;
  const auto rule = rules_.find(event);
  if (rule == rules_.end()) {
    return respond(BadRequest("No rule for the event type '" + event.substr(0, kMaxType) +
                              "'. Configured types: " + KnownTypes(rules_) + "."));
  }
  auto found = contacts_.Find(contact_id);
  if (!found) return respond(ErrorResponse(ToAwsError(found.error())));
  if (!found.value()) {
    return respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("Contact " + contact_id + " was not found.")));
  }
  const core::Contact& contact = *found.value();
  if (caller && !caller->Sees(contact.agent_id)) {
    return respond(
        Error(403, "AccessDeniedException", "Contact " + contact_id + " is not one of yours."));
  }
  control::OperationRequest op;
  op.instance_id = contact.instance_id;
  op.contact_id = contact.contact_id;
  op.initial_contact_id = contact.initial_contact_id;
  op.operation = rule->second;
  op.principal = principal;
  op.replayed = replayed;
  op.reason = "event=" + event;
  contacts_.Apply(op, [this, respond, contact_id, event,
                       operation = rule->second](std::optional<control::ControlError> error) {
    if (error) return respond(ErrorResponse(ToAwsError(*error)));
    json::object out{{"ContactId", contact_id},
                     {"Type", event},
                     {"Operation", std::string(core::ToString(operation))}};
    auto now = contacts_.Find(contact_id);
    if (now && now.value()) out["State"] = std::string(core::ToString(now.value()->state()));
    respond(JsonResponse(http::status::ok, json::serialize(out)));
  });
}

}  // namespace callrec::api
