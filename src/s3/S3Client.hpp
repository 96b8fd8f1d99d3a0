#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/SigV4.hpp"
#include "core/Result.hpp"
#include "httpclient/HttpClient.hpp"
#include "s3/S3Error.hpp"
#include "s3/S3Xml.hpp"

namespace callrec::s3 {

// Where and how to reach the bucket.
struct S3Settings {
  // http(s)://HOST[:PORT]; empty: https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  // Path-style addressing (http://host/BUCKET/KEY: Ceph RGW, MinIO); otherwise
  // virtual-hosted (http://BUCKET.host/KEY, Amazon S3's default).
  bool path_style = false;
  std::string ca_file;  // PEM bundle to verify an https endpoint with; empty: the system's
  aws::Credentials credentials;
  // Server-side encryption of every object written: "" (none), "AES256", "aws:kms".
  std::string sse;
  std::string sse_kms_key_id;  // with aws:kms; empty: the bucket's default key
  std::chrono::milliseconds timeout{60000};
};

// The headers an object is created with (PUT, or CreateMultipartUpload).
struct ObjectHeaders {
  std::string content_type;
  // User metadata, sent as x-amz-meta-<name> (names lowercase ASCII).
  std::vector<std::pair<std::string, std::string>> metadata;
};

// What HEAD says of an object.
struct ObjectInfo {
  std::uint64_t size = 0;
  std::string etag;
  std::string content_type;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix, lowercase
  std::string sse;                              // x-amz-server-side-encryption, if any
};

template <typename T>
using S3Result = core::Result<T, S3Error>;

// Amazon S3's REST API, the requests a recording's upload and read-back need.
// Every request is signed with SigV4 for service "s3" (aws::SigV4Signer with
// S3's path rule) and carries x-amz-content-sha256; every body sent carries
// Content-MD5 and x-amz-checksum-sha256. One connection per request; each call
// blocks its thread until answered or `timeout`. Thread-safe.
class S3Client {
 public:
  // Throws std::invalid_argument if the endpoint is not an http(s) URL.
  explicit S3Client(S3Settings settings);

  const S3Settings& settings() const { return settings_; }
  // Every request under way gives up within 50 ms, and every later one at
  // once (network error "cancelled"): the server is stopping and S3 does not
  // answer. For good.
  void CancelRequests() const { cancelled_ = true; }

  S3Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                  std::string_view body, const ObjectHeaders& headers) const;
  S3Result<ObjectInfo> HeadObject(const std::string& bucket, const std::string& key) const;
  // Deletes an object; S3 answers success for a key it does not hold, so a
  // repeated delete succeeds.
  S3Result<bool> DeleteObject(const std::string& bucket, const std::string& key) const;
  // The object, or bytes [first, last] of it.
  S3Result<std::string> GetObject(
      const std::string& bucket, const std::string& key,
      std::optional<std::pair<std::uint64_t, std::uint64_t>> range = std::nullopt) const;

  // Multipart upload: SSE headers go on Create only. Returns the upload id.
  S3Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key,
                                              const ObjectHeaders& headers) const;
  // Returns the part's ETag (quoted).
  S3Result<std::string> UploadPart(const std::string& bucket, const std::string& key,
                                   const std::string& upload_id, int part_number,
                                   std::string_view body) const;
  // Returns the object's ETag (may be empty: Ceph RGW 16 answers none; HEAD has it).
  S3Result<std::string> CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id,
                                                const std::vector<UploadedPart>& parts) const;
  S3Result<bool> AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) const;
  // Every part uploaded so far (all pages), to resume an upload.
  S3Result<std::vector<UploadedPart>> ListParts(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id) const;

  // The URL path of an object as sent and signed: /BUCKET/KEY (path style) or
  // /KEY, the key percent-encoded once with '/' kept (S3's rule).
  std::string ObjectPath(const std::string& bucket, const std::string& key) const;
  // The Host header for a bucket.
  std::string HostFor(const std::string& bucket) const;

 private:
  struct Request {
    std::string method;
    std::string bucket;
    std::string key;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;
  };
  S3Result<httpclient::HttpReply> Send(const Request& request) const;
  void AddObjectHeaders(std::vector<std::pair<std::string, std::string>>& headers,
                        const ObjectHeaders& object) const;

  S3Settings settings_;
  httpclient::Endpoint endpoint_;
  aws::SigV4Signer signer_;
  mutable std::atomic<bool> cancelled_{false};
};

// The error an HTTP answer means (its XML <Error> if it has one).
S3Error ErrorFromReply(const httpclient::HttpReply& reply);

}  // namespace callrec::s3
