// callrec's signer for S3 (service "s3", the path as sent, x-amz-content-sha256)
// against AWS's documented S3 examples ("Signature calculations for the
// Authorization header: transferring payload in a single chunk") and 200 S3
// requests signed by botocore's S3SigV4Auth (tests/fixtures/sigv4_s3_botocore.json,
// made by make_sigv4_s3_vectors.py).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "aws/SigV4.hpp"
#include "s3/S3Client.hpp"

namespace callrec::s3 {
namespace {

using namespace std::chrono;

const aws::Credentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const auto kExampleTime = sys_days(year(2013) / 5 / 24);

std::string AuthorizationOf(const aws::SignableRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (name == "Authorization") return value;
  }
  return "";
}

std::string SignatureOf(const std::string& authorization) {
  return authorization.substr(authorization.find("Signature=") + 10);
}

aws::SigV4Signer ExampleSigner() {
  return aws::SigV4Signer(kExampleCredentials, "us-east-1", "s3", true, aws::PathRule::kAsSent);
}

TEST(SigV4S3, AwsExampleGetObjectWithRange) {
  aws::SignableRequest request{"GET", "/test.txt", "", {}, ""};
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  ExampleSigner().Sign(request, "", kExampleTime);
  const std::string authorization = AuthorizationOf(request);
  EXPECT_NE(authorization.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"),
            std::string::npos)
      << authorization;
  EXPECT_EQ(SignatureOf(authorization),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3, AwsExamplePutObjectKeyWithReservedCharacter) {
  // Key "test$file.text": sent and signed as /test%24file.text, encoded once.
  aws::SignableRequest request{"PUT", "/test%24file.text", "", {}, ""};
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  ExampleSigner().Sign(request, "Welcome to Amazon S3.", kExampleTime);
  EXPECT_EQ(SignatureOf(AuthorizationOf(request)),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3, AwsExampleGetBucketLifecycle) {
  aws::SignableRequest request{"GET", "/", "lifecycle", {}, ""};
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  ExampleSigner().Sign(request, "", kExampleTime);
  EXPECT_EQ(SignatureOf(AuthorizationOf(request)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3, AwsExampleListObjects) {
  aws::SignableRequest request{"GET", "/", "max-keys=2&prefix=J", {}, ""};
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  ExampleSigner().Sign(request, "", kExampleTime);
  EXPECT_EQ(SignatureOf(AuthorizationOf(request)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3, PathIsSignedAsSentNotEncodedTwice) {
  // Connect's keys carry a colon: %3A in the path, and %3A in the canonical URI
  // (the general rule would make it %253A and S3 would refuse the signature).
  aws::SignableRequest request{"PUT", "/b/x/c_20261207T07%3A30_UTC.wav", "", {}, "h"};
  request.headers = {{"Host", "s3"}};
  const std::string canonical = aws::CanonicalRequest(request, {"host"}, aws::PathRule::kAsSent);
  EXPECT_EQ(canonical.substr(0, canonical.find('\n', 4)), "PUT\n/b/x/c_20261207T07%3A30_UTC.wav");
  const std::string general = aws::CanonicalRequest(request, {"host"});
  EXPECT_NE(general.find("%253A"), std::string::npos);
}

boost::json::array LoadVectors() {
  std::ifstream in(std::string(CALLREC_FIXTURES_DIR) + "/sigv4_s3_botocore.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_array();
}

TEST(SigV4S3, SignerProducesBotocoresAuthorizationForS3Requests) {
  const auto signed_at = sys_days(year(2026) / 12 / 7) + hours(7) + minutes(30) + seconds(5);
  int compared = 0, unsigned_payload = 0;
  for (const auto& item : LoadVectors()) {
    const auto& v = item.as_object();
    auto str = [&](const char* key) { return std::string(v.at(key).as_string()); };
    aws::SignableRequest request{str("method"), str("path"), str("query"), {}, ""};
    request.headers.emplace_back("Host", str("host"));
    for (const auto& header : v.at("headers").as_array()) {
      request.headers.emplace_back(std::string(header.as_array()[0].as_string()),
                                   std::string(header.as_array()[1].as_string()));
    }
    aws::SigV4Signer signer({str("access_key_id"), str("secret_access_key"), str("session_token")},
                            "eu-west-2", "s3", true, aws::PathRule::kAsSent);
    const std::string payload_hash = str("content_sha256");
    if (payload_hash == aws::kUnsignedPayload) {
      ++unsigned_payload;
      signer.SignPayloadHash(request, payload_hash, signed_at);
    } else {
      signer.Sign(request, str("body"), signed_at);
    }
    EXPECT_EQ(AuthorizationOf(request), str("authorization"))
        << str("method") << " " << str("path") << "?" << str("query");
    ++compared;
  }
  EXPECT_EQ(compared, 200);
  EXPECT_GT(unsigned_payload, 0);
}

TEST(S3Client, ObjectPathsAndHostsForBothAddressingStyles) {
  S3Settings settings;
  settings.endpoint = "http://127.0.0.1:7480";
  settings.path_style = true;
  S3Client path_style(settings);
  EXPECT_EQ(path_style.ObjectPath("rec", "p/CallRecordings/2026/12/07/c 1_20261207T07:30_UTC.wav"),
            "/rec/p/CallRecordings/2026/12/07/c%201_20261207T07%3A30_UTC.wav");
  EXPECT_EQ(path_style.HostFor("rec"), "127.0.0.1:7480");

  S3Settings aws;
  aws.region = "eu-west-2";
  S3Client virtual_host(aws);
  EXPECT_EQ(virtual_host.ObjectPath("rec", "a/b.json"), "/a/b.json");
  EXPECT_EQ(virtual_host.HostFor("rec"), "rec.s3.eu-west-2.amazonaws.com");

  S3Settings bad;
  bad.endpoint = "ftp://x";
  EXPECT_THROW(S3Client{bad}, std::invalid_argument);
}

}  // namespace
}  // namespace callrec::s3
