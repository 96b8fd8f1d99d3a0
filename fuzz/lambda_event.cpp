// Amazon Connect's InvokeLambdaFunction event as callrec-lambda receives it from
// the Runtime API: parsed as lambda_main does, then lambda::RecordingHandler
// with a Connect call that succeeds, or fails as the first input byte says.
// The answer is always the flat string map the flow reads, with a status the
// API really reached.
#include <cstddef>
#include <cstdint>

#include <boost/json.hpp>

#include "FuzzCheck.hpp"
#include "lambda/RecordingHandler.hpp"

using namespace callrec;
namespace json = boost::json;

namespace {

aws::ConnectClient::Outcome OutcomeFor(std::uint8_t selector) {
  aws::ConnectClient::Outcome outcome;
  outcome.attempts = 1 + selector % 3;
  switch (selector % 5) {
    case 0:
    case 1:
      break;  // 200
    case 2:
      outcome.error = aws::ConnectCallError{400, "InvalidRequestException",
                                            "Contact c-1 is PAUSED; it cannot be started."};
      break;
    case 3:
      outcome.error = aws::ConnectCallError{404, "ResourceNotFoundException", "no such contact"};
      break;
    default:
      outcome.error = aws::ConnectCallError{0, "Unreachable", "connection refused"};
      break;
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  json::error_code ec;
  json::value event = json::parse(fuzz::AsText(data + 1, size - 1), ec);
  if (ec) event = nullptr;

  int calls = 0;
  const lambda::RecordingHandler handler(
      "local", [&](core::Operation, const std::string& instance, const std::string& contact,
                   const std::string& initial, core::Track, std::chrono::steady_clock::time_point) {
        ++calls;
        CALLREC_FUZZ_CHECK(instance == "local");
        CALLREC_FUZZ_CHECK(!contact.empty() && !initial.empty());
        return OutcomeFor(selector);
      });
  const auto result =
      handler.Handle(event, std::chrono::steady_clock::now() + std::chrono::seconds(3));
  CALLREC_FUZZ_CHECK(calls <= 1);

  const json::object& response = result.response;
  for (const char* key :
       {"statusCode", "message", "operation", "callRecordingStatus", "callRecordingHTML"}) {
    const json::value* value = response.if_contains(key);
    CALLREC_FUZZ_CHECK(value != nullptr && value->is_string());
  }
  const json::string& status = response.at("callRecordingStatus").as_string();
  CALLREC_FUZZ_CHECK(status == "ON" || status == "PAUSED" || status == "OFF");
  if (calls == 0) CALLREC_FUZZ_CHECK(response.at("statusCode").as_string() == "400");
  (void)json::serialize(response);
  (void)json::serialize(result.log);
  return 0;
}
