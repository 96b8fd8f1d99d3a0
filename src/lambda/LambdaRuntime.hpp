#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "httpclient/HttpClient.hpp"

namespace callrec::lambda {

// The Lambda Runtime API (2018-06-01) as a custom runtime's bootstrap speaks
// it: next invocation, response, error, init error. One loop, as
// aws-lambda-cpp does, with the handler's failures reported, never fatal.
class LambdaRuntime {
 public:
  struct Invocation {
    std::string request_id;
    std::string body;
    std::chrono::steady_clock::time_point deadline;
  };
  // Returns the response body (JSON); throwing reports an invocation error.
  using Handler = std::function<std::string(const Invocation&)>;

  explicit LambdaRuntime(std::string runtime_api);  // AWS_LAMBDA_RUNTIME_API: host:port

  // Serves invocations until the Runtime API goes away for good.
  int Run(const Handler& handler);
  void ReportInitError(const std::string& type, const std::string& message);

 private:
  core::Result<Invocation, std::string> Next();
  bool Post(const std::string& target, const std::string& body, const std::string& error_type);

  httpclient::Endpoint endpoint_;
};

}  // namespace callrec::lambda
