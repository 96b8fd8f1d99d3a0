#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callrec::flow {

// A dynamic value of the flow language: a string that starts with "$." names
// a member of the flow data object ($.Attributes.name, $.External.key,
// $.Views.ViewResultData.actionName, $.InitialContactId, ...). Members are
// dot-separated names; a name with other characters is written ['like this'],
// an array element [0].
struct JsonPath {
  struct Segment {
    std::string name;  // member name, or empty when `index` is used
    std::optional<std::size_t> index;
  };
  std::vector<Segment> segments;  // the first is the namespace (Attributes, External, ...)
  std::string text;               // as written in the flow
};

// Whether a flow value is a reference rather than a static string.
bool IsReference(std::string_view value);

// Parses a reference; nullopt with `why` filled when it is malformed or names
// a namespace the flow language does not have.
std::optional<JsonPath> ParseJsonPath(std::string_view value, std::string* why);

// The member a path names in `data`, or nullptr when there is none.
const boost::json::value* Resolve(const boost::json::object& data, const JsonPath& path);

// A resolved value as the flow language turns it into text: strings as they
// are, nothing as "", numbers, booleans, objects and arrays as JSON.
std::string ToText(const boost::json::value* value);

// `value` with every reference in it resolved (objects and arrays walked);
// references to nothing become "". Strings under a "TemplateString" key are
// passed through SanitiseHtml once resolved.
boost::json::value ResolveTree(const boost::json::value& value, const boost::json::object& data);

// A string value resolved to text (static strings are returned as they are).
std::string ResolveText(std::string_view value, const boost::json::object& data);

}  // namespace callrec::flow
