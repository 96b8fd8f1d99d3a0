#include "aws/ConnectClient.hpp"

#include <boost/json.hpp>
#include <thread>

#include "aws/ConnectPaths.hpp"

namespace callrec::aws {
namespace {

bool Retryable(const ConnectCallError& error) {
  return error.status == 0 || error.status == 429 || error.status >= 500 ||
         error.type == "ThrottlingException" || error.type == "TooManyRequestsException";
}

}  // namespace

ConnectClient::ConnectClient(httpclient::Endpoint endpoint, Credentials credentials,
                             std::string region)
    : endpoint_(std::move(endpoint)),
      signer_(std::move(credentials), std::move(region), "connect") {}

ConnectClient::Outcome ConnectClient::Call(core::Operation operation,
                                           const std::string& instance_id,
                                           const std::string& contact_id,
                                           const std::string& initial_contact_id, core::Track track,
                                           std::chrono::steady_clock::time_point deadline) const {
  boost::json::object body{{"InstanceId", instance_id},
                           {"ContactId", contact_id},
                           {"InitialContactId", initial_contact_id}};
  if (operation == core::Operation::kStart) {
    body["VoiceRecordingConfiguration"] =
        boost::json::object{{"VoiceRecordingTrack", core::ToString(track)}};
  }
  const std::string text = boost::json::serialize(body);
  const bool default_port = endpoint_.port == (endpoint_.tls ? "443" : "80");
  const std::string host = default_port ? endpoint_.host : endpoint_.host + ":" + endpoint_.port;

  Outcome outcome;
  auto backoff = std::chrono::milliseconds(50);
  // As botocore does: signed headers that make every attempt's signature new,
  // since the server accepts a signature once and a retry may come within the
  // same second (X-Amz-Date's resolution).
  const std::string invocation_id = RandomToken(32, "0123456789abcdef");
  for (;;) {
    outcome.attempts += 1;
    SignableRequest request{"POST",
                            std::string(ConnectPath(operation)),
                            "",
                            {{"Host", host},
                             {"Content-Type", "application/json"},
                             {"amz-sdk-invocation-id", invocation_id},
                             {"amz-sdk-request", "attempt=" + std::to_string(outcome.attempts)}},
                            ""};
    signer_.Sign(request, text, std::chrono::system_clock::now());
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto reply = httpclient::SendHttp(
        endpoint_, httpclient::HttpCall{"POST", request.path, request.headers, text},
        std::max(left, std::chrono::milliseconds(100)));
    ConnectCallError error;
    if (!reply) {
      error = {0, "EndpointUnreachable", reply.error()};
    } else if (reply->status == 200) {
      outcome.error.reset();
      return outcome;
    } else {
      error.status = static_cast<int>(reply->status);
      error.type = reply->Header("x-amzn-ErrorType");
      error.type = error.type.substr(0, error.type.find(':'));  // "Type:uri" form
      boost::json::error_code ec;
      boost::json::value parsed = boost::json::parse(reply->body, ec);
      if (!ec && parsed.is_object()) {
        for (const char* key : {"message", "Message"}) {
          if (const auto* m = parsed.as_object().if_contains(key); m && m->is_string()) {
            error.message = std::string(m->as_string());
          }
        }
        if (error.type.empty()) {
          if (const auto* t = parsed.as_object().if_contains("__type"); t && t->is_string()) {
            error.type = std::string(t->as_string());
          }
        }
      }
      if (error.type.empty()) error.type = "HTTP" + std::to_string(error.status);
    }
    outcome.error = error;
    if (!Retryable(error) || std::chrono::steady_clock::now() + backoff >= deadline) {
      return outcome;
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

}  // namespace callrec::aws
