// An INVITE body as sip::SiprecServer plans a session from it: the input's first
// line is the Content-Type header value, the rest the body. SplitBody (multipart
// or plain SDP), then ParseOffer, ParseRsMetadata, MapTracks, DeriveIdentity and
// BuildAnswer on what it found (fuzz/SiprecChecks.hpp).
#include <cstddef>
#include <cstdint>

#include "SiprecChecks.hpp"

using namespace callrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::AsText(data, size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  std::string_view content_type = input.substr(0, newline);
  if (content_type.ends_with('\r')) content_type.remove_suffix(1);
  const std::string_view body = input.substr(newline + 1);

  // The header helpers see every Content-Type as sent.
  const std::string media_type = sip::MediaType(content_type);
  for (char c : media_type) CALLREC_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  (void)sip::HeaderParameter(content_type, "boundary");

  fuzz::PlanSession(content_type, body, "192.0.2.9");
  return 0;
}
