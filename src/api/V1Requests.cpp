#include "api/V1Requests.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "api/Http.hpp"
#include "aws/Crypto.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;

std::optional<std::uint64_t> WholeNumber(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<json::object> JsonObject(std::string_view body, std::string* why = nullptr) {
  json::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    if (why != nullptr && ec) *why = ec.message();
    return std::nullopt;
  }
  return std::move(parsed.as_object());
}

// An optional string member: absent or null is empty, a wrong type or length
// is refused.
core::Result<std::string, aws::AwsError> OptionalString(const json::object& body,
                                                        std::string_view name,
                                                        std::size_t max_length) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) return std::string();
  if (!value->is_string())
    return aws::AwsError::InvalidParameter(std::string(name) + " must be a string.");
  if (value->as_string().size() > max_length) {
    return aws::AwsError::InvalidParameter(std::string(name) + " must be at most " +
                                           std::to_string(max_length) + " characters long.");
  }
  return std::string(value->as_string());
}

}  // namespace

std::optional<ByteSpan> ParseByteRange(std::string_view header, std::uint64_t size) {
  if (header.substr(0, 6) != "bytes=" || size == 0) return std::nullopt;
  header.remove_prefix(6);
  const std::size_t dash = header.find('-');
  if (dash == std::string_view::npos || header.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view first_text = header.substr(0, dash);
  const std::string_view last_text = header.substr(dash + 1);
  if (first_text.empty()) {
    const auto suffix = WholeNumber(last_text);
    if (!suffix || *suffix == 0) return std::nullopt;
    return ByteSpan{size - std::min(*suffix, size), size - 1};
  }
  const auto first = WholeNumber(first_text);
  if (!first || *first >= size) return std::nullopt;
  std::uint64_t last = size - 1;
  if (!last_text.empty()) {
    const auto parsed = WholeNumber(last_text);
    if (!parsed || *parsed < *first) return std::nullopt;
    last = std::min(*parsed, size - 1);
  }
  return ByteSpan{*first, last};
}

std::string PageToken(std::string_view tag, std::string_view last_id) {
  return aws::Hex(std::string(tag) + ":" + std::string(last_id));
}

std::optional<std::string> PageTokenAfter(std::string_view tag, std::string_view token) {
  const std::size_t prefix = tag.size() + 1;
  if (token.size() % 2 != 0 || token.size() > 2 * (prefix + 1024)) return std::nullopt;
  std::string bytes;
  for (std::size_t i = 0; i < token.size(); i += 2) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(token.data() + i, token.data() + i + 2, value, 16);
    if (ec != std::errc() || end != token.data() + i + 2) return std::nullopt;
    bytes += static_cast<char>(value);
  }
  if (bytes.size() <= prefix || bytes.compare(0, tag.size(), tag) != 0 ||
      bytes[tag.size()] != ':') {
    return std::nullopt;
  }
  return bytes.substr(prefix);
}

core::Result<control::ContactFilter, aws::AwsError> ParseContactListQuery(std::string_view query) {
  control::ContactFilter filter;
  filter.agent_id = QueryParam(query, "AgentId");
  if (auto state = QueryParam(query, "State")) {
    filter.state = core::ParseRecordingState(*state);
    if (!filter.state) {
      return aws::AwsError::InvalidParameter(
          "State '" + state->substr(0, 64) +
          "' is not one of NOT_STARTED, WAITING_FOR_AGENT, RECORDING, PAUSED, STOPPED, ENDED.");
    }
  }
  auto page = ParsePageRequest(query, "contacts");
  if (!page) return page.error();
  filter.limit = page->limit;
  filter.after = page->after;
  return filter;
}

core::Result<PageRequest, aws::AwsError> ParsePageRequest(std::string_view query,
                                                          std::string_view tag) {
  PageRequest page;
  if (auto max = QueryParam(query, "MaxResults")) {
    const auto n = WholeNumber(*max);
    if (!n || *n < 1 || *n > kMaxMaxResults) {
      return aws::AwsError::InvalidParameter("MaxResults must be a whole number from 1 to " +
                                             std::to_string(kMaxMaxResults) + ".");
    }
    page.limit = static_cast<std::size_t>(*n);
  }
  if (auto token = QueryParam(query, "NextToken")) {
    auto after = PageTokenAfter(tag, *token);
    if (!after) {
      return aws::AwsError::InvalidParameter("NextToken is not one this server gave out.");
    }
    page.after = std::move(*after);
  }
  return page;
}

core::Result<NewContact, aws::AwsError> ParseNewContact(std::string_view text) {
  std::string why;
  const auto body = JsonObject(text, &why);
  if (!body) {
    return aws::AwsError::InvalidRequest("Request body must be a JSON object" +
                                         (why.empty() ? std::string() : ": " + why) + ".");
  }
  NewContact out;
  control::CreateRequest& create = out.create;
  struct Field {
    std::string_view name;
    std::size_t max;
    std::string* into;
  };
  for (const Field& field :
       {Field{"InstanceId", 100, &create.instance_id}, Field{"ContactId", 256, &create.contact_id},
        Field{"InitialContactId", 256, &create.initial_contact_id},
        Field{"AgentId", 256, &create.agent_id}, Field{"Codec", 16, &create.codec}}) {
    auto value = OptionalString(*body, field.name, field.max);
    if (!value) return value.error();
    *field.into = std::move(value).value();
  }
  if (create.instance_id.empty()) return aws::AwsError::InvalidParameter("InstanceId is required.");
  if (create.codec.empty()) create.codec = "PCMU";
  if (create.codec != "PCMU" && create.codec != "PCMA") {
    return aws::AwsError::InvalidParameter(
        "Codec must be PCMU (G.711 mu-law) or PCMA (G.711 A-law).");
  }
  if (const json::value* joined = body->if_contains("AgentJoined")) {
    if (!joined->is_bool())
      return aws::AwsError::InvalidParameter("AgentJoined must be true or false.");
    create.agent_joined = joined->as_bool();
  }
  if (const json::value* pause = body->if_contains("PauseBehavior")) {
    if (!pause->is_string() || (pause->as_string() != "silence" && pause->as_string() != "skip")) {
      return aws::AwsError::InvalidParameter("PauseBehavior must be silence or skip.");
    }
    out.policies.skip_paused = pause->as_string() == "skip";
  }
  if (const json::value* dtmf = body->if_contains("DtmfPolicy")) {
    const auto policy =
        dtmf->is_string() ? media::ParseDtmfPolicy(dtmf->as_string()) : std::nullopt;
    if (!policy)
      return aws::AwsError::InvalidParameter("DtmfPolicy must be mask, pause or record.");
    out.policies.dtmf = policy;
  }
  return out;
}

bool ValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  return std::none_of(id.begin(), id.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

core::Result<NewAgent, aws::AwsError> ParseNewAgent(std::string_view text) {
  const auto body = JsonObject(text);
  const json::value* id = body ? body->if_contains("AgentId") : nullptr;
  if (id == nullptr || !id->is_string()) {
    return aws::AwsError::InvalidParameter("Body must be {\"AgentId\": \"<agent id>\"}.");
  }
  NewAgent out{std::string(id->as_string()), false};
  if (!ValidAgentId(out.agent_id)) {
    return aws::AwsError::InvalidParameter("AgentId must be 1 to 256 visible characters.");
  }
  if (const json::value* asked = body->if_contains("Role")) {
    if (!asked->is_string() ||
        (asked->as_string() != "agent" && asked->as_string() != "supervisor")) {
      return aws::AwsError::InvalidParameter("Role must be agent or supervisor.");
    }
    out.supervisor = asked->as_string() == "supervisor";
  }
  return out;
}

std::optional<std::string> ParseEventType(std::string_view text) {
  const auto body = JsonObject(text);
  const json::value* type = body ? body->if_contains("Type") : nullptr;
  if (type == nullptr || !type->is_string()) return std::nullopt;
  return std::string(type->as_string());
}

}  // namespace callrec::api
