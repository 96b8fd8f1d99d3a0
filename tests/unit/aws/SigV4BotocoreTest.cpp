// callrec's verifier against requests that botocore (the AWS SDK for Python)
// signed: tests/fixtures/sigv4_botocore.json, made by make_sigv4_vectors.py.
// Paths and queries with reserved characters, padded header values, session
// tokens and several regions: each must verify, and fail once altered.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "aws/SigV4.hpp"

namespace callrec::aws {
namespace {

using namespace std::chrono;

boost::json::array LoadVectors() {
  std::ifstream in(std::string(CALLREC_FIXTURES_DIR) + "/sigv4_botocore.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_array();
}

TEST(SigV4Botocore, EveryBotocoreSignatureVerifiesAndAnyAlterationFails) {
  const boost::json::array vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 300u);
  const auto signed_at = sys_days(year(2026) / 11 / 24) + hours(8) + minutes(30) + seconds(15);
  for (const auto& item : vectors) {
    const auto& v = item.as_object();
    auto str = [&](const char* key) { return std::string(v.at(key).as_string()); };
    SignableRequest request{str("method"),
                            str("path"),
                            str("query"),
                            {{"Host", "connect.us-east-1.amazonaws.com"}},
                            ""};
    for (const auto& header : v.at("headers").as_array()) {
      request.headers.emplace_back(std::string(header.as_array()[0].as_string()),
                                   std::string(header.as_array()[1].as_string()));
    }
    SigV4Verifier verifier({{str("access_key_id"), str("secret_access_key")}}, "connect");
    const std::string body = str("body");
    auto verified = verifier.Verify(request, body, signed_at);
    ASSERT_TRUE(verified.ok()) << str("method") << " " << str("path") << "?" << str("query") << ": "
                               << verified.error().message;

    auto altered_body = verifier.Verify(request, body + "x", signed_at);
    EXPECT_FALSE(altered_body.ok()) << str("path");
    SignableRequest altered_path = request;
    altered_path.path += "x";
    EXPECT_FALSE(verifier.Verify(altered_path, body, signed_at).ok()) << str("path");
    SignableRequest altered_query = request;
    altered_query.query += altered_query.query.empty() ? "x=1" : "&x=1";
    EXPECT_FALSE(verifier.Verify(altered_query, body, signed_at).ok()) << str("query");
  }
}

// The signer, from the same requests: botocore's headers without the ones a
// signer adds, signed at the same moment, must give botocore's Authorization.
TEST(SigV4Botocore, SignerProducesBotocoresAuthorization) {
  const auto signed_at = sys_days(year(2026) / 11 / 24) + hours(8) + minutes(30) + seconds(15);
  int compared = 0;
  for (const auto& item : LoadVectors()) {
    const auto& v = item.as_object();
    auto str = [&](const char* key) { return std::string(v.at(key).as_string()); };
    SignableRequest request{str("method"),
                            str("path"),
                            str("query"),
                            {{"Host", "connect.us-east-1.amazonaws.com"}},
                            ""};
    std::string token;
    for (const auto& header : v.at("headers").as_array()) {
      const std::string name(header.as_array()[0].as_string());
      const std::string value(header.as_array()[1].as_string());
      if (name == "Authorization" || name == "X-Amz-Date") continue;
      if (name == "X-Amz-Security-Token") {
        token = value;
        continue;
      }
      request.headers.emplace_back(name, value);
    }
    SigV4Signer signer({str("access_key_id"), str("secret_access_key"), token}, str("region"),
                       "connect", /*content_sha256_header=*/false);
    signer.Sign(request, str("body"), signed_at);
    std::string authorization;
    for (const auto& [name, value] : request.headers) {
      if (name == "Authorization") authorization = value;
    }
    EXPECT_EQ(authorization, str("authorization")) << str("method") << " " << str("path");
    ++compared;
  }
  EXPECT_GE(compared, 300);
}

}  // namespace
}  // namespace callrec::aws
