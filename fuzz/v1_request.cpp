// What /v1 and the workspace parse from outside bytes (api/V1Requests.hpp):
// the first byte chooses the parser, the rest is its input. Properties: a
// Range is inside the recording; a list query's page is 1..1000 and its token
// round-trips; an accepted body holds what the handlers rely on; a refusal is
// a 400 with a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "FuzzCheck.hpp"
#include "api/V1Requests.hpp"

using namespace callrec;

namespace {

void CheckRefusal(const aws::AwsError& error) {
  CALLREC_FUZZ_CHECK(error.status == 400);
  CALLREC_FUZZ_CHECK(!error.type.empty() && !error.message.empty());
}

void Range(std::string_view input) {
  if (input.size() < 2) return;
  // Sizes 0..65535: small enough for ranges to reach the ends.
  const std::uint64_t size =
      static_cast<unsigned char>(input[0]) * 256u + static_cast<unsigned char>(input[1]);
  const auto span = api::ParseByteRange(input.substr(2), size);
  if (!span) return;
  CALLREC_FUZZ_CHECK(size > 0);
  CALLREC_FUZZ_CHECK(span->first <= span->last && span->last < size);
  CALLREC_FUZZ_CHECK(input.substr(2, 6) == "bytes=");
}

void ListQuery(std::string_view input) {
  const auto filter = api::ParseContactListQuery(input);
  if (!filter) return CheckRefusal(filter.error());
  CALLREC_FUZZ_CHECK(filter->limit >= 1 && filter->limit <= api::kMaxMaxResults);
  if (filter->after.empty()) return;
  // A token the server gives out for that contact continues after it.
  const std::string again = "NextToken=" + api::PageToken("contacts", filter->after);
  const auto parsed = api::ParseContactListQuery(again);
  CALLREC_FUZZ_CHECK(parsed && parsed->after == filter->after);
}

void Token(std::string_view input) {
  if (const auto after = api::PageTokenAfter("recordings", input)) {
    CALLREC_FUZZ_CHECK(!after->empty());
    CALLREC_FUZZ_CHECK(api::PageToken("recordings", *after).size() == input.size());
    CALLREC_FUZZ_CHECK(!api::PageTokenAfter("contacts", input));  // tags do not mix
  }
  if (!input.empty() && input.size() <= 1024) {
    CALLREC_FUZZ_CHECK(api::PageTokenAfter("contacts", api::PageToken("contacts", input)) ==
                       std::string(input));
  }
}

void NewContact(std::string_view input) {
  const auto parsed = api::ParseNewContact(input);
  if (!parsed) return CheckRefusal(parsed.error());
  const control::CreateRequest& create = parsed->create;
  CALLREC_FUZZ_CHECK(!create.instance_id.empty() && create.instance_id.size() <= 100);
  CALLREC_FUZZ_CHECK(create.contact_id.size() <= 256 && create.agent_id.size() <= 256);
  CALLREC_FUZZ_CHECK(create.initial_contact_id.size() <= 256);
  CALLREC_FUZZ_CHECK(create.codec == "PCMU" || create.codec == "PCMA");
}

void NewAgent(std::string_view input) {
  const auto parsed = api::ParseNewAgent(input);
  if (!parsed) return CheckRefusal(parsed.error());
  CALLREC_FUZZ_CHECK(api::ValidAgentId(parsed->agent_id));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view input = fuzz::AsText(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      Range(input);
      break;
    case 1:
      ListQuery(input);
      break;
    case 2:
      Token(input);
      break;
    case 3:
      NewContact(input);
      break;
    case 4:
      NewAgent(input);
      break;
    default:
      (void)api::ParseEventType(input);
      break;
  }
  return 0;
}
