#pragma once

#include <sofia-sip/sip.h>

#include <optional>
#include <string>
#include <string_view>

namespace callrec::sip {

// What callrec reads from a request sofia-sip has parsed, as plain strings.
struct SipRequestView {
  std::string call_id;
  std::string content_type;    // full value with parameters, "" when absent
  std::string_view body;       // points into the message; valid during the event
  std::string source_address;  // Via received=, else Via host
  bool siprec_option = false;  // Require or Supported lists "siprec"
  bool src_contact = false;    // Contact carries +sip.src
  // The request came over TLS: its top Via says SIP/2.0/TLS. sofia-sip's nta
  // drops a request whose top Via names another transport than the one it
  // came over ("Via check: invalid transport"), so a client cannot claim TLS
  // over TCP or UDP (tests/interop/test_sip_tls.py proves it).
  bool over_tls = false;
};

SipRequestView ViewRequest(const sip_t* sip);

// The header fields sofia-sip parsed into the message, in its chain: each
// field line counts once, and once more per extra value of a comma-separated
// Via, Contact, Route or Record-Route (sofia makes each value a header);
// unparsable and unknown fields count too. Not the request line, the blank
// line or the body.
std::size_t HeaderFieldCount(const sip_t* sip);

// An extension header's value (case-insensitive name), e.g. X-Contact-Id.
std::optional<std::string> ExtensionHeader(const sip_t* sip, std::string_view name);

// "399 callrec \"text\"" for a Warning header; quotes and backslashes escaped.
std::string WarningValue(std::string_view text);

}  // namespace callrec::sip
