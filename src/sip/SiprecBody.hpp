#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/Result.hpp"
#include "sip/SipError.hpp"

namespace callrec::sip {

// The two parts of a SIPREC INVITE body (RFC 7866 section 9): the SDP offer and
// the recording metadata (RFC 7865).
struct SiprecBody {
  std::string sdp;
  std::optional<std::string> metadata_xml;
  bool multipart = false;                // the body was multipart (not plain SDP)
  std::vector<std::string> other_parts;  // content types of the parts ignored (for the log)
};

// Bounds on what a client may send; larger bodies are refused with 413.
inline constexpr std::size_t kMaxBodyBytes = 256 * 1024;
inline constexpr std::size_t kMaxSdpBytes = 32 * 1024;
inline constexpr std::size_t kMaxMetadataPartBytes = 64 * 1024;
inline constexpr std::size_t kMaxBodyParts = 16;

// Splits an INVITE / re-INVITE / UPDATE body. `content_type` is the full
// Content-Type header value (e.g. `multipart/mixed;boundary=unique-boundary-1`).
//
// multipart/mixed: finds the application/sdp part and the application/rs-metadata
// (or rs-metadata+xml) part in any order and ignores other parts. Tolerates CRLF
// or LF, a preamble, an epilogue, padding after delimiters, a quoted boundary,
// headers without a space after the colon. A part's own Content-Length is ignored
// (BroadWorks sends wrong ones). The closing delimiter may be missing (bodies from
// Cisco CUBE, Ribbon and SEMS as captured end without it) as long as the parts we
// use are provably whole: the SDP part must be followed by a delimiter, and a
// truncated metadata part fails ParseRsMetadata's well-formedness check.
// Plain application/sdp: the SDP only, no metadata (the caller decides whether
// that is SIPREC).
//
// Refusals: 415 for another content type or no SDP part; 400 for a broken
// multipart (no boundary, no delimiter, no parts, two SDP or metadata parts, a
// body ending inside the SDP part); 413 beyond the bounds above.
core::Result<SiprecBody, SipError> SplitBody(std::string_view content_type, std::string_view body);

// The parameter `name` (case-insensitive) of a header value such as
// `multipart/mixed; boundary="x"`, unquoted; nullopt when absent.
std::optional<std::string> HeaderParameter(std::string_view header_value, std::string_view name);

// The media type of a Content-Type value, lower-case, without parameters.
std::string MediaType(std::string_view content_type);

}  // namespace callrec::sip
