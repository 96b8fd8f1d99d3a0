#include "s3/S3Client.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "aws/UriEncoding.hpp"
#include "s3/Checksums.hpp"

namespace callrec::s3 {
namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

httpclient::Endpoint ParseOrThrow(const S3Settings& settings) {
  const std::string url = settings.endpoint.empty()
                              ? "https://s3." + settings.region + ".amazonaws.com"
                              : settings.endpoint;
  auto parsed = httpclient::ParseEndpointUrl(url);
  if (!parsed) throw std::invalid_argument("S3 endpoint: " + parsed.error());
  return parsed.value();
}

bool DefaultPort(const httpclient::Endpoint& endpoint) {
  return (endpoint.tls && endpoint.port == "443") || (!endpoint.tls && endpoint.port == "80");
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

const char* S3Error::Reason() const {
  switch (kind) {
    case ErrorKind::kNetwork:
      return "network";
    case ErrorKind::kThrottled:
      return "throttled";
    case ErrorKind::kServer:
      return "server";
    case ErrorKind::kDenied:
      return "denied";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kIntegrity:
      return "integrity";
    case ErrorKind::kClient:
      return "client";
  }
  return "client";
}

std::string S3Error::Describe() const {
  if (status == 0) return std::string("network: ") + message;
  std::string out = std::to_string(status);
  if (!code.empty()) out += " " + code;
  if (!message.empty()) out += ": " + message;
  return out;
}

S3Error ErrorFromReply(const httpclient::HttpReply& reply) {
  S3Error error;
  error.status = reply.status;
  if (auto xml = ParseError(reply.body)) {
    error.code = xml->code;
    error.message = xml->message;
  }
  const unsigned s = reply.status;
  if (s == 503 || s == 429 || error.code == "SlowDown" || error.code == "Throttling" ||
      error.code == "RequestTimeTooSkewed" || error.code == "RequestTimeout") {
    error.kind = s >= 500 || s == 429 ? ErrorKind::kThrottled : ErrorKind::kServer;
  } else if (s >= 500 || (s >= 200 && s < 300)) {
    error.kind = ErrorKind::kServer;  // a 200 carrying <Error> (CompleteMultipartUpload)
  } else if (s == 403 || s == 401) {
    error.kind = ErrorKind::kDenied;
  } else if (s == 404) {
    error.kind = ErrorKind::kNotFound;
  } else if (error.code == "BadDigest" || error.code == "InvalidDigest" ||
             error.code == "XAmzContentSHA256Mismatch" || error.code == "IncompleteBody") {
    error.kind = ErrorKind::kIntegrity;
  } else {
    error.kind = ErrorKind::kClient;
  }
  if (error.code.empty() && error.message.empty()) {
    // HEAD answers have no body: name the status.
    error.code = s == 404 ? "NotFound" : s == 403 ? "Forbidden" : "";
  }
  return error;
}

S3Client::S3Client(S3Settings settings)
    : settings_(std::move(settings)),
      endpoint_(ParseOrThrow(settings_)),
      signer_(settings_.credentials, settings_.region, "s3", /*content_sha256_header=*/true,
              aws::PathRule::kAsSent) {}

std::string S3Client::ObjectPath(const std::string& bucket, const std::string& key) const {
  std::string path = settings_.path_style ? "/" + aws::UriEncode(bucket, false) : "";
  path += '/';
  path += aws::UriEncode(key, true);
  return path;
}

std::string S3Client::HostFor(const std::string& bucket) const {
  std::string host =
      endpoint_.host.find(':') != std::string::npos ? "[" + endpoint_.host + "]" : endpoint_.host;
  if (!settings_.path_style && !bucket.empty()) host = bucket + "." + host;
  if (!DefaultPort(endpoint_)) host += ":" + endpoint_.port;
  return host;
}

void S3Client::AddObjectHeaders(std::vector<std::pair<std::string, std::string>>& headers,
                                const ObjectHeaders& object) const {
  if (!object.content_type.empty()) headers.emplace_back("Content-Type", object.content_type);
  for (const auto& [name, value] : object.metadata) {
    headers.emplace_back("x-amz-meta-" + Lowercase(name), value);
  }
  if (!settings_.sse.empty()) {
    headers.emplace_back("x-amz-server-side-encryption", settings_.sse);
    if (settings_.sse == "aws:kms" && !settings_.sse_kms_key_id.empty()) {
      headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", settings_.sse_kms_key_id);
    }
  }
}

S3Result<httpclient::HttpReply> S3Client::Send(const Request& request) const {
  aws::SignableRequest signable;
  signable.method = request.method;
  signable.path = ObjectPath(request.bucket, request.key);
  signable.query = request.query;
  signable.headers.emplace_back("Host", HostFor(request.bucket));
  for (const auto& header : request.headers) signable.headers.push_back(header);
  std::string payload_hash(kEmptySha256);
  if (!request.body.empty()) {
    const BodyChecksums sums = ChecksumsOf(request.body);
    signable.headers.emplace_back("Content-MD5", sums.content_md5);
    signable.headers.emplace_back("x-amz-checksum-sha256", sums.sha256_base64);
    payload_hash = sums.sha256_hex;
  }
  signer_.SignPayloadHash(signable, payload_hash, std::chrono::system_clock::now());

  httpclient::Endpoint endpoint = endpoint_;
  if (!settings_.path_style && !request.bucket.empty()) {
    endpoint.host = request.bucket + "." + endpoint.host;
  }
  httpclient::HttpCall call;
  call.method = request.method;
  call.target = signable.path + (signable.query.empty() ? "" : "?" + signable.query);
  call.headers = std::move(signable.headers);
  call.body = std::string(request.body);
  auto reply =
      httpclient::SendHttp(endpoint, call, settings_.timeout, settings_.ca_file, &cancelled_);
  if (!reply) return S3Error{ErrorKind::kNetwork, 0, "", reply.error()};
  if (reply->status < 200 || reply->status >= 300) return ErrorFromReply(reply.value());
  return std::move(reply).value();
}

S3Result<std::string> S3Client::PutObject(const std::string& bucket, const std::string& key,
                                          std::string_view body,
                                          const ObjectHeaders& headers) const {
  Request request{"PUT", bucket, key, "", {}, body};
  AddObjectHeaders(request.headers, headers);
  auto reply = Send(request);
  if (!reply) return reply.error();
  return reply->Header("ETag");
}

S3Result<ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) const {
  auto reply = Send({"HEAD", bucket, key, "", {}, {}});
  if (!reply) return reply.error();
  ObjectInfo info;
  const std::string length = reply->Header("Content-Length");
  info.size = length.empty() ? 0 : std::stoull(length);
  info.etag = reply->Header("ETag");
  info.content_type = reply->Header("Content-Type");
  info.sse = reply->Header("x-amz-server-side-encryption");
  for (const auto& [name, value] : reply->headers) {
    const std::string lower = Lowercase(name);
    if (lower.rfind("x-amz-meta-", 0) == 0) info.metadata[lower.substr(11)] = value;
  }
  return info;
}

S3Result<std::string> S3Client::GetObject(
    const std::string& bucket, const std::string& key,
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range) const {
  Request request{"GET", bucket, key, "", {}, {}};
  if (range) {
    request.headers.emplace_back(
        "Range", "bytes=" + std::to_string(range->first) + "-" + std::to_string(range->second));
  }
  auto reply = Send(request);
  if (!reply) return reply.error();
  return std::move(reply.value().body);
}

S3Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket,
                                                      const std::string& key,
                                                      const ObjectHeaders& headers) const {
  Request request{"POST", bucket, key, "uploads", {}, {}};
  AddObjectHeaders(request.headers, headers);
  auto reply = Send(request);
  if (!reply) return reply.error();
  auto id = ParseUploadId(reply->body);
  if (!id) return S3Error{ErrorKind::kServer, reply->status, "", "no UploadId in the answer"};
  return *id;
}

S3Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                           const std::string& upload_id, int part_number,
                                           std::string_view body) const {
  const std::string query =
      "partNumber=" + std::to_string(part_number) + "&uploadId=" + aws::UriEncode(upload_id, false);
  auto reply = Send({"PUT", bucket, key, query, {}, body});
  if (!reply) return reply.error();
  return reply->Header("ETag");
}

S3Result<std::string> S3Client::CompleteMultipartUpload(
    const std::string& bucket, const std::string& key, const std::string& upload_id,
    const std::vector<UploadedPart>& parts) const {
  const std::string body = CompleteMultipartXml(parts);
  Request request{"POST", bucket, key, "uploadId=" + aws::UriEncode(upload_id, false), {}, body};
  request.headers.emplace_back("Content-Type", "application/xml");
  auto reply = Send(request);
  if (!reply) return reply.error();
  // S3 may answer 200 and report the failure in the body.
  if (auto etag = ParseCompleteETag(reply->body)) return *etag;
  return ErrorFromReply(reply.value());
}

S3Result<bool> S3Client::DeleteObject(const std::string& bucket, const std::string& key) const {
  auto reply = Send({"DELETE", bucket, key, "", {}, {}});
  if (!reply) return reply.error();
  return true;
}

S3Result<bool> S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id) const {
  auto reply =
      Send({"DELETE", bucket, key, "uploadId=" + aws::UriEncode(upload_id, false), {}, {}});
  if (!reply) return reply.error();
  return true;
}

S3Result<std::vector<UploadedPart>> S3Client::ListParts(const std::string& bucket,
                                                        const std::string& key,
                                                        const std::string& upload_id) const {
  std::vector<UploadedPart> parts;
  int marker = 0;
  for (int page = 0; page < 20; ++page) {
    std::string query = "max-parts=1000";
    if (marker > 0) query += "&part-number-marker=" + std::to_string(marker);
    query += "&uploadId=" + aws::UriEncode(upload_id, false);
    auto reply = Send({"GET", bucket, key, query, {}, {}});
    if (!reply) return reply.error();
    auto list = ParseListParts(reply->body);
    if (!list) return S3Error{ErrorKind::kServer, reply->status, "", "unreadable ListParts answer"};
    parts.insert(parts.end(), list->parts.begin(), list->parts.end());
    if (!list->truncated || list->next_marker <= marker) break;
    marker = list->next_marker;
  }
  return parts;
}

}  // namespace callrec::s3
