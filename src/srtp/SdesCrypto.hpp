#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/Result.hpp"

namespace callrec::srtp {

// The SRTP crypto suites callrec takes keys for (RFC 4568 6.2, RFC 6188).
enum class Suite {
  kAesCm128HmacSha1_80,
  kAesCm128HmacSha1_32,
  kAes256CmHmacSha1_80,
  kAes256CmHmacSha1_32,
};

// "AES_CM_128_HMAC_SHA1_80", ...
std::string_view SuiteName(Suite suite);
std::optional<Suite> SuiteFromName(std::string_view name);
// Master key + master salt, in bytes: 30 (AES-128) or 46 (AES-256).
std::size_t KeySaltLength(Suite suite);
// The suites in callrec's order of preference, as a readable list for errors.
std::string SupportedSuiteNames();

// One SDP Security Descriptions attribute (RFC 4568):
// `a=crypto:<tag> <suite> inline:<base64 key||salt>[|lifetime] [session params]`.
struct SdesCrypto {
  unsigned tag = 1;
  Suite suite = Suite::kAesCm128HmacSha1_80;
  std::vector<std::uint8_t> key_salt;  // KeySaltLength(suite) bytes
};

// Parses the attribute's value (what follows "crypto:"). Refused, with the
// reason: an unknown suite, more than one key, a key of the wrong length or
// not base64, an MKI (callrec keys one stream with one master key), a lifetime
// below 2^31 packets, or any session parameter but WSH (RFC 4568 6.3: a line
// whose parameters are not understood must not be used).
core::Result<SdesCrypto, std::string> ParseCrypto(std::string_view value);

// `<tag> <suite> inline:<base64>` (no lifetime, no MKI).
std::string FormatCrypto(const SdesCrypto& crypto);

// A fresh master key and salt from the operating system's random source.
SdesCrypto NewKey(unsigned tag, Suite suite);

}  // namespace callrec::srtp
