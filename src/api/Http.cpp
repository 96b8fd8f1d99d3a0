#include "api/Http.hpp"

#include <boost/json.hpp>

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

}  // namespace callrec::api
