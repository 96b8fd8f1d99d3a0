#include "cluster/RequestSigning.hpp"

#include <charconv>

namespace callrec::cluster {

std::string RequestSigner::Sign(const SignedParts& parts) const {
  std::string message;
  message.reserve(parts.method.size() + parts.path.size() + parts.node.size() + parts.body.size() +
                  32);
  // Fields separated by newlines: none of the first four may hold one (the
  // node name and path are checked by the receiver), so no two different
  // requests make the same message.
  message.append(parts.method).append("\n");
  message.append(parts.path).append("\n");
  message.append(parts.node).append("\n");
  message.append(std::to_string(parts.time)).append("\n");
  message.append(parts.body);
  return aws::Hex(key_.Mac(message));
}

std::optional<SignatureRefusal> RequestSigner::Check(std::string_view method, std::string_view path,
                                                     std::string_view node, std::string_view time,
                                                     std::string_view signature,
                                                     std::string_view body, std::int64_t now_ms,
                                                     std::int64_t* sent_ms) const {
  if (node.empty() || time.empty() || signature.empty()) {
    return SignatureRefusal{401, std::string("Unsigned: ") + kNodeHeader + ", " + kTimeHeader +
                                     " and " + kSignatureHeader + " are required."};
  }
  if (node.find('\n') != std::string_view::npos || path.find('\n') != std::string_view::npos) {
    return SignatureRefusal{403, "The signature does not match."};
  }
  std::int64_t at = 0;
  const auto [end, ec] = std::from_chars(time.data(), time.data() + time.size(), at);
  if (ec != std::errc() || end != time.data() + time.size()) {
    return SignatureRefusal{403, std::string(kTimeHeader) + " is not a number of milliseconds."};
  }
  if (at < now_ms - kSignatureWindowMs || at > now_ms + kSignatureWindowMs) {
    return SignatureRefusal{403, "The request's time is more than " +
                                     std::to_string(kSignatureWindowMs / 1000) +
                                     " s from this node's clock (stale or from the future)."};
  }
  const std::string expected = Sign({method, path, node, at, body});
  if (!aws::ConstantTimeEqual(expected, signature)) {
    return SignatureRefusal{403, "The signature does not match."};
  }
  if (sent_ms != nullptr) *sent_ms = at;
  return std::nullopt;
}

}  // namespace callrec::cluster
