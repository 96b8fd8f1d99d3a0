#include "aws/Crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

namespace callrec::aws {

namespace {

// OpenSSL 3 looks an algorithm up by name, under a lock, each time EVP_sha256() is
// used; fetched once, it is used directly. Created on first use, it never changes,
// so every thread may share it; it lives as long as the process.
const EVP_MD* FetchedSha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// A digest context per thread, to work in (a context cannot be shared while in
// use); freed when its thread ends.
EVP_MD_CTX* WorkContext() {
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context) throw std::runtime_error("HMAC-SHA256 failed: no digest context");
  return context.get();
}

constexpr std::size_t kBlock = 64;  // SHA-256's block size

// The key as HMAC uses it: hashed if longer than a block, zero-padded to a block,
// then XORed with `pad`.
std::array<unsigned char, kBlock> PaddedKey(std::string_view key, unsigned char pad) {
  std::array<unsigned char, kBlock> block{};
  if (key.size() > kBlock) {
    const Digest hashed = Sha256(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  for (unsigned char& byte : block) byte ^= pad;
  return block;
}

constexpr unsigned char kInnerPad = 0x36;
constexpr unsigned char kOuterPad = 0x5c;

void Fail(bool ok) {
  if (!ok) throw std::runtime_error("HMAC-SHA256 failed");
}

// Starts `context` on SHA-256 and feeds it `pad`, which is then wiped (it is the key).
void Begin(EVP_MD_CTX* context, std::array<unsigned char, kBlock>& pad) {
  const bool ok = FetchedSha256() != nullptr &&
                  EVP_DigestInit_ex(context, FetchedSha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(context, pad.data(), pad.size()) == 1;
  OPENSSL_cleanse(pad.data(), pad.size());
  Fail(ok);
}

// Feeds `data` to `context`, whose state is a hashed pad, and finishes it.
Digest Finish(EVP_MD_CTX* context, const void* data, std::size_t size) {
  Digest out{};
  unsigned int length = 0;
  Fail(EVP_DigestUpdate(context, data, size) == 1 &&
       EVP_DigestFinal_ex(context, out.data(), &length) == 1 && length == out.size());
  return out;
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
  EVP_MD_CTX* work = WorkContext();
  auto inner_pad = PaddedKey(key, kInnerPad);
  Begin(work, inner_pad);
  const Digest inner = Finish(work, data.data(), data.size());
  auto outer_pad = PaddedKey(key, kOuterPad);
  Begin(work, outer_pad);
  return Finish(work, inner.data(), inner.size());
}

HmacSha256Key::HmacSha256Key(std::string_view key)
    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()) {
  try {
    Fail(inner_ != nullptr && outer_ != nullptr);
    auto inner_pad = PaddedKey(key, kInnerPad);
    Begin(inner_, inner_pad);
    auto outer_pad = PaddedKey(key, kOuterPad);
    Begin(outer_, outer_pad);
  } catch (...) {
    EVP_MD_CTX_free(inner_);
    EVP_MD_CTX_free(outer_);
    throw;
  }
}

HmacSha256Key::~HmacSha256Key() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

Digest HmacSha256Key::Mac(std::string_view data) const {
  // Copying only reads the source state, so threads may copy the same one at once.
  EVP_MD_CTX* work = WorkContext();
  Fail(EVP_MD_CTX_copy_ex(work, inner_) == 1);
  const Digest inner = Finish(work, data.data(), data.size());
  Fail(EVP_MD_CTX_copy_ex(work, outer_) == 1);
  return Finish(work, inner.data(), inner.size());
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
