#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/Crypto.hpp"

namespace callrec::cluster {

// The headers of a request one node sends another: who sends it, when (Unix
// milliseconds), and the HMAC-SHA256 under the shared secret of the method, path,
// sender, time and body (hex). The secret never travels.
inline constexpr const char* kNodeHeader = "X-Callrec-Node";
inline constexpr const char* kTimeHeader = "X-Callrec-Time";
inline constexpr const char* kSignatureHeader = "X-Callrec-Signature";

// How far a request's time may be from the receiver's clock, either way.
inline constexpr std::int64_t kSignatureWindowMs = 30'000;

struct SignedParts {
  std::string_view method;
  std::string_view path;
  std::string_view node;
  std::int64_t time = 0;
  std::string_view body;
};

// Why a request was refused: 401 when it carries no signature at all, 403
// when it carries a wrong or stale one.
struct SignatureRefusal {
  unsigned status;
  std::string reason;
};

// Signs and checks requests between the nodes sharing --cluster-secret-file.
class RequestSigner {
 public:
  explicit RequestSigner(std::string_view secret) : key_(secret) {}

  std::string Sign(const SignedParts& parts) const;
  // `node`, `time`, `signature`: the three headers as received (empty when
  // absent); `now_ms`: the receiver's Unix milliseconds. nullopt: signed by a
  // holder of the secret within the window; `sent_ms` is then the signed time.
  std::optional<SignatureRefusal> Check(std::string_view method, std::string_view path,
                                        std::string_view node, std::string_view time,
                                        std::string_view signature, std::string_view body,
                                        std::int64_t now_ms, std::int64_t* sent_ms = nullptr) const;

 private:
  aws::HmacSha256Key key_;
};

}  // namespace callrec::cluster
