#pragma once

#include <string>
#include <string_view>

namespace callrec::core {

// ASCII case mapping, whatever the process's locale: protocol tokens (SIP and
// HTTP header names, SDP attributes, HTML tags) are ASCII, and a locale must
// not change how they compare.
std::string AsciiLower(std::string_view text);
std::string AsciiUpper(std::string_view text);

// `text` without the `blanks` at either end (by default space, tab, CR, LF).
std::string_view Trim(std::string_view text, std::string_view blanks = " \t\r\n");

// `text` as character data or an attribute value in XML or HTML: & < > " '
// escaped (the apostrophe as &#39;, which both read).
std::string EscapeMarkup(std::string_view text);

}  // namespace callrec::core
