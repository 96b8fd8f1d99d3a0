// Bytes from an HTTP client, as api::HttpServer reads them: Boost.Beast's
// request_parser with the server's limits (api::HttpLimits), then SigV4
// verification of whatever parsed (the Authorization header, X-Amz-Date and the
// canonical request are all the client's), and, for a Connect path, the whole
// of api::ConnectApi over an in-memory store. Nothing the client sends is
// accepted as signed, and every answer is an AWS error or a success in JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/json.hpp>

#include "ConnectApiHarness.hpp"
#include "api/HttpServer.hpp"

using namespace callrec;
namespace http = api::http;

namespace {

void CheckAnswer(const api::HttpResponse& response) {
  const unsigned status = response.result_int();
  CALLREC_FUZZ_CHECK(status == 200 || (status >= 400 && status < 500));
  boost::json::error_code ec;
  const boost::json::value answer = boost::json::parse(response.body(), ec);
  CALLREC_FUZZ_CHECK(!ec && answer.is_object());
  if (status != 200) CALLREC_FUZZ_CHECK(answer.as_object().contains("message"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const api::HttpLimits limits;
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));

  boost::beast::error_code ec;
  std::string_view rest = fuzz::AsText(data, size);
  while (!rest.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec || used == 0) break;
    rest.remove_prefix(used);
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;

  api::HttpRequest request = parser.release();
  CALLREC_FUZZ_CHECK(request.body().size() <= limits.max_body_bytes);
  const auto verified = fuzz::ConnectApiHarness::Verifier().Verify(api::ToSignable(request),
                                                                   request.body(), fuzz::kNow);
  // The fuzzer does not know the secret: no signature of its own can pass.
  CALLREC_FUZZ_CHECK(!verified.ok());
  CALLREC_FUZZ_CHECK(verified.error().status >= 400 && verified.error().status < 500);
  CALLREC_FUZZ_CHECK(!verified.error().message.empty());

  if (api::ConnectApi::Serves(request.target())) {
    fuzz::ConnectApiHarness harness;
    const api::HttpResponse response = harness.Handle(std::move(request));
    CALLREC_FUZZ_CHECK(response.result_int() != 200);
    CheckAnswer(response);
  }
  return 0;
}
