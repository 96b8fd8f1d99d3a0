// Connect API request bodies (StartContactRecording and the other three), signed
// correctly so that every input reaches ConnectApi's body validation and the
// contact service behind it. The first byte chooses the operation; the rest is
// the JSON body. A signed request is never refused for its signature, and never
// answered with a 5xx.
#include <cstddef>
#include <cstdint>

#include <boost/json.hpp>

#include "ConnectApiHarness.hpp"
#include "aws/ConnectPaths.hpp"
#include "aws/Crypto.hpp"

using namespace callrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto operation = static_cast<core::Operation>(data[0] % 4);
  const std::string body(fuzz::AsText(data + 1, size - 1));

  aws::SignableRequest signable;
  signable.method = "POST";
  signable.path = std::string(aws::ConnectPath(operation));
  signable.headers = {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json"}};
  const aws::SigV4Signer signer({fuzz::kAccessKeyId, fuzz::kSecret, ""}, fuzz::kRegion, "connect");
  signer.Sign(signable, body, fuzz::kNow);

  api::HttpRequest request{api::http::verb::post, signable.path, 11};
  for (const auto& [name, value] : signable.headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();

  fuzz::ConnectApiHarness harness;
  const api::HttpResponse response = harness.Handle(std::move(request));
  const unsigned status = response.result_int();
  CALLREC_FUZZ_CHECK(status != 403);  // the signature was right
  CALLREC_FUZZ_CHECK(status == 200 || (status >= 400 && status < 500));
  boost::json::error_code ec;
  const boost::json::value answer = boost::json::parse(response.body(), ec);
  CALLREC_FUZZ_CHECK(!ec && answer.is_object());
  if (status == 200) {
    CALLREC_FUZZ_CHECK(answer.as_object().empty());
  } else {
    CALLREC_FUZZ_CHECK(!response["x-amzn-ErrorType"].empty());
    CALLREC_FUZZ_CHECK(answer.as_object().contains("message"));
  }
  return 0;
}
