#include "s3/Checksums.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "aws/Crypto.hpp"

namespace callrec::s3 {
namespace {

std::string Digest(const EVP_MD* md, std::string_view body) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(body.data(), body.size(), out, &length, md, nullptr) != 1) {
    throw std::runtime_error("digest failed");
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

BodyChecksums ChecksumsOf(std::string_view body) {
  BodyChecksums out;
  out.content_md5 = Base64(Digest(EVP_md5(), body));
  const std::string sha = Digest(EVP_sha256(), body);
  out.sha256_base64 = Base64(sha);
  out.sha256_hex = aws::Hex(sha);
  return out;
}

}  // namespace callrec::s3
