#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callrec::s3 {

// The few S3 XML documents a recording's upload reads and writes.

struct UploadedPart {
  int number = 0;
  std::string etag;  // quoted, as S3 gives it
  std::uint64_t size = 0;

  bool operator==(const UploadedPart&) const = default;
};

// <Error><Code>..</Code><Message>..</Message></Error>; nullopt if not an error document.
struct XmlError {
  std::string code;
  std::string message;
};
std::optional<XmlError> ParseError(std::string_view xml);

// InitiateMultipartUploadResult's UploadId (nullopt if absent or not XML).
std::optional<std::string> ParseUploadId(std::string_view xml);

// ListPartsResult: the parts, whether more follow, and the marker to ask from.
struct PartList {
  std::vector<UploadedPart> parts;
  bool truncated = false;
  int next_marker = 0;
};
std::optional<PartList> ParseListParts(std::string_view xml);

// CompleteMultipartUploadResult's ETag (may be empty: Ceph RGW 16 sends none).
std::optional<std::string> ParseCompleteETag(std::string_view xml);

// The body of CompleteMultipartUpload, parts in ascending order.
std::string CompleteMultipartXml(const std::vector<UploadedPart>& parts);

}  // namespace callrec::s3
