#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <string_view>

#include "aws/AwsError.hpp"

namespace callrec::api {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;
// Sends the response for one request; callable once, from any thread.
using Respond = std::function<void(HttpResponse)>;

// What the HTTP server hands complete requests to.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void Handle(HttpRequest&& request, Respond respond) = 0;
};

HttpResponse JsonResponse(http::status status, std::string body);
// An AWS rest-json error: status, x-amzn-ErrorType and {"message": ...}.
HttpResponse ErrorResponse(const aws::AwsError& error);

}  // namespace callrec::api
