#include "aws/Crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace callrec::aws {

namespace {

// OpenSSL 3 looks an algorithm up by name, under a lock, each time EVP_sha256() or
// HMAC() is used; fetched once, it is used directly. Both are created on first use
// and never change, so every thread may share them; they live as long as the process.
const EVP_MD* FetchedSha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// An HMAC context with its digest set and no key: each call works on its own copy
// (EVP_MAC_CTX_dup only reads this one), keyed with EVP_MAC_init.
const EVP_MAC_CTX* HmacSha256Template() {
  static EVP_MAC_CTX* const context = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* made = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (made && EVP_MAC_CTX_set_params(made, params) != 1) {
      EVP_MAC_CTX_free(made);
      made = nullptr;
    }
    return made;
  }();
  return context;
}

}  // namespace

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  const EVP_MD* md = FetchedSha256();
  if (md == nullptr ||
      EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

Digest HmacSha256(std::string_view key, std::string_view data) {
  const EVP_MAC_CTX* keyless = HmacSha256Template();
  // EVP_MAC_CTX_dup takes a non-const pointer but does not change its argument.
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context(
      keyless ? EVP_MAC_CTX_dup(const_cast<EVP_MAC_CTX*>(keyless)) : nullptr, &EVP_MAC_CTX_free);
  Digest out{};
  std::size_t length = 0;
  if (!context ||
      EVP_MAC_init(context.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   nullptr) != 1 ||
      EVP_MAC_update(context.get(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(context.get(), out.data(), &length, out.size()) != 1 || length != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[c >> 4];
    out[2 * i + 1] = kDigits[c & 0xF];
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomToken(std::size_t length, std::string_view alphabet) {
  std::vector<unsigned char> bytes(length);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no random bytes available");
  }
  std::string out;
  out.reserve(length);
  // 256 % alphabet.size() bias is negligible for tokens of this length, but
  // rejection sampling keeps it exact.
  const unsigned limit = 256 - (256 % alphabet.size());
  for (std::size_t i = 0; out.size() < length; ++i) {
    if (i == bytes.size()) {
      RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
      i = 0;
    }
    if (bytes[i] < limit) out.push_back(alphabet[bytes[i] % alphabet.size()]);
  }
  return out;
}

}  // namespace callrec::aws
