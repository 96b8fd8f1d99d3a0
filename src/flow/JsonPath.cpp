#include "flow/JsonPath.hpp"

#include <array>
#include <boost/json/serialize.hpp>

#include "flow/HtmlSanitiser.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

// The top-level members of Amazon Connect's flow data object. References to
// the ones the runtime has no data for (a queue, a Lex bot, ...) resolve to
// nothing, as they would on a contact without them; any other name is a typo.
constexpr auto kNamespaces = std::to_array<std::string_view>({
    "Attributes",
    "External",
    "Views",
    "ContactId",
    "InitialContactId",
    "PreviousContactId",
    "RelatedContactId",
    "Channel",
    "InstanceARN",
    "InitiationMethod",
    "Name",
    "Description",
    "Agent",
    "Queue",
    "CustomerEndpoint",
    "SystemEndpoint",
    "Lex",
    "LexV2",
    "Media",
    "MediaStreams",
    "StoredCustomerInput",
    "Customer",
    "Case",
    "SegmentAttributes",
    "Tags",
    "FlowAttributes",
    "LanguageCode",
    "TextToSpeechVoice",
    "Campaign",
});

bool IsNameChar(char c) {
  return c != '.' && c != '[' && c != ']' && c != '\'' && c != '"' && c > ' ';
}

}  // namespace

bool IsReference(std::string_view value) {
  return value.starts_with("$.");
}

std::optional<JsonPath> ParseJsonPath(std::string_view value, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<JsonPath> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (!IsReference(value)) return fail("a reference starts with \"$.\"");
  JsonPath path;
  path.text = std::string(value);
  std::size_t at = 1;  // at the '.' after '$'
  while (at < value.size()) {
    const char c = value[at];
    if (c == '.') {
      ++at;
      if (at < value.size() && value[at] == '[') continue;  // $.Attributes.['name']
      const std::size_t start = at;
      while (at < value.size() && IsNameChar(value[at])) ++at;
      if (at == start) return fail("empty member name at position " + std::to_string(start));
      path.segments.push_back({std::string(value.substr(start, at - start)), std::nullopt});
    } else if (c == '[') {
      ++at;
      if (at < value.size() && (value[at] == '\'' || value[at] == '"')) {
        const char quote = value[at++];
        const std::size_t end = value.find(quote, at);
        if (end == std::string_view::npos) return fail("unterminated quoted member name");
        if (end == at) return fail("empty member name");
        path.segments.push_back({std::string(value.substr(at, end - at)), std::nullopt});
        at = end + 1;
      } else {
        std::size_t index = 0;
        const std::size_t start = at;
        while (at < value.size() && value[at] >= '0' && value[at] <= '9' && at - start < 9) {
          index = index * 10 + static_cast<std::size_t>(value[at] - '0');
          ++at;
        }
        if (at == start) return fail("expected a quoted name or an index after '['");
        path.segments.push_back({std::string(), index});
      }
      if (at >= value.size() || value[at] != ']') return fail("missing ']'");
      ++at;
    } else {
      return fail(std::string("unexpected '") + c + "' at position " + std::to_string(at));
    }
  }
  if (path.segments.empty() || path.segments.front().index) return fail("no member named");
  const std::string& first = path.segments.front().name;
  bool known = false;
  for (std::string_view name : kNamespaces) known = known || name == first;
  if (!known) return fail("$." + first + " is not part of Amazon Connect's flow data");
  return path;
}

const json::value* Resolve(const json::object& data, const JsonPath& path) {
  const json::value* at = nullptr;
  for (std::size_t i = 0; i < path.segments.size(); ++i) {
    const JsonPath::Segment& segment = path.segments[i];
    if (i == 0) {
      at = data.if_contains(segment.name);
    } else if (segment.index) {
      at = at->is_array() && *segment.index < at->as_array().size()
               ? &at->as_array()[*segment.index]
               : nullptr;
    } else {
      at = at->is_object() ? at->as_object().if_contains(segment.name) : nullptr;
    }
    if (at == nullptr) return nullptr;
  }
  return at;
}

std::string ToText(const json::value* value) {
  if (value == nullptr || value->is_null()) return {};
  if (value->is_string()) return std::string(value->as_string());
  return json::serialize(*value);
}

std::string ResolveText(std::string_view value, const json::object& data) {
  if (!IsReference(value)) return std::string(value);
  const auto path = ParseJsonPath(value, nullptr);
  return path ? ToText(Resolve(data, *path)) : std::string();
}

namespace {

json::value ResolveValue(const json::value& value, const json::object& data, bool template_string) {
  switch (value.kind()) {
    case json::kind::string: {
      const std::string_view text = value.as_string();
      if (!IsReference(text) && !template_string) return value;
      json::value resolved = value;
      if (IsReference(text)) {
        const auto path = ParseJsonPath(text, nullptr);
        const json::value* found = path ? Resolve(data, *path) : nullptr;
        resolved = found ? *found : json::value(json::string());
      }
      if (template_string) return json::value(SanitiseHtml(ToText(&resolved)));
      return resolved;
    }
    case json::kind::object: {
      json::object out;
      for (const auto& member : value.as_object()) {
        out[member.key()] =
            ResolveValue(member.value(), data, template_string || member.key() == "TemplateString");
      }
      return out;
    }
    case json::kind::array: {
      json::array out;
      for (const json::value& item : value.as_array()) {
        out.push_back(ResolveValue(item, data, template_string));
      }
      return out;
    }
    default:
      return value;
  }
}

}  // namespace

json::value ResolveTree(const json::value& value, const json::object& data) {
  return ResolveValue(value, data, false);
}

}  // namespace callrec::flow
