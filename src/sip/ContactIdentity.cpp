#include "sip/ContactIdentity.hpp"
#include "core/Text.hpp"

#include <openssl/evp.h>

#include <array>

namespace callrec::sip {
namespace {

std::optional<std::string> ValidHeader(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  const std::string_view value = core::Trim(*header, " \t");
  if (!IsValidContactId(value)) return std::nullopt;
  return std::string(value);
}

}  // namespace

bool IsValidContactId(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (const char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string StableId(std::string_view seed) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(seed.data(), seed.size(), digest.data(), &length, EVP_sha256(), nullptr);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x80);  // version 8
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 9562 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 0x0f];
  }
  return id;
}

ContactIdentity DeriveIdentity(std::optional<std::string_view> contact_id_header,
                               std::optional<std::string_view> initial_contact_id_header,
                               const std::optional<RsMetadata>& metadata,
                               std::string_view call_id) {
  ContactIdentity identity;
  if (auto header = ValidHeader(contact_id_header)) {
    identity.contact_id = std::move(*header);
  } else if (metadata && !metadata->session_id.empty()) {
    identity.contact_id = StableId("session:" + metadata->session_id);
  } else {
    identity.contact_id = StableId("call-id:" + std::string(call_id));
  }
  if (auto header = ValidHeader(initial_contact_id_header)) {
    identity.initial_contact_id = std::move(*header);
  } else if (metadata && !metadata->group_id.empty()) {
    identity.initial_contact_id = StableId("group:" + metadata->group_id);
  } else {
    identity.initial_contact_id = identity.contact_id;
  }
  return identity;
}

}  // namespace callrec::sip
