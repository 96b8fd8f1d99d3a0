#include "api/ConnectApi.hpp"

#include <boost/json.hpp>
#include <optional>

#include "api/ControlErrors.hpp"
#include "aws/ConnectPaths.hpp"
#include "log/Log.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;
using core::Operation;

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::optional<Operation> OperationFor(std::string_view path) {
  return aws::OperationAtConnectPath(path);
}

// Reads a required string member with Connect's length limits.
core::Result<std::string, aws::AwsError> RequiredString(const json::object& body,
                                                        std::string_view name,
                                                        std::size_t max_length) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) {
    return aws::AwsError::InvalidParameter("Missing required parameter " + std::string(name) + ".");
  }
  if (!value->is_string()) {
    return aws::AwsError::InvalidParameter("Parameter " + std::string(name) + " must be a string.");
  }
  const json::string& text = value->as_string();
  if (text.empty() || text.size() > max_length) {
    return aws::AwsError::InvalidParameter("Parameter " + std::string(name) + " must be 1 to " +
                                           std::to_string(max_length) + " characters long; got " +
                                           std::to_string(text.size()) + ".");
  }
  return std::string(text);
}

core::Result<control::OperationRequest, aws::AwsError> Parse(Operation operation,
                                                             std::string_view body_text) {
  json::error_code ec;
  json::value parsed = json::parse(body_text, ec);
  if (ec) {
    return aws::AwsError::InvalidRequest("Request body is not valid JSON: " + ec.message() + ".");
  }
  if (!parsed.is_object()) {
    return aws::AwsError::InvalidRequest("Request body must be a JSON object.");
  }
  const json::object& body = parsed.as_object();
  control::OperationRequest out;
  out.operation = operation;
  auto instance = RequiredString(body, "InstanceId", 100);
  if (!instance) return instance.error();
  auto contact = RequiredString(body, "ContactId", 256);
  if (!contact) return contact.error();
  auto initial = RequiredString(body, "InitialContactId", 256);
  if (!initial) return initial.error();
  out.instance_id = std::move(instance).value();
  out.contact_id = std::move(contact).value();
  out.initial_contact_id = std::move(initial).value();

  if (operation == Operation::kStart) {
    const json::value* config = body.if_contains("VoiceRecordingConfiguration");
    if (config == nullptr || !config->is_object()) {
      return aws::AwsError::InvalidParameter(
          "Missing required parameter VoiceRecordingConfiguration.");
    }
    const json::value* track = config->as_object().if_contains("VoiceRecordingTrack");
    if (track == nullptr || !track->is_string()) {
      return aws::AwsError::InvalidParameter(
          "VoiceRecordingConfiguration.VoiceRecordingTrack is required: TO_AGENT, FROM_AGENT or "
          "ALL.");
    }
    auto parsed_track = core::ParseTrack(track->as_string());
    if (!parsed_track) {
      return aws::AwsError::InvalidParameter("VoiceRecordingTrack '" +
                                             std::string(track->as_string()) +
                                             "' is not one of TO_AGENT, FROM_AGENT, ALL.");
    }
    out.track = *parsed_track;
  } else if (const json::value* type = body.if_contains("ContactRecordingType")) {
    if (!type->is_string() || (type->as_string() != "AGENT" && type->as_string() != "IVR" &&
                               type->as_string() != "SCREEN")) {
      return aws::AwsError::InvalidParameter(
          "ContactRecordingType must be one of AGENT, IVR, SCREEN.");
    }
    if (type->as_string() == "SCREEN") {
      return aws::AwsError::InvalidRequest("Screen recording is not supported; only voice.");
    }
  }
  return out;
}

}  // namespace

ConnectApi::ConnectApi(control::ContactService& contacts, const aws::SigV4Verifier& verifier,
                       Metrics& metrics, WallClock clock)
    : contacts_(contacts), verifier_(verifier), metrics_(metrics), clock_(std::move(clock)) {}

bool ConnectApi::Serves(std::string_view path) {
  return OperationFor(PathOf(path)).has_value();
}

void ConnectApi::Handle(HttpRequest&& request, Respond respond) {
  const auto started = std::chrono::steady_clock::now();
  const auto operation = OperationFor(PathOf(request.target()));
  const std::string op_name(core::ToString(*operation));
  auto fail = [&](const aws::AwsError& error) {
    metrics_.CountOperation(op_name, error.type, std::chrono::steady_clock::now() - started);
    respond(ErrorResponse(error));
  };
  if (request.method() != http::verb::post) {
    return fail({405, "MethodNotAllowedException",
                 "Method " + std::string(request.method_string()) + " is not allowed on " +
                     std::string(PathOf(request.target())) + "; use POST."});
  }
  auto principal = verifier_.Verify(ToSignable(request), request.body(), clock_());
  if (!principal) {
    metrics_.CountAuthFailure(principal.error().type);
    log::Warn("connect.auth_refused", {{"operation", op_name}, {"error", principal.error().type}});
    return fail(principal.error());
  }
  auto parsed = Parse(*operation, request.body());
  if (!parsed) return fail(parsed.error());
  control::OperationRequest op = std::move(parsed).value();
  op.principal = principal->access_key_id;
  op.replayed = principal->replayed;
  const std::string contact_id = op.contact_id;
  contacts_.Apply(op, [this, respond = std::move(respond), started, op_name,
                       contact_id](std::optional<control::ControlError> error) {
    const auto took = std::chrono::steady_clock::now() - started;
    if (error) {
      const aws::AwsError aws_error = ToAwsError(*error);
      metrics_.CountOperation(op_name, aws_error.type, took);
      if (log::Enabled(log::Level::kInfo)) {
        log::Info("connect.operation",
                  {{"contact", contact_id}, {"operation", op_name}, {"result", aws_error.type}});
      }
      return respond(ErrorResponse(aws_error));
    }
    metrics_.CountOperation(op_name, "OK", took);
    // The log line's fields are built only when it is written (the hot path).
    if (log::Enabled(log::Level::kInfo)) {
      log::Info("connect.operation",
                {{"contact", contact_id}, {"operation", op_name}, {"result", "OK"}});
    }
    respond(JsonResponse(http::status::ok, "{}"));
  });
}

}  // namespace callrec::api
