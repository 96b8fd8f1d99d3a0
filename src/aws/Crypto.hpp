#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// OpenSSL's digest context, opaque here.
struct evp_md_ctx_st;

namespace callrec::aws {

using Digest = std::array<std::uint8_t, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::string_view key, std::string_view data);

// HMAC-SHA256 (RFC 2104) under one key, for a key that signs many messages (a
// SigV4 signing key): the key's inner and outer pads are hashed once, and each
// Mac() starts from copies of those two states, which is half the work of keying
// afresh. Mac() may run on many threads at once.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  Digest Mac(std::string_view data) const;

 private:
  evp_md_ctx_st* inner_;  // after (key ^ ipad)
  evp_md_ctx_st* outer_;  // after (key ^ opad)
};
inline std::string_view AsView(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}
std::string Hex(std::string_view bytes);
inline std::string Hex(const Digest& d) {
  return Hex(AsView(d));
}
inline std::string Sha256Hex(std::string_view data) {
  return Hex(Sha256(data));
}

// Compares without an early exit, so timing does not reveal the first difference.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Cryptographically strong random bytes, as lowercase hex or from an alphabet.
std::string RandomToken(std::size_t length, std::string_view alphabet);

}  // namespace callrec::aws
