#pragma once

#include <string>
#include <string_view>

namespace callrec::aws {

// RFC 3986 percent-encoding as SigV4 defines it: everything but unreserved
// characters (and '/' when `keep_slash`) becomes %XX with uppercase hex.
std::string UriEncode(std::string_view text, bool keep_slash);
// Decodes %XX sequences; malformed ones are kept as they are.
std::string PercentDecode(std::string_view text);

}  // namespace callrec::aws
