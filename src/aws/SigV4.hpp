#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/AwsError.hpp"
#include "aws/Crypto.hpp"
#include "aws/ReplayGuard.hpp"
#include "core/Result.hpp"

namespace callrec::aws {

// AWS Signature Version 4, as documented in "Create a signed AWS API request".
// One module for both sides: callrec-server verifies, the CLI, the benchmark's
// load client and callrec-lambda sign.

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (Lambda's temporary credentials)
};

// A request as it goes over the wire: the path and query exactly as sent
// (percent-encoded), headers with their original names.
struct SignableRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // hex SHA-256 of the body
};

// How the path enters the canonical request. Every service but S3 normalises it
// (dot segments) and percent-encodes it once more; S3 takes the path exactly as
// sent (already encoded once: an object key is not a file path, and "a%2Fb"
// must not become "a%252Fb").
enum class PathRule { kNormalizeAndEncode, kAsSent };

// The canonical request for the given signed headers (lowercase, sorted).
std::string CanonicalRequest(const SignableRequest& request,
                             const std::vector<std::string>& signed_headers,
                             PathRule path_rule = PathRule::kNormalizeAndEncode);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
Digest SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service);
// Formats a time as the X-Amz-Date basic ISO 8601 form (20150830T123600Z).
std::string FormatAmzDate(std::chrono::system_clock::time_point time);

// The payload hash of a request whose body is not signed (S3 over TLS).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

class SigV4Signer {
 public:
  // `content_sha256_header`: also send (and sign) X-Amz-Content-Sha256, as the
  // CLI and the Lambda do; botocore sends it for S3 only.
  SigV4Signer(Credentials credentials, std::string region, std::string service,
              bool content_sha256_header = true,
              PathRule path_rule = PathRule::kNormalizeAndEncode);

  // Adds X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (if any) and
  // Authorization to `request`, signing every header it carries.
  void Sign(SignableRequest& request, std::string_view body,
            std::chrono::system_clock::time_point now) const;
  // The same with the body's hex SHA-256 computed by the caller (a file's part
  // hashed while it was read), or kUnsignedPayload.
  void SignPayloadHash(SignableRequest& request, std::string_view payload_hash,
                       std::chrono::system_clock::time_point now) const;

 private:
  // The signing key of the last date signed for: deriving it takes four HMACs,
  // and it only changes at midnight UTC. Shared by copies (same credentials).
  struct KeyCache {
    std::mutex mutex;
    std::string date;
    std::shared_ptr<const HmacSha256Key> key;
  };
  std::shared_ptr<const HmacSha256Key> KeyFor(const std::string& date) const;

  Credentials credentials_;
  std::string region_;
  std::string service_;
  bool content_sha256_header_;
  PathRule path_rule_;
  std::shared_ptr<KeyCache> key_cache_ = std::make_shared<KeyCache>();
};

// Who signed a verified request.
struct Principal {
  std::string access_key_id;
  // The signature was accepted before (and has not expired): the caller must
  // not let this request change anything (see SigV4Verifier).
  bool replayed = false;
};

class SigV4Verifier {
 public:
  // `keys` maps access key id to secret. With a `replay_guard`, every accepted
  // signature is remembered until it expires: the same signed request sent
  // again comes back with `replayed` set (an idempotent repeat is harmless, a
  // replayed RESUME during a pause is not: the caller decides under its lock);
  // when the guard is full, new signatures are refused with 429
  // ThrottlingException rather than old ones forgotten.
  SigV4Verifier(std::map<std::string, std::string, std::less<>> keys, std::string service,
                std::chrono::seconds max_skew = std::chrono::minutes(5),
                ReplayGuard* replay_guard = nullptr);

  core::Result<Principal, AwsError> Verify(const SignableRequest& request, std::string_view body,
                                           std::chrono::system_clock::time_point now) const;

 private:
  // The signing key only changes with the date and region: derive it once
  // (four HMACs) and reuse it. Keyed by access key id, date and region.
  std::shared_ptr<const HmacSha256Key> CachedSigningKey(const std::string& access_key_id,
                                                        const std::string& secret,
                                                        std::string_view date,
                                                        std::string_view region) const;

  std::map<std::string, std::string, std::less<>> keys_;
  std::string service_;
  std::chrono::seconds max_skew_;
  ReplayGuard* replay_guard_;
  mutable std::mutex cache_mutex_;
  mutable std::map<std::string, std::shared_ptr<const HmacSha256Key>, std::less<>> signing_keys_;
};

}  // namespace callrec::aws
