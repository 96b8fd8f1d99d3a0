#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/AwsError.hpp"
#include "aws/SigV4.hpp"

namespace callrec::api {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;
// Sends the response for one request; callable once, from any thread.
using Respond = std::function<void(HttpResponse)>;

// A response kept open to carry a stream of chunks (server-sent events).
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues bytes for the client; false once it has gone (drop the sink then).
  virtual bool Send(std::string bytes) = 0;
  virtual bool open() const = 0;
};
using StreamStarted = std::function<void(std::shared_ptr<StreamSink>)>;
// Answers with a stream instead of a response: `head`'s status and headers go
// out at once (no length: the body lasts until either side closes), then
// `started` gets the sink. Call either Respond or OpenStream, once.
using OpenStream = std::function<void(HttpResponse head, StreamStarted started)>;

// What the HTTP server hands complete requests to.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void Handle(HttpRequest&& request, Respond respond, OpenStream open_stream) = 0;
  // A request the server answered itself with `status`: malformed or over a
  // limit (it never reached Handle), or 500 because its handler threw.
  virtual void Refused(unsigned status) { (void)status; }
  // Handle threw: the server logged it (http.handler_failed), and answered
  // 500 if the handler had not answered yet (Refused(500) says so too).
  virtual void Failed() {}
};

HttpResponse JsonResponse(http::status status, std::string body);
// /v1's errors, shaped like AWS's: Error(403, "AccessDeniedException", "...").
HttpResponse Error(int status, std::string type, std::string message);
HttpResponse BadRequest(std::string message);
HttpResponse MethodNotAllowed(const HttpRequest& request);
// A query parameter as browsers, curl and Python's urlencode write them ('+' is a space).
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);
// An AWS rest-json error: status, x-amzn-ErrorType and {"message": ...}.
HttpResponse ErrorResponse(const aws::AwsError& error);
// The request as SigV4 sees it: method, path and query split, every header.
aws::SignableRequest ToSignable(const HttpRequest& request);

}  // namespace callrec::api
