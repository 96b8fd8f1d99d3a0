#include "srtp/SdesCrypto.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <stdexcept>

namespace callrec::srtp {
namespace {

struct SuiteInfo {
  Suite suite;
  std::string_view name;
  std::size_t key_salt_length;
};

constexpr std::array<SuiteInfo, 4> kSuites = {{
    {Suite::kAesCm128HmacSha1_80, "AES_CM_128_HMAC_SHA1_80", 30},
    {Suite::kAesCm128HmacSha1_32, "AES_CM_128_HMAC_SHA1_32", 30},
    {Suite::kAes256CmHmacSha1_80, "AES_256_CM_HMAC_SHA1_80", 46},
    {Suite::kAes256CmHmacSha1_32, "AES_256_CM_HMAC_SHA1_32", 46},
}};

const SuiteInfo& Info(Suite suite) {
  for (const SuiteInfo& info : kSuites) {
    if (info.suite == suite) return info;
  }
  throw std::logic_error("unknown SRTP suite");
}

bool IsBase64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

std::optional<std::vector<std::uint8_t>> DecodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 256) return std::nullopt;
  for (char c : text) {
    if (!IsBase64(c)) return std::nullopt;
  }
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's zero bytes: take them off.
  std::size_t length = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --length;
  out.resize(length);
  return out;
}

std::string EncodeBase64(const std::vector<std::uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::string_view> SplitSpaces(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

// A lifetime is a decimal count or "2^N"; shorter than 2^31 packets is refused
// (callrec does not re-key within a stream).
bool LongLifetime(std::string_view lifetime) {
  if (lifetime.starts_with("2^")) {
    unsigned power = 0;
    const auto [end, ec] =
        std::from_chars(lifetime.data() + 2, lifetime.data() + lifetime.size(), power);
    return ec == std::errc() && end == lifetime.data() + lifetime.size() && power >= 31 &&
           power <= 64;
  }
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(lifetime.data(), lifetime.data() + lifetime.size(), count);
  return ec == std::errc() && end == lifetime.data() + lifetime.size() &&
         count >= (std::uint64_t{1} << 31);
}

}  // namespace

std::string_view SuiteName(Suite suite) {
  return Info(suite).name;
}

std::optional<Suite> SuiteFromName(std::string_view name) {
  for (const SuiteInfo& info : kSuites) {
    if (info.name == name) return info.suite;
  }
  return std::nullopt;
}

std::size_t KeySaltLength(Suite suite) {
  return Info(suite).key_salt_length;
}

std::string SupportedSuiteNames() {
  std::string names;
  for (const SuiteInfo& info : kSuites) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

core::Result<SdesCrypto, std::string> ParseCrypto(std::string_view value) {
  const auto words = SplitSpaces(value);
  if (words.size() < 3) return std::string("a=crypto needs a tag, a suite and a key");
  SdesCrypto crypto;
  const auto [tag_end, tag_ec] =
      std::from_chars(words[0].data(), words[0].data() + words[0].size(), crypto.tag);
  if (tag_ec != std::errc() || tag_end != words[0].data() + words[0].size() ||
      words[0].size() > 9) {
    return std::string("a=crypto tag is not a number of 1 to 9 digits");
  }
  const auto suite = SuiteFromName(words[1]);
  if (!suite) {
    return "a=crypto suite " + std::string(words[1].substr(0, 64)) + " is not supported (" +
           SupportedSuiteNames() + ")";
  }
  crypto.suite = *suite;
  const std::string_view key_params = words[2];
  if (key_params.find(';') != std::string_view::npos) {
    return std::string("a=crypto with more than one master key is not supported");
  }
  if (!key_params.starts_with("inline:")) {
    return std::string("a=crypto key method is not inline:");
  }
  std::string_view key_info = key_params.substr(7);
  const std::size_t bar = key_info.find('|');
  const std::string_view key_text = key_info.substr(0, bar);
  if (bar != std::string_view::npos) {
    std::string_view rest = key_info.substr(bar + 1);
    const std::size_t bar2 = rest.find('|');
    std::string_view lifetime = rest.substr(0, bar2);
    if (bar2 != std::string_view::npos || lifetime.find(':') != std::string_view::npos) {
      return std::string("a=crypto with an MKI is not supported");
    }
    if (!LongLifetime(lifetime)) {
      return std::string("a=crypto key lifetime below 2^31 packets is not supported");
    }
  }
  auto key = DecodeBase64(key_text);
  if (!key) return std::string("a=crypto key is not base64");
  if (key->size() != KeySaltLength(crypto.suite)) {
    return "a=crypto key is " + std::to_string(key->size()) + " bytes, " +
           std::string(SuiteName(crypto.suite)) + " needs " +
           std::to_string(KeySaltLength(crypto.suite));
  }
  crypto.key_salt = std::move(*key);
  for (std::size_t i = 3; i < words.size(); ++i) {
    if (words[i].starts_with("WSH=")) continue;  // a window size hint: harmless
    return "a=crypto session parameter " + std::string(words[i].substr(0, 32)) +
           " is not supported";
  }
  return crypto;
}

std::string FormatCrypto(const SdesCrypto& crypto) {
  return std::to_string(crypto.tag) + " " + std::string(SuiteName(crypto.suite)) +
         " inline:" + EncodeBase64(crypto.key_salt);
}

SdesCrypto NewKey(unsigned tag, Suite suite) {
  SdesCrypto crypto;
  crypto.tag = tag;
  crypto.suite = suite;
  crypto.key_salt.resize(KeySaltLength(suite));
  if (RAND_bytes(crypto.key_salt.data(), static_cast<int>(crypto.key_salt.size())) != 1) {
    throw std::runtime_error("the operating system's random source failed");
  }
  return crypto;
}

}  // namespace callrec::srtp
