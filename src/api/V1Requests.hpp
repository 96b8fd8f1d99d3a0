#pragma once

// What /v1 and the workspace read from outside bytes, parsed apart from the
// handlers that act on it: Range headers, list queries and page tokens, and
// the JSON bodies of POST /v1/contacts, /v1/agents and a contact's events.
// Pure functions (no I/O, no state), so fuzz/v1_request.cpp and the unit tests
// reach every refusal.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/AwsError.hpp"
#include "control/ContactService.hpp"
#include "core/Result.hpp"
#include "media/Recorder.hpp"

namespace callrec::api {

// A satisfiable single range of a `size`-byte body: first and last byte, both
// inclusive, last < size.
struct ByteSpan {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool operator==(const ByteSpan&) const = default;
};

// "bytes=FIRST-LAST", "bytes=FIRST-" or "bytes=-SUFFIX" (RFC 9110 14.1.2) against
// `size`; nullopt (answered 416) for anything else: several ranges, a range
// starting past the end, an empty body.
std::optional<ByteSpan> ParseByteRange(std::string_view header, std::uint64_t size);

// The NextToken of a list page that ends at `last_id` under `tag` (contacts,
// recordings), and back: the id a token continues after, nullopt if the token
// is not one this server gives out under that tag.
std::string PageToken(std::string_view tag, std::string_view last_id);
std::optional<std::string> PageTokenAfter(std::string_view tag, std::string_view token);

inline constexpr std::size_t kDefaultMaxResults = 100;
inline constexpr std::size_t kMaxMaxResults = 1000;

// A page of a list (GET /v1/contacts, GET /v1/recordings): MaxResults
// (1..1000, default 100) entries after the id the NextToken of list `tag` names.
struct PageRequest {
  std::size_t limit = kDefaultMaxResults;
  std::string after;  // empty: from the start
};
core::Result<PageRequest, aws::AwsError> ParsePageRequest(std::string_view query,
                                                          std::string_view tag);

// GET /v1/contacts?AgentId=&State=&MaxResults=&NextToken= as a filter (the
// caller's own confinement is applied by the handler).
core::Result<control::ContactFilter, aws::AwsError> ParseContactListQuery(std::string_view query);

// POST /v1/contacts: a contact to create and its media policies. An empty
// contact_id means the server picks one.
struct NewContact {
  control::CreateRequest create;
  media::CallPolicies policies;
};
core::Result<NewContact, aws::AwsError> ParseNewContact(std::string_view text);

// POST /v1/agents: {"AgentId": "...", "Role": "agent" | "supervisor"}.
struct NewAgent {
  std::string agent_id;
  bool supervisor = false;
};
core::Result<NewAgent, aws::AwsError> ParseNewAgent(std::string_view text);

// POST /v1/contacts/{id}/events: {"Type": "..."}; nullopt if the body is not
// a JSON object with a string Type.
std::optional<std::string> ParseEventType(std::string_view text);

// An agent id as /v1 accepts it: 1 to 256 visible characters.
bool ValidAgentId(std::string_view id);

}  // namespace callrec::api
