#pragma once

#include <string>

namespace callrec::aws {

// An error as AWS rest-json services send it: HTTP status, the
// x-amzn-ErrorType header and a {"message": ...} body.
struct AwsError {
  int status = 500;
  std::string type;
  std::string message;

  static AwsError InvalidRequest(std::string message) {
    return {400, "InvalidRequestException", std::move(message)};
  }
  static AwsError InvalidParameter(std::string message) {
    return {400, "InvalidParameterException", std::move(message)};
  }
  static AwsError ResourceNotFound(std::string message) {
    return {404, "ResourceNotFoundException", std::move(message)};
  }
  static AwsError Throttling(std::string message) {
    return {429, "ThrottlingException", std::move(message)};
  }
  static AwsError InternalService(std::string message) {
    return {500, "InternalServiceException", std::move(message)};
  }
  static AwsError InvalidSignature(std::string message) {
    return {403, "InvalidSignatureException", std::move(message)};
  }
  static AwsError IncompleteSignature(std::string message) {
    return {403, "IncompleteSignatureException", std::move(message)};
  }
  static AwsError UnrecognizedClient(std::string message) {
    return {403, "UnrecognizedClientException", std::move(message)};
  }
  static AwsError MissingAuthenticationToken(std::string message) {
    return {403, "MissingAuthenticationTokenException", std::move(message)};
  }
};

}  // namespace callrec::aws
