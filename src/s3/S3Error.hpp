#pragma once

#include <string>

namespace callrec::s3 {

// What went wrong with one S3 request, sorted by what the caller should do.
enum class ErrorKind {
  kNetwork,    // no answer: connection refused, reset, timed out
  kThrottled,  // 503 SlowDown, 429: back off
  kServer,     // another 5xx (or a 200 that carried an <Error>): try again later
  kDenied,     // 403: credentials, signature, policy, KMS key: a person must act
  kNotFound,   // 404: no such bucket (or key, upload): a person must act
  kIntegrity,  // 400 BadDigest and the like: the bytes sent were not the bytes hashed
  kClient,     // another 4xx: the request is wrong; sending it again will not help
};

struct S3Error {
  ErrorKind kind = ErrorKind::kNetwork;
  unsigned status = 0;  // 0: no HTTP answer
  std::string code;     // S3's <Code>, e.g. AccessDenied, NoSuchBucket, SlowDown
  std::string message;  // S3's <Message>, or the network error

  // Sending the same request again later may succeed.
  bool Retryable() const {
    return kind == ErrorKind::kNetwork || kind == ErrorKind::kThrottled ||
           kind == ErrorKind::kServer || kind == ErrorKind::kIntegrity;
  }
  // A short label for metrics and /healthz: network, throttled, server, denied,
  // not_found, integrity, client.
  const char* Reason() const;
  // "403 AccessDenied: Access Denied" or "network: connection refused".
  std::string Describe() const;
};

}  // namespace callrec::s3
