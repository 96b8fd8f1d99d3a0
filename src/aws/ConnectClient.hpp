#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "aws/SigV4.hpp"
#include "core/RecordingState.hpp"
#include "httpclient/HttpClient.hpp"

namespace callrec::aws {

// Why a call to Amazon Connect did not succeed.
struct ConnectCallError {
  int status = 0;    // HTTP status; 0 when the endpoint could not be reached
  std::string type;  // x-amzn-ErrorType (e.g. InvalidRequestException)
  std::string message;
};

// Amazon Connect's four recording operations over HTTPS (or HTTP for a local
// callrec-server), SigV4-signed. Throttling, 5xx and unreachable endpoints are
// retried with doubling back-off as long as the deadline allows.
class ConnectClient {
 public:
  ConnectClient(httpclient::Endpoint endpoint, Credentials credentials, std::string region);

  struct Outcome {
    std::optional<ConnectCallError> error;  // nullopt: 200
    int attempts = 0;
    // The contact's state after the call, where the service says (callrec's
    // in-process API does; Amazon Connect's answer does not).
    std::optional<core::RecordingState> state;
  };
  Outcome Call(core::Operation operation, const std::string& instance_id,
               const std::string& contact_id, const std::string& initial_contact_id,
               core::Track track, std::chrono::steady_clock::time_point deadline) const;

 private:
  httpclient::Endpoint endpoint_;
  SigV4Signer signer_;
};

}  // namespace callrec::aws
