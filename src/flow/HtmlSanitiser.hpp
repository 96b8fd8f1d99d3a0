#pragma once

#include <string>
#include <string_view>

#include "core/Text.hpp"

namespace callrec::flow {

// Attribute text rendered into the agent's page as HTML (callRecordingHTML,
// a Cards view's TemplateString) reduced to a safe subset: text, p, span, div,
// b, strong, i, em, u, s, small, br, hr, ul, ol, li, h1-h6, blockquote, code,
// pre, tables, and a with an absolute http(s) href. Attributes kept: class,
// title, style (color, background-color, display, font-weight, font-style,
// text-align, text-decoration with plain values only), href on a, colspan and
// rowspan on cells. script, style, iframe, object and the like go with their
// content; other unknown elements are replaced by their content; comments,
// event handlers and every other URL are dropped. Text is re-escaped, so the
// result is well-formed whatever the input was.
std::string SanitiseHtml(std::string_view html);

// Text escaped for HTML (&, <, >, ", ').
inline std::string EscapeHtml(std::string_view text) {
  return core::EscapeMarkup(text);
}

}  // namespace callrec::flow
