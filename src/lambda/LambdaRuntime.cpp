#include "lambda/LambdaRuntime.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <thread>

namespace callrec::lambda {
namespace {

constexpr std::string_view kBase = "/2018-06-01/runtime";
constexpr auto kLongPoll = std::chrono::hours(24);

std::string ErrorBody(const std::string& type, const std::string& message) {
  return boost::json::serialize(
      boost::json::object{{"errorType", type}, {"errorMessage", message}});
}

}  // namespace

LambdaRuntime::LambdaRuntime(std::string runtime_api) {
  auto parsed = httpclient::ParseEndpointUrl("http://" + runtime_api);
  if (parsed) endpoint_ = parsed.value();
}

core::Result<LambdaRuntime::Invocation, std::string> LambdaRuntime::Next() {
  auto reply =
      httpclient::SendHttp(endpoint_,
                           httpclient::HttpCall{"GET",
                                                std::string(kBase) + "/invocation/next",
                                                {{"Host", endpoint_.host + ":" + endpoint_.port}},
                                                ""},
                           kLongPoll);
  if (!reply) return reply.error();
  if (reply->status != 200) {
    return "next invocation answered " + std::to_string(reply->status);
  }
  Invocation invocation;
  invocation.request_id = reply->Header("Lambda-Runtime-Aws-Request-Id");
  invocation.body = std::move(reply.value().body);
  const std::string deadline = reply->Header("Lambda-Runtime-Deadline-Ms");
  std::int64_t deadline_ms = 0;
  std::from_chars(deadline.data(), deadline.data() + deadline.size(), deadline_ms);
  // The deadline is wall-clock epoch milliseconds; work on the steady clock.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::int64_t left = deadline_ms > 0 ? deadline_ms - now_ms : 3000;
  invocation.deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(left, 0));
  if (invocation.request_id.empty()) return std::string("next invocation without a request id");
  return invocation;
}

bool LambdaRuntime::Post(const std::string& target, const std::string& body,
                         const std::string& error_type) {
  httpclient::HttpCall call{
      "POST",
      target,
      {{"Host", endpoint_.host + ":" + endpoint_.port}, {"Content-Type", "application/json"}},
      body};
  if (!error_type.empty())
    call.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error_type);
  auto reply = httpclient::SendHttp(endpoint_, call, std::chrono::seconds(10));
  return reply && reply->status >= 200 && reply->status < 300;
}

void LambdaRuntime::ReportInitError(const std::string& type, const std::string& message) {
  Post(std::string(kBase) + "/init/error", ErrorBody(type, message), type);
}

int LambdaRuntime::Run(const Handler& handler) {
  int failures = 0;
  for (;;) {
    auto invocation = Next();
    if (!invocation) {
      // The Runtime API is the process's whole world: retry briefly, then stop.
      if (++failures > 10) {
        std::fprintf(stdout, "{\"level\":\"error\",\"event\":\"runtime.unreachable\"}\n");
        std::fflush(stdout);
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * failures));
      continue;
    }
    failures = 0;
    const std::string base = std::string(kBase) + "/invocation/" + invocation->request_id;
    try {
      Post(base + "/response", handler(invocation.value()), "");
    } catch (const std::exception& error) {
      Post(base + "/error", ErrorBody("Runtime.HandlerError", error.what()),
           "Runtime.HandlerError");
    }
  }
}

}  // namespace callrec::lambda
