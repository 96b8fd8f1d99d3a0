#include "flow/HtmlSanitiser.hpp"
#include "core/Text.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <memory>

namespace callrec::flow {
namespace {

// HTML's blanks (ASCII whitespace, form feed included).
constexpr std::string_view kBlanks = " \t\n\r\f";

// Deeper markup keeps its text but loses its tags: the output never nests
// further than this, whatever libxml2 accepted.
constexpr int kMaxDepth = 32;

constexpr auto kAllowed = std::to_array<std::string_view>({
    "p",     "span",  "div", "b",  "strong", "i",       "em",         "u",     "s",
    "small", "br",    "hr",  "ul", "ol",     "li",      "h1",         "h2",    "h3",
    "h4",    "h5",    "h6",  "a",  "code",   "pre",     "blockquote", "table", "thead",
    "tbody", "tfoot", "tr",  "td", "th",     "caption",
});
constexpr auto kVoid = std::to_array<std::string_view>({"br", "hr"});
// Elements whose content is code, another document or a form control, not
// text for the agent: removed with everything in them.
constexpr auto kDroppedWithContent = std::to_array<std::string_view>({
    "script", "style",    "iframe",   "frame",    "frameset", "object",    "embed",
    "applet", "noscript", "noembed",  "noframes", "template", "svg",       "math",
    "title",  "head",     "textarea", "select",   "xmp",      "plaintext", "link",
    "meta",   "base",     "audio",    "video",    "canvas",
});

template <std::size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view name) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

bool IsColour(std::string_view value) {
  if (value.empty() || value.size() > 40) return false;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    return true;  // a named colour, transparent, currentcolor
  }
  if (value.front() == '#') {
    const std::string_view hex = value.substr(1);
    const bool digits = std::all_of(hex.begin(), hex.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    return digits && (hex.size() == 3 || hex.size() == 4 || hex.size() == 6 || hex.size() == 8);
  }
  for (std::string_view function : {"rgb(", "rgba(", "hsl(", "hsla("}) {
    if (!value.starts_with(function) || value.back() != ')') continue;
    const std::string_view inside =
        value.substr(function.size(), value.size() - function.size() - 1);
    return std::all_of(inside.begin(), inside.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == ',' || c == '%';
    });
  }
  return false;
}

template <std::size_t N>
bool OneOf(std::string_view value, const std::array<std::string_view, N>& allowed) {
  return In(allowed, value);
}

// Keeps the declarations whose property and value are on the list; values are
// plain keywords, numbers and colours, so no url(), expression() or escapes.
std::string SanitiseStyle(std::string_view style) {
  std::string out;
  std::size_t start = 0;
  while (start <= style.size()) {
    std::size_t end = style.find(';', start);
    if (end == std::string_view::npos) end = style.size();
    const std::string_view declaration = style.substr(start, end - start);
    start = end + 1;
    const std::size_t colon = declaration.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string property =
        core::AsciiLower(core::Trim(declaration.substr(0, colon), kBlanks));
    const std::string value = core::AsciiLower(core::Trim(declaration.substr(colon + 1), kBlanks));
    bool ok = false;
    if (property == "color" || property == "background-color") {
      ok = IsColour(value);
    } else if (property == "display") {
      ok = OneOf(value, std::array<std::string_view, 6>{"inline", "inline-block", "block", "none",
                                                        "flex", "inline-flex"});
    } else if (property == "font-weight") {
      ok = OneOf(value, std::array<std::string_view, 13>{"normal", "bold", "bolder", "lighter",
                                                         "100", "200", "300", "400", "500", "600",
                                                         "700", "800", "900"});
    } else if (property == "font-style") {
      ok = OneOf(value, std::array<std::string_view, 3>{"normal", "italic", "oblique"});
    } else if (property == "text-align") {
      ok = OneOf(value, std::array<std::string_view, 6>{"left", "right", "center", "justify",
                                                        "start", "end"});
    } else if (property == "text-decoration") {
      ok = OneOf(value,
                 std::array<std::string_view, 4>{"none", "underline", "line-through", "overline"});
    }
    if (!ok) continue;
    if (!out.empty()) out += ';';
    out += property + ':' + value;
  }
  return out;
}

bool IsHttpUrl(std::string_view url) {
  const std::string lower = core::AsciiLower(url);
  if (!lower.starts_with("http://") && !lower.starts_with("https://")) return false;
  return std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' ||
           c == '>' || c == '\\';
  });
}

std::string AttributeValue(xmlAttr* attribute) {
  xmlChar* raw = xmlNodeListGetString(attribute->doc, attribute->children, 1);
  std::string value = raw ? reinterpret_cast<const char*>(raw) : "";
  xmlFree(raw);
  return value;
}

std::string SafeAttributes(xmlNode* element, std::string_view name) {
  std::string out;
  auto add = [&](std::string_view key, std::string_view value) {
    out += ' ';
    out += key;
    out += "=\"";
    out += EscapeHtml(value);
    out += '"';
  };
  for (xmlAttr* attribute = element->properties; attribute; attribute = attribute->next) {
    const std::string key = core::AsciiLower(reinterpret_cast<const char*>(attribute->name));
    const std::string value = AttributeValue(attribute);
    if (key == "class") {
      std::string kept;
      for (char c : value) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == ' ') {
          kept += c;
        }
      }
      if (!core::Trim(kept, kBlanks).empty()) add(key, core::Trim(kept, kBlanks));
    } else if (key == "title") {
      add(key, value);
    } else if (key == "style") {
      const std::string style = SanitiseStyle(value);
      if (!style.empty()) add(key, style);
    } else if (key == "href" && name == "a") {
      const std::string_view url = core::Trim(value, kBlanks);
      if (IsHttpUrl(url)) {
        add(key, url);
        add("rel", "noopener noreferrer");
      }
    } else if ((key == "colspan" || key == "rowspan") && (name == "td" || name == "th")) {
      if (!value.empty() && value.size() <= 3 &&
          std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        add(key, value);
      }
    }
  }
  return out;
}

void SerialiseChildren(xmlNode* first, std::string& out, int depth);

void Serialise(xmlNode* node, std::string& out, int depth) {
  if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
    if (node->content) out += EscapeHtml(reinterpret_cast<const char*>(node->content));
    return;
  }
  if (node->type != XML_ELEMENT_NODE) return;  // comments, processing instructions, DTDs
  const std::string name = core::AsciiLower(reinterpret_cast<const char*>(node->name));
  if (In(kDroppedWithContent, name)) return;
  if (!In(kAllowed, name) || depth >= kMaxDepth) {
    SerialiseChildren(node->children, out, depth);
    return;
  }
  out += '<' + name + SafeAttributes(node, name) + '>';
  if (In(kVoid, name)) return;
  SerialiseChildren(node->children, out, depth + 1);
  out += "</" + name + '>';
}

void SerialiseChildren(xmlNode* first, std::string& out, int depth) {
  for (xmlNode* node = first; node != nullptr; node = node->next) Serialise(node, out, depth);
}

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

}  // namespace

std::string SanitiseHtml(std::string_view html) {
  static const bool initialised = [] {
    xmlInitParser();
    return true;
  }();
  (void)initialised;
  // Contact attributes are at most 32 KiB; anything far larger is not a badge.
  constexpr std::size_t kMaxInput = 1 << 20;
  if (core::Trim(html, kBlanks).empty() || html.size() > kMaxInput) return {};
  // Parsed inside a wrapper so that a fragment stays a fragment (no implied
  // <p> around leading text); the wrapper itself is not written out.
  std::string wrapped = "<div>";
  wrapped.append(html);
  wrapped += "</div>";
  std::unique_ptr<xmlDoc, DocFree> doc(htmlReadMemory(
      wrapped.data(), static_cast<int>(wrapped.size()), nullptr, "UTF-8",
      HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NOIMPLIED));
  if (!doc) return EscapeHtml(html);
  std::string out;
  bool wrapper_seen = false;
  for (xmlNode* node = doc->children; node != nullptr; node = node->next) {
    if (!wrapper_seen && node->type == XML_ELEMENT_NODE) {
      wrapper_seen = true;
      SerialiseChildren(node->children, out, 0);
    } else {
      Serialise(node, out, 0);  // markup that closed the wrapper early
    }
  }
  return out;
}

}  // namespace callrec::flow
