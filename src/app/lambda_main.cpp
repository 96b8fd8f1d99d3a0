// callrec-lambda: the `bootstrap` of a provided.al2023 custom runtime. Wiring only.
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "aws/ConnectClient.hpp"
#include "lambda/LambdaRuntime.hpp"
#include "lambda/RecordingHandler.hpp"

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// One JSON line per invocation on stdout, flushed: Lambda's stdout is not a tty.
void LogLine(boost::json::object fields) {
  fields["level"] = "info";
  std::string line = boost::json::serialize(fields);
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

int main() {
  using namespace callrec;
  const std::string runtime_api = Env("AWS_LAMBDA_RUNTIME_API");
  if (runtime_api.empty()) {
    std::fprintf(stderr, "callrec-lambda: AWS_LAMBDA_RUNTIME_API is not set (run under Lambda)\n");
    return 2;
  }
  lambda::LambdaRuntime runtime(runtime_api);
  const std::string instance_id = Env("INSTANCE_ID");
  const std::string region = Env("AWS_REGION").empty() ? "us-east-1" : Env("AWS_REGION");
  const std::string endpoint_url = Env("CONNECT_ENDPOINT").empty()
                                       ? "https://connect." + region + ".amazonaws.com"
                                       : Env("CONNECT_ENDPOINT");
  auto endpoint = httpclient::ParseEndpointUrl(endpoint_url);
  if (instance_id.empty() || !endpoint) {
    const std::string why =
        instance_id.empty() ? "INSTANCE_ID is not set" : "CONNECT_ENDPOINT: " + endpoint.error();
    runtime.ReportInitError("Runtime.ConfigurationError", why);
    std::fprintf(stdout, "{\"level\":\"error\",\"event\":\"init\",\"error\":\"%s\"}\n",
                 why.c_str());
    return 1;
  }
  const aws::ConnectClient client(
      endpoint.value(),
      aws::Credentials{Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                       Env("AWS_SESSION_TOKEN")},
      region);
  const lambda::RecordingHandler handler(
      instance_id, [&client](core::Operation op, const std::string& instance,
                             const std::string& contact, const std::string& initial,
                             core::Track track, std::chrono::steady_clock::time_point deadline) {
        return client.Call(op, instance, contact, initial, track, deadline);
      });
  return runtime.Run([&handler](const lambda::LambdaRuntime::Invocation& invocation) {
    boost::json::error_code ec;
    boost::json::value event = boost::json::parse(invocation.body, ec);
    if (ec) event = nullptr;  // answered as a 400 by the handler
    // Leave room to answer before Lambda's own deadline.
    auto result = handler.Handle(event, invocation.deadline - std::chrono::milliseconds(200));
    result.log["requestId"] = invocation.request_id;
    result.log["event"] = "invocation";
    LogLine(std::move(result.log));
    return boost::json::serialize(result.response);
  });
}
