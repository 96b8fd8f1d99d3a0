// Attribute text rendered into the agent's page (callRecordingHTML, a Cards
// view's TemplateString): flow::SanitiseHtml on libxml2's HTML parser. Whatever
// the input, the output may hold only the allowed elements and attributes,
// balanced, with every value quoted and escaped and every href http(s).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzCheck.hpp"
#include "flow/HtmlSanitiser.hpp"

using namespace callrec;

namespace {

constexpr auto kElements = std::to_array<std::string_view>({
    "p",     "span",  "div", "b",  "strong", "i",       "em",         "u",     "s",
    "small", "br",    "hr",  "ul", "ol",     "li",      "h1",         "h2",    "h3",
    "h4",    "h5",    "h6",  "a",  "code",   "pre",     "blockquote", "table", "thead",
    "tbody", "tfoot", "tr",  "td", "th",     "caption",
});
constexpr auto kAttributes = std::to_array<std::string_view>(
    {"class", "title", "style", "href", "rel", "colspan", "rowspan"});

template <std::size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view name) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// `property:value;...` with known properties only, and no escapes or url().
void CheckStyle(std::string_view style) {
  constexpr auto kProperties =
      std::to_array<std::string_view>({"color", "background-color", "display", "font-weight",
                                       "font-style", "text-align", "text-decoration"});
  CALLREC_FUZZ_CHECK(style.find('\\') == std::string_view::npos);
  // A bare word is a (perhaps unknown) colour name; only a function can fetch.
  CALLREC_FUZZ_CHECK(style.find("url(") == std::string_view::npos);
  CALLREC_FUZZ_CHECK(style.find("expression(") == std::string_view::npos);
  std::size_t start = 0;
  while (start < style.size()) {
    std::size_t end = style.find(';', start);
    if (end == std::string_view::npos) end = style.size();
    const std::string_view declaration = style.substr(start, end - start);
    const std::size_t colon = declaration.find(':');
    CALLREC_FUZZ_CHECK(colon != std::string_view::npos);
    CALLREC_FUZZ_CHECK(In(kProperties, declaration.substr(0, colon)));
    start = end + 1;
  }
}

// Reads the sanitised markup as a browser would and checks it holds nothing
// but the allowed subset.
void CheckSafe(std::string_view html) {
  std::vector<std::string> open;
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    CALLREC_FUZZ_CHECK(c != '>' && c != '"' && c != '\'');  // text is escaped
    if (c != '<') {
      ++i;
      continue;
    }
    ++i;
    const bool closing = i < html.size() && html[i] == '/';
    if (closing) ++i;
    const std::size_t name_start = i;
    while (i < html.size() && NameChar(html[i])) ++i;
    const std::string name(html.substr(name_start, i - name_start));
    CALLREC_FUZZ_CHECK(In(kElements, name));
    if (closing) {
      CALLREC_FUZZ_CHECK(!open.empty() && open.back() == name);
      open.pop_back();
      CALLREC_FUZZ_CHECK(i < html.size() && html[i] == '>');
      ++i;
      continue;
    }
    // Attributes: ` key="value"`, the value escaped.
    while (i < html.size() && html[i] == ' ') {
      ++i;
      const std::size_t key_start = i;
      while (i < html.size() && NameChar(html[i])) ++i;
      const std::string_view key = html.substr(key_start, i - key_start);
      CALLREC_FUZZ_CHECK(In(kAttributes, key));
      CALLREC_FUZZ_CHECK(html.substr(i, 2) == "=\"");
      i += 2;
      const std::size_t end = html.find('"', i);
      CALLREC_FUZZ_CHECK(end != std::string_view::npos);
      const std::string_view value = html.substr(i, end - i);
      CALLREC_FUZZ_CHECK(value.find_first_of("<>'") == std::string_view::npos);
      if (key == "href") {
        CALLREC_FUZZ_CHECK(name == "a");
        const std::string scheme = Lower(value.substr(0, 8));
        CALLREC_FUZZ_CHECK(scheme.starts_with("http://") || scheme.starts_with("https://"));
      }
      if (key == "style") CheckStyle(value);
      i = end + 1;
    }
    CALLREC_FUZZ_CHECK(i < html.size() && html[i] == '>');
    ++i;
    if (name != "br" && name != "hr") open.push_back(name);
  }
  CALLREC_FUZZ_CHECK(open.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string once = flow::SanitiseHtml(fuzz::AsText(data, size));
  CheckSafe(once);
  // Sanitised markup stays safe when it goes round again (an attribute copied
  // from one contact to another).
  CheckSafe(flow::SanitiseHtml(once));
  return 0;
}
