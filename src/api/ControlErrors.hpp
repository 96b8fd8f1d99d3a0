#pragma once

#include "aws/AwsError.hpp"
#include "control/ControlError.hpp"

namespace callrec::api {

// The control layer's refusals as AWS errors, shared by the Connect API and /v1.
inline aws::AwsError ToAwsError(const control::ControlError& error) {
  using Kind = control::ControlError::Kind;
  switch (error.kind) {
    case Kind::kInvalidRequest:
      return aws::AwsError::InvalidRequest(error.message);
    case Kind::kInvalidParameter:
      return aws::AwsError::InvalidParameter(error.message);
    case Kind::kNotFound:
      return aws::AwsError::ResourceNotFound(error.message);
    case Kind::kConflict:
      return {409, "ConflictException", error.message};
    case Kind::kAccessDenied:
      return {403, "AccessDeniedException", error.message};
    case Kind::kInternal:
      return aws::AwsError::InternalService(error.message);
    case Kind::kLimitReached:
    case Kind::kUnavailable:
      return {503, "ServiceUnavailableException", error.message};
  }
  return aws::AwsError::InternalService(error.message);
}

}  // namespace callrec::api
