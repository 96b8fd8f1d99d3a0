#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/Result.hpp"
#include "sip/SipError.hpp"

namespace callrec::sip {

struct Participant {
  std::string id;                  // participant_id (RFC 7865) or id (pre-RFC)
  std::string aor;                 // nameID aor as sent (may lack "sip:")
  std::string name;                // nameID/name text, trimmed
  std::vector<std::string> sends;  // stream ids this participant sends
  std::vector<std::string> receives;
  std::optional<bool> calling_party;  // Oracle/Acme apkt:callingParty
};

struct RsMetadata {
  std::string session_id;  // <session session_id=...> (RFC) or <session id=...> (pre-RFC)
  std::string
      group_id;  // <group group_id=...>, pre-RFC <group id=...>, else <group-ref>; "" when absent
  std::vector<Participant> participants;             // document order
  std::map<std::string, std::string> stream_labels;  // stream id -> label
  std::string call_from, call_to;  // Ribbon/Sonus callData <fromhdr>/<tohdr> as sent, else ""
};

inline constexpr std::size_t kMaxMetadataXmlBytes = 256 * 1024;
inline constexpr int kMaxMetadataDepth = 32;

// Parses RFC 7865 recording metadata, and the pre-RFC form Oracle/Acme SBCs
// send (`id=`/`session=` attributes, <send> inside <participant>). Elements are
// matched by local name in `urn:ietf:params:xml:ns:recording:1` or
// `urn:ietf:params:xml:ns:recording`, with any prefix. Extensions read:
// apkt:callingParty and callData fromhdr/tohdr, in any namespace.
//
// Safe on hostile input: nothing is fetched (no network, no DTD loading), no
// entity is expanded, a DOCTYPE is refused, size and depth are bounded,
// libxml2 prints nothing. Refusals (400): not well-formed, root not
// <recording> in those namespaces, DOCTYPE, too deep; over 256 KiB: 413.
core::Result<RsMetadata, SipError> ParseRsMetadata(std::string_view xml);

}  // namespace callrec::sip
