#include "api/Http.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "aws/UriEncoding.hpp"

namespace callrec::api {

HttpResponse JsonResponse(http::status status, std::string body) {
  HttpResponse response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

HttpResponse ErrorResponse(const aws::AwsError& error) {
  boost::json::object body;
  body["message"] = error.message;
  HttpResponse response =
      JsonResponse(static_cast<http::status>(error.status), boost::json::serialize(body));
  response.set("x-amzn-ErrorType", error.type);
  return response;
}

HttpResponse Error(int status, std::string type, std::string message) {
  return ErrorResponse(aws::AwsError{status, std::move(type), std::move(message)});
}

HttpResponse BadRequest(std::string message) {
  return ErrorResponse(aws::AwsError::InvalidParameter(std::move(message)));
}

HttpResponse MethodNotAllowed(const HttpRequest& request) {
  return Error(405, "MethodNotAllowedException",
               "Method " + std::string(request.method_string()) + " is not allowed on " +
                   std::string(request.target()) + ".");
}

namespace {

std::string FormDecode(std::string_view text) {
  std::string plus_as_space(text);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return aws::PercentDecode(plus_as_space);
}

}  // namespace

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    std::size_t eq = pair.find('=');
    if (FormDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return std::nullopt;
}

aws::SignableRequest ToSignable(const HttpRequest& request) {
  aws::SignableRequest out;
  out.method = std::string(request.method_string());
  const std::string_view target = request.target();
  const std::size_t question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) out.query = std::string(target.substr(question + 1));
  for (const auto& field : request) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

}  // namespace callrec::api
