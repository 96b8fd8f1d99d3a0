#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sip/RsMetadata.hpp"

namespace callrec::sip {

struct ContactIdentity {
  std::string contact_id, initial_contact_id;
};

// ContactId: the header (e.g. X-Contact-Id) when valid (1..256 printable ASCII
// characters, no spaces), else StableId of the SIPREC session id, else of the
// Call-ID -- so a re-INVITE, or an SRC retrying the same recording session,
// lands on the same contact.
// InitialContactId: the header when valid, else StableId of the SIPREC group id
// (a transferred call keeps its group, so its contacts share the chain), else
// the ContactId.
ContactIdentity DeriveIdentity(std::optional<std::string_view> contact_id_header,
                               std::optional<std::string_view> initial_contact_id_header,
                               const std::optional<RsMetadata>& metadata, std::string_view call_id);

// A UUID-shaped id (RFC 9562 version 8, "xxxxxxxx-xxxx-8xxx-yxxx-xxxxxxxxxxxx")
// from the SHA-256 of the seed: the same seed always gives the same id.
std::string StableId(std::string_view seed);

// 1..256 characters, each printable ASCII and not a space.
bool IsValidContactId(std::string_view id);

}  // namespace callrec::sip
