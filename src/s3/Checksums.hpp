#pragma once

#include <string>
#include <string_view>

namespace callrec::s3 {

// The integrity headers of a PUT or a part, computed in one pass over the body.
struct BodyChecksums {
  std::string content_md5;    // Content-MD5: base64 of the MD5 (RFC 1864)
  std::string sha256_base64;  // x-amz-checksum-sha256
  std::string sha256_hex;     // x-amz-content-sha256 (the signed payload hash)
};
BodyChecksums ChecksumsOf(std::string_view body);

std::string Base64(std::string_view bytes);

}  // namespace callrec::s3
